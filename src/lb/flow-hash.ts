/**
 * The load balancer's hashes. Maglev and source hashing only work if every
 * node maps the same flow (or client) to the same backend, so every hash
 * here is a fixed function of its input: fixed seeds, no Math.random, no
 * dependence on platform, locale or process. All are MurmurHash3 x86_32
 * (Appleby) — the block mix and finaliser — in 32-bit integer math
 * (Math.imul, >>>).
 *
 * lbFlowHash and hashIp run once per new flow, so they take numbers, not
 * buffers, and allocate nothing. hashString is for table builds only.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * Seeds. They differ from packet/vxlan.ts's flowHash seed (0x9747b28c) so
 * that the backend a flow lands on is independent of the VXLAN source port
 * (and so the underlay ECMP path) the same bits would otherwise pick.
 */
const LB_FLOW_SEED = 0x3c6ef372;
const SOURCE_SEED = 0xa54ff53a;

/** One 4-byte block of MurmurHash3 x86_32 folded into h. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finaliser: every input bit reaches every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uint32 hash of a flow's 5-tuple (addresses as uint32, ports as
 * uint16, protocol as its IP number): MurmurHash3 of the four blocks
 * src, dst, sport<<16|dport, proto. Maglev indexes its table with it.
 */
export function lbFlowHash(proto: number, src: number, sport: number, dst: number, dport: number): number {
  let h = LB_FLOW_SEED;
  h = mixBlock(h, src);
  h = mixBlock(h, dst);
  h = mixBlock(h, ((sport & 0xffff) << 16) | (dport & 0xffff));
  h = mixBlock(h, proto & 0xff);
  return fmix32(h ^ 16);
}

/** A uint32 hash of one IPv4 address (uint32), for source hashing (`sh`). */
export function hashIp(ip: number): number {
  return fmix32(mixBlock(SOURCE_SEED, ip) ^ 4);
}

/** MurmurHash3 x86_32 of bytes, exactly as the reference C (little-endian blocks). */
export function murmur3(bytes: Uint8Array, seed: number): number {
  const len = bytes.length;
  const tail = len & ~3;
  let h = seed | 0;
  for (let i = 0; i < tail; i += 4) {
    h = mixBlock(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  const rest = len & 3;
  if (rest !== 0) {
    // the last 1–3 bytes, as the reference's switch fall-through reads them
    let k = bytes[tail];
    if (rest > 1) k |= bytes[tail + 1] << 8;
    if (rest > 2) k |= bytes[tail + 2] << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return fmix32(h ^ len);
}

const utf8 = new TextEncoder();

/** MurmurHash3 x86_32 of a string's UTF-8 bytes. Allocates: table builds only. */
export function hashString(s: string, seed: number): number {
  return murmur3(utf8.encode(s), seed);
}
