import type { Packet } from 'dns-packet';
import { compose, sortByOrder, type PluginInstance } from '../chain.js';
import { pluginOptions, type KubernetesPluginOptions } from '../corefile-plugins.js';
import type { DnsMetrics } from '../metrics.js';
import type { BlockRuntime } from '../server.js';
import { CorefileError, type Directive, type ServerBlock } from '../types.js';
import { CachePlugin } from './cache.js';
import { ErrorsPlugin } from './errors.js';
import { ForwardPlugin } from './forward.js';
import { HealthPlugin, ReadyPlugin } from './health.js';
import type { HttpRoute } from './http.js';
import { KubernetesPlugin } from './kubernetes.js';
import { LoadbalancePlugin } from './loadbalance.js';
import { LogPlugin } from './log.js';
import type { Logger } from './log-sink.js';
import { LoopPlugin } from './loop.js';
import { PrometheusPlugin } from './prometheus.js';
import { RewritePlugin } from './rewrite.js';
import { expandUpstreams, type Exchange } from './upstream.js';
import type { KubernetesZone } from '../kubernetes-zone.js';
import { DnsConfigError } from '../errors.js';

/**
 * From parsed server blocks to running parts: each block's directives set
 * up as plugins (options read by corefile-plugins' pluginOptions), put in
 * plugin.cfg order and composed into the block's chain; blocks grouped by
 * port; the HTTP routes of health, ready and prometheus collected. A setup
 * error (a resolv.conf without nameservers, an unimplemented rewrite
 * field) is a CorefileError naming the directive's line, as parse errors.
 */
export interface BuildDeps {
  metrics: DnsMetrics;
  log: Logger;
  /** where `log` writes its lines (stdout) */
  out: (line: string) => void;
  /** a zone for a kubernetes directive, fed by the runtime's informers or fixture */
  zoneFor(opts: KubernetesPluginOptions): { zone: KubernetesZone; synced: () => boolean };
  /** probe this server for the loop plugin (a UDP exchange with 127.0.0.1:port) */
  loopProbe(port: number, qname: string): Promise<Packet>;
  fatal(msg: string): void;
  /** every plugin of the running configuration (for ready) */
  allPlugins(): PluginInstance[];
  exchange?: Exchange;
  readFile?: (path: string) => string;
  /** serve every block on this port instead of the Corefile's */
  port?: number;
}

export interface BuiltConfig {
  /** port → its server blocks */
  ports: Map<number, BlockRuntime[]>;
  plugins: PluginInstance[];
  routes: HttpRoute[];
  /** a `reload` directive is present: edits to the Corefile are applied */
  reload: boolean;
  lameduckMs: number;
  /** the kubernetes plugins' zones (the feed keeps these current) */
  zones: KubernetesZone[];
}

export function buildConfig(blocks: ServerBlock[], deps: BuildDeps): BuiltConfig {
  const built: BuiltConfig = { ports: new Map(), plugins: [], routes: [], reload: false, lameduckMs: 0, zones: [] };
  for (const block of blocks) {
    const port = deps.port ?? block.port;
    const server = `dns://:${port}`;
    const plugins: PluginInstance[] = [];
    for (const d of block.directives) {
      const p = setup(d, block, port, server, deps, built);
      if (p) plugins.push(p);
    }
    const ordered = sortByOrder(plugins);
    for (const z of block.zones)
      for (const p of ordered) deps.metrics.pluginEnabled.set({ server, zone: z, name: p.name }, 1);
    built.plugins.push(...ordered);
    for (const p of ordered) built.routes.push(...((p as { routes?: HttpRoute[] }).routes ?? []));
    if (!built.ports.has(port)) built.ports.set(port, []);
    built.ports.get(port)!.push({ zones: block.zones, handler: compose(ordered) });
  }
  return built;
}

function setup(
  d: Directive,
  block: ServerBlock,
  port: number,
  server: string,
  deps: BuildDeps,
  built: BuiltConfig,
): PluginInstance | null {
  try {
    switch (d.name) {
      case 'errors':
        pluginOptions.errors(d);
        return new ErrorsPlugin(deps.log);
      case 'log':
        return new LogPlugin(deps.out, pluginOptions.log(d));
      case 'health': {
        const o = pluginOptions.health(d);
        built.lameduckMs = Math.max(built.lameduckMs, o.lameduckMs);
        return new HealthPlugin(o.addr, o.lameduckMs);
      }
      case 'ready':
        return new ReadyPlugin(pluginOptions.ready(d).addr, deps.allPlugins);
      case 'prometheus':
        return new PrometheusPlugin(deps.metrics, block.zones, pluginOptions.prometheus(d).addr);
      case 'rewrite':
        return new RewritePlugin([pluginOptions.rewrite(d)]);
      case 'loadbalance':
        pluginOptions.loadbalance(d);
        return new LoadbalancePlugin();
      case 'cache': {
        const o = pluginOptions.cache(d, block);
        return new CachePlugin(deps.metrics, {
          zones: o.zones,
          successCapacity: o.success.capacity,
          successTtl: o.success.ttl,
          successMinTtl: o.success.minTtl,
          denialCapacity: o.denial.capacity,
          denialTtl: o.denial.ttl,
          denialMinTtl: o.denial.minTtl,
        });
      }
      case 'kubernetes': {
        const { zone, synced } = deps.zoneFor(pluginOptions.kubernetes(d, block));
        built.zones.push(zone);
        return new KubernetesPlugin(zone, synced);
      }
      case 'forward': {
        const o = pluginOptions.forward(d);
        return new ForwardPlugin(
          {
            from: o.from,
            upstreams: expandUpstreams(o.to, deps.readFile),
            except: o.except,
            policy: o.policy,
            maxConcurrent: o.maxConcurrent,
            maxFails: o.maxFails,
            healthCheckMs: o.healthCheckMs,
            forceTcp: o.forceTcp,
            preferUdp: o.preferUdp,
          },
          deps.metrics,
          deps.log,
          deps.exchange,
        );
      }
      case 'loop':
        pluginOptions.loop(d);
        return new LoopPlugin(block.zones[0] ?? '.', {
          probe: (qname) => deps.loopProbe(port, qname),
          fatal: deps.fatal,
          listen: `:${port}`,
        });
      case 'reload':
        pluginOptions.reload(d);
        built.reload = true;
        return null;
      default:
        throw new DnsConfigError('ERR_UNKNOWN_PLUGIN', `unknown plugin '${d.name}'`);
    }
  } catch (e) {
    if (e instanceof CorefileError) throw e;
    throw new CorefileError(`${d.name}: ${(e as Error).message.replace(new RegExp(`^${d.name}: `), '')}`, d.line);
  }
}

export {
  CachePlugin,
  ErrorsPlugin,
  ForwardPlugin,
  HealthPlugin,
  ReadyPlugin,
  KubernetesPlugin,
  LoadbalancePlugin,
  LogPlugin,
  LoopPlugin,
  PrometheusPlugin,
  RewritePlugin,
};
export { HttpEndpoints, type HttpRoute } from './http.js';
export { lineLogger, stdoutLogger, type Logger } from './log-sink.js';
export { realExchange, expandUpstreams, type Exchange, type UpstreamAddr } from './upstream.js';
