// IPv4 addresses as text. Inside the dataplane an address is always an
// unsigned 32-bit number; strings exist only at the edges (config, traces).

import { PacketError } from './errors.js';

/** "10.0.0.1". Allocates: for traces and printers. */
export function ipv4ToString(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/**
 * Parses a strict dotted quad into an unsigned 32-bit number. Leading zeros
 * are rejected because inet_aton reads "010" as octal 8. Config-time: throws
 * PacketError ERR_BAD_IPV4.
 */
export function parseIpv4(s: string): number {
  const m = typeof s === 'string' ? IPV4_RE.exec(s) : null;
  if (!m) throw new PacketError('ERR_BAD_IPV4', `not an IPv4 address: ${JSON.stringify(s)}`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}
