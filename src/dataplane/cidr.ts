import { parseIpv4, ipv4ToString } from '../packet/index.js';
import { cidrMask, type Cidr } from './tables.js';

export class CidrError extends Error {
  readonly code = 'ERR_BAD_CIDR';
}

/** "10.244.1.0/24" -> {network, prefixLen}; the host bits must be zero. */
export function parseCidr(s: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) throw new CidrError(`"${s}" is not an IPv4 CIDR like 10.244.1.0/24`);
  const prefixLen = Number(m[2]);
  if (prefixLen > 32) throw new CidrError(`"${s}": prefix length above 32`);
  const ip = parseIpv4(m[1]);
  const network = (ip & cidrMask(prefixLen)) >>> 0;
  if (network !== ip)
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
