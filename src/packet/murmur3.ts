// MurmurHash3 x86_32 (Appleby): its 4-byte block mix and its finaliser, in
// 32-bit integer math (Math.imul, >>>). The one home of the hash that the
// VXLAN source port (vxlan.ts), the Service load balancer (lb/flow-hash.ts),
// conntrack's index and the cloud load balancer's node choice all use, each
// with a seed of its own.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** One 4-byte block `k` folded into the running hash `h` (returns a signed int32). */
export function murmurMixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The finaliser (fmix32): every input bit reaches every output bit. Returns a uint32. */
export function murmurFinalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of bytes, exactly as the reference C (little-endian blocks). */
export function murmur3(bytes: Uint8Array, seed: number): number {
  const len = bytes.length;
  const tail = len & ~3;
  let h = seed | 0;
  for (let i = 0; i < tail; i += 4) {
    h = murmurMixBlock(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
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
  return murmurFinalize(h ^ len);
}
