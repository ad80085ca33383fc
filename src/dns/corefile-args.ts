import { canonical, cidrToReverseZones, fqdn, isValidName, parseIp } from './names.js';
import { CorefileError, type Directive } from './types.js';

/**
 * Reading plugin arguments the way CoreDNS's setup functions do (pure):
 * Go durations, host:port addresses, zones (CIDRs become reverse zones),
 * numbers — every failure a CorefileError naming the directive's line.
 */

export function fail(d: Pick<Directive, 'line'>, message: string): never {
  throw new CorefileError(message, d.line);
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration ("5s", "1m30s", "1.5h", "300ms", "0") in milliseconds; null if malformed. */
export function parseDuration(s: string): number | null {
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const m = /^([+-]?)((?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (!m) return null;
  let total = 0;
  for (const [, num, unit] of m[2].matchAll(/([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/g))
    total += Number(num) * UNIT_MS[unit];
  return m[1] === '-' ? -total : total;
}

export function durationArg(d: Directive, plugin: string, what: string, s: string): number {
  const ms = parseDuration(s);
  if (ms === null) fail(d, `${plugin}: ${what}: not a duration: '${s}' (e.g. 5s, 1m30s)`);
  return ms;
}

/** A whole number written in decimal (strconv.Atoi), else the error. */
export function intArg(d: Directive, plugin: string, what: string, s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) fail(d, `${plugin}: ${what} must be a whole number, got '${s}'`);
  return Number(s);
}

/** `host:port` as net.SplitHostPort splits it (":8080", "localhost:9153", "[::1]:53"), with a numeric port. */
export function addrArg(d: Directive, plugin: string, s: string): string {
  const m = /^(\[[^\]]*\]|[^:[\]]*):([0-9]+)$/.exec(s);
  if (!m || Number(m[2]) > 65535) fail(d, `${plugin}: address must be host:port (e.g. :8080), got '${s}'`);
  return s;
}

/**
 * A zone as a plugin argument or server block key names it: lowercased and
 * fully qualified ("cluster.local" → "cluster.local."); a CIDR becomes its
 * reverse zones ("10.96.0.0/12" → 16 zones). Invalid → CorefileError.
 */
export function zoneArg(d: Pick<Directive, 'line'>, plugin: string, s: string): string[] {
  if (s.includes('/')) {
    const zones = cidrToReverseZones(s);
    if (!zones) fail(d, `${plugin}: invalid CIDR '${s}'`);
    return zones.map(fqdn);
  }
  if (s !== '.' && (!isValidName(s) || s.startsWith('.') || parseIp(s))) fail(d, `${plugin}: not a valid zone: '${s}'`);
  return [fqdn(canonical(s))];
}

export const zonesArg = (d: Directive, plugin: string, args: string[]): string[] => [
  ...new Set(args.flatMap((a) => zoneArg(d, plugin, a))),
];

/** No arguments allowed. */
export function noArgs(d: Directive, plugin: string): void {
  if (d.args.length) fail(d, `${plugin}: '${d.name}' takes no arguments, got '${d.args.join(' ')}'`);
}

/** No `{ }` block allowed. */
export function noBlock(d: Directive, plugin: string): void {
  if (d.block.length) fail(d.block[0], `${plugin}: unknown property '${d.block[0].name}'`);
}

export function argCount(d: Directive, plugin: string, min: number, max: number): void {
  const n = d.args.length;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    fail(d, `${plugin}: '${d.name}' takes ${want} argument${want === '1' ? '' : 's'}, got ${n}`);
  }
}
