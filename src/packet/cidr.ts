// CIDR arithmetic, in one place: the agents' pod CIDRs, the Service range,
// NetworkPolicy ipBlocks and the API server's validation all parse and
// compare prefixes here. IPv4 prefixes are numbers (network, prefix length),
// as the pipeline's tables keep them; the validation of any CIDR text (IPv6
// included, as an ipBlock may be) is ipaddr.js's.

import ipaddr from 'ipaddr.js';
import { ipv4ToString, parseIpv4 } from './ipv4-address.js';

export interface Cidr {
  network: number;
  prefixLen: number;
}

export type CidrErrorCode = 'ERR_BAD_CIDR';

export class CidrError extends Error {
  override readonly name = 'CidrError';
  readonly code: CidrErrorCode = 'ERR_BAD_CIDR';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function cidrMask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return (ip & cidrMask(c.prefixLen)) >>> 0 === c.network;
}

const IPV4_CIDR = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/;

/**
 * "10.244.1.0/24" → {network, prefixLen}. Strict by default: the host bits
 * must be zero. With `maskHostBits` the address is masked instead
 * ("10.0.0.5/8" → 10.0.0.0/8), as Kubernetes' ParseCIDR does for ipBlocks.
 */
export function parseCidr(s: string, opts: { maskHostBits?: boolean } = {}): Cidr {
  const m = IPV4_CIDR.exec(s.trim());
  if (!m) throw new CidrError(`"${s}" is not an IPv4 CIDR like 10.244.1.0/24`);
  const prefixLen = Number(m[2]);
  if (prefixLen > 32) throw new CidrError(`"${s}": prefix length above 32`);
  let ip: number;
  try {
    ip = parseIpv4(m[1]);
  } catch (err) {
    throw new CidrError((err as Error).message, { cause: err }); // parseIpv4's words: which octet is wrong
  }
  const network = (ip & cidrMask(prefixLen)) >>> 0;
  if (network !== ip && !opts.maskHostBits)
    throw new CidrError(`"${s}": host bits set (did you mean ${ipv4ToString(network)}/${prefixLen}?)`);
  return { network, prefixLen };
}

export function formatCidr(c: Cidr): string {
  return `${ipv4ToString(c.network)}/${c.prefixLen}`;
}

/** The n-th address of a CIDR (1 = the gateway in podwire's convention). */
export function cidrHost(c: Cidr, n: number): number {
  return (c.network + n) >>> 0;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefixLen);
}

/** Any CIDR text, IPv4 or IPv6 (an API object may hold either), as written. */
export interface AnyCidr {
  family: 4 | 6;
  address: string;
  prefixLen: number;
}

/** Parse an IPv4 or IPv6 CIDR as Kubernetes' validation reads it; null when it is not one. */
export function parseAnyCidr(s: string): AnyCidr | null {
  try {
    const [addr, prefixLen] = ipaddr.parseCIDR(s);
    return { family: addr.kind() === 'ipv4' ? 4 : 6, address: addr.toString(), prefixLen };
  } catch {
    return null;
  }
}

/** Does `inner`'s address lie inside `outer` (same family)? */
export function anyCidrCovers(outer: AnyCidr, inner: AnyCidr): boolean {
  if (outer.family !== inner.family) return false;
  const o = ipaddr.parse(outer.address);
  return ipaddr.parse(inner.address).match([o, outer.prefixLen] as [never, number]);
}
