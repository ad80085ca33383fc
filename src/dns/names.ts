import ipaddr from 'ipaddr.js';

/**
 * Domain names and addresses as the cluster DNS compares them (pure).
 *
 * A name here is written without its trailing dot, as dns-packet reads and
 * writes them ("cluster.local"); the root is "". Comparisons are
 * case-insensitive (RFC 4343): `canonical` lowercases, and callers keep the
 * spelling they were asked with for owner names.
 */

/** `name` without one trailing dot ("cluster.local." → "cluster.local", "." → ""). */
export const trimDot = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name);

/** Lowercase, no trailing dot: the form names are keyed by. */
export const canonical = (name: string): string => trimDot(name).toLowerCase();

/** `name` with a trailing dot, as a Corefile prints zones ("" → "."). */
export const fqdn = (name: string): string => (name === '' || name === '.' ? '.' : `${trimDot(name)}.`);

/** RFC 1035 length limits: labels 1..63 octets, name ≤ 253 characters (without the trailing dot). */
export function isValidName(name: string): boolean {
  const n = trimDot(name);
  if (n === '') return true;
  if (n.length > 253) return false;
  for (const label of n.split('.')) if (label.length === 0 || label.length > 63) return false;
  return true;
}

/** Is `name` equal to or below `zone`? Both canonical; "" is the root. */
export const inZone = (name: string, zone: string): boolean =>
  zone === '' || name === zone || name.endsWith(`.${zone}`);

/** The longest of `zones` that holds `name` (all canonical), or null. */
export function matchZone(name: string, zones: readonly string[]): string | null {
  let best: string | null = null;
  for (const z of zones) if (inZone(name, z) && (best === null || z.length > best.length)) best = z;
  return best;
}

/** The labels of `name` left of `zone` ("a.b.svc" for "a.b.svc.cluster.local" in "cluster.local"). */
export function relativeTo(name: string, zone: string): string {
  if (name === zone) return '';
  return zone === '' ? name : name.slice(0, name.length - zone.length - 1);
}

export interface Ip {
  family: 4 | 6;
  /** canonical text: dotted quad, or RFC 5952 for IPv6 */
  text: string;
}

/** A strictly written IPv4 (four decimal parts) or IPv6 address (no zone index), canonicalised; else null. */
export function parseIp(s: string): Ip | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return { family: 4, text: ipaddr.IPv4.parse(s).toString() };
  if (s.includes(':') && !s.includes('%') && ipaddr.IPv6.isValid(s))
    return { family: 6, text: ipaddr.IPv6.parse(s).toString() };
  return null;
}

/** The 32 hex digits of an IPv6 address. */
const v6hex = (ip: string): string =>
  ipaddr.IPv6.parse(ip)
    .toNormalizedString()
    .split(':')
    .map((g) => g.padStart(4, '0'))
    .join('');

const REVERSE_V4 = 'in-addr.arpa';
const REVERSE_V6 = 'ip6.arpa';

/** Does `name` (canonical) lie in in-addr.arpa or ip6.arpa? */
export const isReverseName = (name: string): boolean => inZone(name, REVERSE_V4) || inZone(name, REVERSE_V6);

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; 32 nibbles of ip6.arpa → the IPv6 address; anything shorter or malformed → null. */
export function reverseToIp(name: string): string | null {
  const n = canonical(name);
  if (n.endsWith(`.${REVERSE_V4}`)) {
    const parts = relativeTo(n, REVERSE_V4).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return null;
    return parts.reverse().join('.');
  }
  if (n.endsWith(`.${REVERSE_V6}`)) {
    const nibbles = relativeTo(n, REVERSE_V6).split('.');
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return null;
    const hex = nibbles.reverse().join('');
    const groups = hex.match(/.{4}/g)!;
    return ipaddr.IPv6.parse(groups.join(':')).toString();
  }
  return null;
}

/** "1.2.3.4" → "4.3.2.1.in-addr.arpa", IPv6 → its 32 nibbles under ip6.arpa; not an address → null. */
export function ipToReverse(ip: string): string | null {
  const a = parseIp(ip);
  if (!a) return null;
  if (a.family === 4) return `${a.text.split('.').reverse().join('.')}.${REVERSE_V4}`;
  const hex = v6hex(a.text);
  return `${[...hex].reverse().join('.')}.${REVERSE_V6}`;
}

/**
 * The reverse zones a CIDR stands for, as CoreDNS expands a Corefile key or
 * a plugin's zone argument: a prefix off the label boundary (8 bits for
 * IPv4, 4 for IPv6) becomes every zone of the next boundary that it covers
 * ("10.96.0.0/12" → 96.10.in-addr.arpa … 111.10.in-addr.arpa). Not a CIDR → null.
 */
export function cidrToReverseZones(cidr: string): string[] | null {
  const slash = cidr.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIp(cidr.slice(0, slash));
  const bitsText = cidr.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(bitsText)) return null;
  const prefix = Number(bitsText);
  const width = ip.family === 4 ? 32 : 128;
  const step = ip.family === 4 ? 8 : 4;
  if (prefix > width) return null;
  const rounded = Math.ceil(prefix / step) * step;
  // the address as digits of the reverse label size (octets or nibbles), network bits kept
  const digits = ip.family === 4 ? ip.text.split('.').map(Number) : [...v6hex(ip.text)].map((h) => parseInt(h, 16));
  const keep = rounded / step;
  const count = 2 ** (rounded - prefix); // zones at the rounded boundary (≤ 128 when step ≤ 8)
  const zones: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = digits.slice(0, keep);
    if (keep > 0) {
      const freeBits = rounded - prefix;
      const mask = (1 << freeBits) - 1;
      d[keep - 1] = (d[keep - 1] & ~mask) | i;
    }
    const labels = d.map((x) => (ip.family === 4 ? String(x) : x.toString(16))).reverse();
    zones.push([...labels, ip.family === 4 ? REVERSE_V4 : REVERSE_V6].join('.'));
  }
  return zones;
}

/** An endpoint's name made from its address, as CoreDNS: 10.0.0.1 → "10-0-0-1", 5678:abcd::1 → "5678-abcd--1" (a trailing "-" gets a "0"). */
export function dashedIp(ip: string): string {
  if (ip.includes('.')) return ip.replace(/\./g, '-');
  const d = ip.replace(/:/g, '-');
  return d.endsWith('-') ? `${d}0` : d;
}

/** The address a pod label spells ("10-244-1-5" → 10.244.1.5, "fd00--1" → fd00::1), as CoreDNS reads it; else null. */
export function ipFromDashed(label: string): Ip | null {
  const isV4 = (label.match(/-/g) ?? []).length === 3 && !label.includes('--');
  return parseIp(isV4 ? label.replace(/-/g, '.') : label.replace(/-/g, ':'));
}
