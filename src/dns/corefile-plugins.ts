import { addrArg, argCount, durationArg, fail, intArg, noArgs, noBlock, zonesArg } from './corefile-args.js';
import {
  cacheOptions,
  forwardOptions,
  type CacheOptions,
  type ForwardOptions,
  type ForwardTarget,
} from './corefile-forward-cache.js';
import { parseLog, parseRewrite, type LogOptions, type RewriteRule } from './corefile-rewrite-log.js';
import { isReverseName } from './names.js';
import type { Directive, ServerBlock } from './types.js';

/**
 * Typed options of the plugins podwire implements, read from a directive as
 * CoreDNS's setup functions read it, with its defaults. Each throws a
 * CorefileError (with the line) for what it can check without running;
 * parseCorefile calls them all, so a parsed Corefile is a valid one.
 * Zones are lowercase and fully qualified ("cluster.local.", ".").
 */
export type { CacheOptions, ForwardOptions, ForwardTarget, LogOptions, RewriteRule };

export interface KubernetesPluginOptions {
  zones: string[];
  pods: 'disabled' | 'insecure' | 'verified';
  /** zones whose NXDOMAIN falls through; ["."] = all; undefined = none */
  fallthrough?: string[];
  ttl: number;
  endpointPodNames: boolean;
  noEndpoints: boolean;
  namespaces: string[];
  ignoreEmptyService: boolean;
}

export interface HealthOptions {
  addr: string;
  lameduckMs: number;
}

/** The options of one directive of each kind (the runtime builds its chain from these). */
export const pluginOptions = {
  kubernetes: kubernetesOptions,
  cache: cacheOptions,
  forward: forwardOptions,
  rewrite: (d: Directive): RewriteRule => parseRewrite(d),
  log: (d: Directive): LogOptions => parseLog(d),
  health: healthOptions,
  ready: (d: Directive): { addr: string } =>
    listenOnly(d, 'ready', ':8181', { monitor: ['until-ready', 'continuously'] }),
  /** CoreDNS's default is localhost:9153; kube-dns Corefiles say `prometheus :9153`. */
  prometheus: (d: Directive): { addr: string } =>
    listenOnly(d, 'prometheus', 'localhost:9153', { runtime_metrics: [], tls: null }),
  errors: errorsOptions,
  loop: (d: Directive): Record<string, never> => (noArgs(d, 'loop'), noBlock(d, 'loop'), {}),
  reload: reloadOptions,
  loadbalance: loadbalanceOptions,
};

/** Plugins CoreDNS allows once per server block (plugin.ErrOnce). */
export const ONCE_PER_BLOCK = new Set(['cache', 'errors', 'kubernetes', 'loop', 'prometheus', 'ready']);

function kubernetesOptions(d: Directive, block?: Pick<ServerBlock, 'zones'>): KubernetesPluginOptions {
  const P = 'kubernetes';
  const zones = d.args.length ? zonesArg(d, P, d.args) : (block?.zones ?? ['.']);
  if (!zones.some((z) => !isReverseName(z.replace(/\.$/, '')))) fail(d, `${P}: non-reverse zone name must be used`);
  const o: KubernetesPluginOptions = {
    zones,
    pods: 'disabled',
    ttl: 5,
    endpointPodNames: false,
    noEndpoints: false,
    namespaces: [],
    ignoreEmptyService: false,
  };
  for (const p of d.block) {
    noBlock(p, P);
    switch (p.name) {
      case 'pods':
        argCount(p, P, 1, 1);
        if (!['disabled', 'insecure', 'verified'].includes(p.args[0]))
          fail(p, `${P}: wrong value for pods: ${p.args[0]}, must be one of: disabled, verified, insecure`);
        o.pods = p.args[0] as KubernetesPluginOptions['pods'];
        break;
      case 'fallthrough':
        o.fallthrough = p.args.length ? zonesArg(p, P, p.args) : ['.'];
        break;
      case 'ttl': {
        argCount(p, P, 1, 1);
        const t = intArg(p, P, 'ttl', p.args[0]);
        if (t < 0 || t > 3600) fail(p, `${P}: ttl must be in range [0, 3600]: ${t}`);
        o.ttl = t;
        break;
      }
      case 'endpoint_pod_names':
        noArgs(p, P);
        o.endpointPodNames = true;
        break;
      case 'noendpoints':
        noArgs(p, P);
        o.noEndpoints = true;
        break;
      case 'namespaces':
        argCount(p, P, 1, Infinity);
        o.namespaces.push(...p.args.map((n) => n.toLowerCase()));
        break;
      case 'ignore':
        argCount(p, P, 1, 1);
        if (p.args[0] !== 'empty_service') fail(p, `${P}: unable to parse ignore value: '${p.args[0]}'`);
        o.ignoreEmptyService = true;
        break;
      // how CoreDNS reaches the API server: podwire's runtime has its own connection
      case 'endpoint':
      case 'kubeconfig':
      case 'apiserver_qps':
      case 'apiserver_burst':
      case 'apiserver_max_inflight':
        argCount(p, P, 1, p.name === 'endpoint' ? Infinity : p.name === 'kubeconfig' ? 2 : 1);
        break;
      case 'tls':
        argCount(p, P, 3, 3);
        break;
      case 'startup_timeout':
        argCount(p, P, 1, 1);
        durationArg(p, P, 'startup_timeout', p.args[0]);
        break;
      case 'labels':
      case 'namespace_labels':
      case 'zonal':
      case 'multicluster':
        fail(p, `${P}: '${p.name}' is not supported by podwire`);
      default:
        fail(p, `${P}: unknown property '${p.name}'`);
    }
  }
  return o;
}

function healthOptions(d: Directive): HealthOptions {
  argCount(d, 'health', 0, 1);
  const o: HealthOptions = { addr: d.args.length ? addrArg(d, 'health', d.args[0]) : ':8080', lameduckMs: 0 };
  for (const p of d.block) {
    noBlock(p, 'health');
    if (p.name !== 'lameduck') fail(p, `health: unknown property '${p.name}'`);
    argCount(p, 'health', 1, 1);
    const ms = durationArg(p, 'health', 'lameduck', p.args[0]);
    if (ms < 0) fail(p, `health: lameduck can't be negative: ${p.args[0]}`);
    o.lameduckMs = ms;
  }
  return o;
}

/** `ready [ADDR]`, `prometheus [ADDR]`: an address and a few block properties (name → allowed values; null: any one argument). */
function listenOnly(d: Directive, P: string, dflt: string, props: Record<string, string[] | null>): { addr: string } {
  argCount(d, P, 0, 1);
  for (const p of d.block) {
    noBlock(p, P);
    const allowed = Object.hasOwn(props, p.name) ? props[p.name] : undefined;
    if (allowed === undefined) fail(p, `${P}: unknown property '${p.name}'`);
    if (allowed === null) argCount(p, P, 1, 1);
    else if (allowed.length === 0) noArgs(p, P);
    else if (p.args.length !== 1 || !allowed.includes(p.args[0]))
      fail(p, `${P}: '${p.name}' must be one of ${allowed.join(', ')}`);
  }
  return { addr: d.args.length ? addrArg(d, P, d.args[0]) : dflt };
}

function errorsOptions(d: Directive): { stacktrace: boolean } {
  argCount(d, 'errors', 0, 1);
  if (d.args.length && d.args[0] !== 'stdout') fail(d, `errors: invalid log file: ${d.args[0]}`);
  let stacktrace = false;
  for (const p of d.block) {
    noBlock(p, 'errors');
    if (p.name === 'stacktrace') stacktrace = true;
    else if (p.name === 'consolidate')
      (argCount(p, 'errors', 2, 4), durationArg(p, 'errors', 'consolidate', p.args[0]));
    else fail(p, `errors: unknown property '${p.name}'`);
  }
  return { stacktrace };
}

function reloadOptions(d: Directive): { intervalMs: number; jitterMs: number } {
  argCount(d, 'reload', 0, 2);
  noBlock(d, 'reload');
  const intervalMs = d.args[0] !== undefined ? durationArg(d, 'reload', 'interval', d.args[0]) : 30_000;
  if (intervalMs < 2000) fail(d, `reload: interval value must be greater or equal to 2s`);
  let jitterMs = d.args[1] !== undefined ? durationArg(d, 'reload', 'jitter', d.args[1]) : 15_000;
  if (jitterMs !== 0 && jitterMs < 1000) fail(d, `reload: jitter value must be 0 or greater or equal to 1s`);
  if (jitterMs > intervalMs / 2) jitterMs = intervalMs / 2;
  return { intervalMs, jitterMs };
}

function loadbalanceOptions(d: Directive): { policy: 'round_robin' } {
  argCount(d, 'loadbalance', 0, 1);
  noBlock(d, 'loadbalance');
  if (d.args.length && d.args[0] !== 'round_robin')
    fail(d, `loadbalance: unknown policy: ${d.args[0]} (podwire implements round_robin)`);
  return { policy: 'round_robin' };
}
