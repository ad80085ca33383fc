import { argCount, durationArg, fail, intArg, noArgs, noBlock, zoneArg, zonesArg } from './corefile-args.js';
import { parseIp } from './names.js';
import type { Directive, ServerBlock } from './types.js';

/**
 * The `cache` and `forward` directives, read as CoreDNS's plugin/cache and
 * plugin/forward setup read them, with their defaults (pure).
 */
export interface CacheOptions {
  zones: string[];
  /** positive answers: capacity, max TTL and min TTL (s) */
  success: { capacity: number; ttl: number; minTtl: number };
  /** NXDOMAIN/NODATA */
  denial: { capacity: number; ttl: number; minTtl: number };
  /** prefetch when a name was asked `amount` times within `durationMs`, at `percentage` % of TTL left; 0 = off */
  prefetch: { amount: number; durationMs: number; percentage: number };
  /** serve expired entries up to this long (ms) while refreshing; 0 = off */
  serveStaleMs: number;
  keepTtl: boolean;
}

export type ForwardTarget = { kind: 'server'; host: string; port: number } | { kind: 'file'; path: string };

export interface ForwardOptions {
  from: string;
  to: ForwardTarget[];
  except: string[];
  policy: 'random' | 'round_robin' | 'sequential';
  /** 0 = unlimited */
  maxConcurrent: number;
  maxFails: number;
  expireMs: number;
  healthCheckMs: number;
  forceTcp: boolean;
  preferUdp: boolean;
}

export function cacheOptions(d: Directive, block?: Pick<ServerBlock, 'zones'>): CacheOptions {
  const P = 'cache';
  const o: CacheOptions = {
    zones: [],
    success: { capacity: 10000, ttl: 3600, minTtl: 5 },
    denial: { capacity: 10000, ttl: 1800, minTtl: 5 },
    prefetch: { amount: 0, durationMs: 60_000, percentage: 10 },
    serveStaleMs: 0,
    keepTtl: false,
  };
  let args = d.args;
  // `cache [TTL] [ZONES...]`: a first argument that looks like a number is the TTL (CoreDNS would take "30s" for a zone).
  if (args.length && /^[-+0-9]/.test(args[0])) {
    const ttl = intArg(d, P, 'TTL (seconds)', args[0]);
    if (ttl <= 0) fail(d, `${P}: cache TTL can not be zero or negative: ${ttl}`);
    o.success.ttl = o.denial.ttl = ttl;
    args = args.slice(1);
  }
  o.zones = args.length ? zonesArg(d, P, args) : (block?.zones ?? ['.']);
  for (const p of d.block) {
    noBlock(p, P);
    switch (p.name) {
      case 'success':
      case 'denial': {
        argCount(p, P, 1, 3);
        const t = o[p.name];
        t.capacity = intArg(p, P, `${p.name} capacity`, p.args[0]);
        if (t.capacity < 0) fail(p, `${P}: ${p.name} capacity can not be negative: ${t.capacity}`);
        if (p.args[1] !== undefined) t.ttl = intArg(p, P, `${p.name} TTL`, p.args[1]);
        if (t.ttl <= 0) fail(p, `${P}: cache TTL can not be zero or negative: ${t.ttl}`);
        if (p.args[2] !== undefined) t.minTtl = intArg(p, P, `${p.name} minimum TTL`, p.args[2]);
        if (t.minTtl < 0) fail(p, `${P}: cache min TTL can not be negative: ${t.minTtl}`);
        break;
      }
      case 'prefetch': {
        argCount(p, P, 1, 3);
        o.prefetch.amount = intArg(p, P, 'prefetch amount', p.args[0]);
        if (o.prefetch.amount < 0) fail(p, `${P}: prefetch amount should be positive: ${o.prefetch.amount}`);
        if (p.args[1] !== undefined) o.prefetch.durationMs = durationArg(p, P, 'prefetch duration', p.args[1]);
        if (p.args[2] !== undefined) {
          const m = /^([0-9]+)%$/.exec(p.args[2]);
          if (!m || Number(m[1]) < 10 || Number(m[1]) > 90)
            fail(p, `${P}: prefetch percentage must be 10%..90%, got '${p.args[2]}'`);
          o.prefetch.percentage = Number(m[1]);
        }
        break;
      }
      case 'serve_stale':
        argCount(p, P, 0, 2);
        o.serveStaleMs = p.args.length ? durationArg(p, P, 'serve_stale', p.args[0]) : 3_600_000;
        if (o.serveStaleMs < 0) fail(p, `${P}: invalid negative duration for serve_stale`);
        if (p.args[1] !== undefined && !['immediate', 'verify'].includes(p.args[1].toLowerCase()))
          fail(p, `${P}: invalid value for serve_stale refresh mode: ${p.args[1]}`);
        break;
      case 'keepttl':
        noArgs(p, P);
        o.keepTtl = true;
        break;
      default:
        fail(p, `${P}: unknown property '${p.name}'`);
    }
  }
  return o;
}

/** A forward destination: an IP (port 53), ip:port, [v6]:port, dns://…, or a resolv.conf-style file. */
function forwardTarget(d: Directive, s: string): ForwardTarget {
  if (s.startsWith('/') || s.startsWith('./')) return { kind: 'file', path: s };
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(s);
  if (scheme && scheme[1].toLowerCase() !== 'dns')
    fail(d, `forward: '${scheme[1]}' is not supported as a destination protocol (only dns://): ${s}`);
  const rest = scheme ? s.slice(scheme[0].length) : s;
  const m = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(rest) ??
    (rest.split(':').length === 2 ? /^([^:]+):([0-9]+)$/.exec(rest) : null) ?? [rest, rest, undefined];
  const ip = parseIp(m[1]);
  const port = m[2] === undefined ? 53 : Number(m[2]);
  if (!ip || !(port >= 1 && port <= 65535)) fail(d, `forward: not an IP address, ip:port or file: '${s}'`);
  return { kind: 'server', host: ip.text, port };
}

export function forwardOptions(d: Directive): ForwardOptions {
  const P = 'forward';
  if (d.args.length < 2)
    fail(d, `${P}: needs FROM and at least one TO (e.g. forward . /etc/resolv.conf), got '${d.args.join(' ')}'`);
  const [from] = zoneArg(d, P, d.args[0]);
  const o: ForwardOptions = {
    from,
    to: d.args.slice(1).map((s) => forwardTarget(d, s)),
    except: [],
    policy: 'random',
    maxConcurrent: 0,
    maxFails: 2,
    expireMs: 10_000,
    healthCheckMs: 500,
    forceTcp: false,
    preferUdp: false,
  };
  const nonNegative = (p: Directive, what: string) => {
    argCount(p, P, 1, 1);
    const n = intArg(p, P, what, p.args[0]);
    if (n < 0) fail(p, `${P}: ${what} can't be negative: ${n}`);
    return n;
  };
  for (const p of d.block) {
    noBlock(p, P);
    switch (p.name) {
      case 'except':
        argCount(p, P, 1, Infinity);
        o.except.push(...zonesArg(p, P, p.args));
        break;
      case 'max_fails':
        o.maxFails = nonNegative(p, 'max_fails');
        break;
      case 'max_concurrent':
        o.maxConcurrent = nonNegative(p, 'max_concurrent');
        break;
      case 'expire':
      case 'health_check': {
        argCount(p, P, 1, p.name === 'health_check' ? 4 : 1);
        const ms = durationArg(p, P, p.name, p.args[0]);
        if (ms < 0) fail(p, `${P}: ${p.name} can't be negative: ${p.args[0]}`);
        if (p.name === 'expire') o.expireMs = ms;
        else o.healthCheckMs = ms;
        break;
      }
      case 'policy':
        argCount(p, P, 1, 1);
        if (!['random', 'round_robin', 'sequential'].includes(p.args[0]))
          fail(p, `${P}: unknown policy '${p.args[0]}'`);
        o.policy = p.args[0] as ForwardOptions['policy'];
        break;
      case 'force_tcp':
      case 'prefer_udp':
        noArgs(p, P);
        if (p.name === 'force_tcp') o.forceTcp = true;
        else o.preferUdp = true;
        break;
      default:
        fail(p, `${P}: unknown property '${p.name}'`);
    }
  }
  return o;
}
