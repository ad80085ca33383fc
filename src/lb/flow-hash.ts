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

import { murmur3, murmurFinalize, murmurMixBlock } from '../packet/index.js';

export { murmur3 };

/**
 * Seeds. They differ from packet/vxlan.ts's flowHash seed (0x9747b28c) so
 * that the backend a flow lands on is independent of the VXLAN source port
 * (and so the underlay ECMP path) the same bits would otherwise pick.
 */
const LB_FLOW_SEED = 0x3c6ef372;
const SOURCE_SEED = 0xa54ff53a;

/**
 * A uint32 hash of a flow's 5-tuple (addresses as uint32, ports as
 * uint16, protocol as its IP number): MurmurHash3 of the four blocks
 * src, dst, sport<<16|dport, proto. Maglev indexes its table with it.
 */
export function lbFlowHash(proto: number, src: number, sport: number, dst: number, dport: number): number {
  let h = LB_FLOW_SEED;
  h = murmurMixBlock(h, src);
  h = murmurMixBlock(h, dst);
  h = murmurMixBlock(h, ((sport & 0xffff) << 16) | (dport & 0xffff));
  h = murmurMixBlock(h, proto & 0xff);
  return murmurFinalize(h ^ 16);
}

/** A uint32 hash of one IPv4 address (uint32), for source hashing (`sh`). */
export function hashIp(ip: number): number {
  return murmurFinalize(murmurMixBlock(SOURCE_SEED, ip) ^ 4);
}

const utf8 = new TextEncoder();

/** MurmurHash3 x86_32 of a string's UTF-8 bytes. Allocates: table builds only. */
export function hashString(s: string, seed: number): number {
  return murmur3(utf8.encode(s), seed);
}
