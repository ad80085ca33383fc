import { createHash, randomInt } from 'node:crypto';
import fs from 'node:fs';
import packet, { type Packet } from 'dns-packet';
import { ApiClient, Informer, inClusterOr, type ApiServerConfig, type KubeObject } from '../control/client/index.js';
import { KUBERNETES_SERVICE_IP } from '../control/controllers/index.js';
import type { PluginInstance } from './chain.js';
import { parseCorefile } from './corefile.js';
import { DnsMetrics } from './metrics.js';
import {
  buildConfig,
  HttpEndpoints,
  lineLogger,
  realExchange,
  type BuiltConfig,
  type Logger,
} from './plugins/index.js';
import { DnsServer } from './server.js';
import { CorefileError, type ServerBlock } from './types.js';
import { FixtureFeed, InformerFeed, type ZoneFeed } from './zone-feed.js';
import { DnsConfigError } from './errors.js';

/**
 * `podwire coredns`: the process a kube-dns pod runs, in the pod's network
 * namespace. The Corefile comes from a file (--conf) or from the ConfigMap
 * (--configmap kube-system/coredns) through the API server — podwire has
 * no volumes, so the path the Deployment passes (`-conf
 * /etc/coredns/Corefile`) stands for the ConfigMap it would mount. The
 * API server is found as in-cluster clients find it
 * (KUBERNETES_SERVICE_HOST/PORT and the pod's projected ServiceAccount
 * token and CA: https://10.96.0.1:443, the `kubernetes` Service; RBAC gives
 * the ServiceAccount `coredns` the ClusterRole system:coredns, addon.ts),
 * else --apiserver, else https://10.96.0.1:443.
 *
 * Reload: with the `reload` plugin in the running Corefile, an edit is
 * applied when the ConfigMap's watch event arrives (within a second or so)
 * — CoreDNS instead re-reads its mounted file every 30 s ± 15 s, and the
 * kubelet refreshes the mount within a minute. A Corefile that does not
 * parse is logged with its line (`[ERROR] Corefile:7: …`), counted in
 * coredns_reload_failed_total, and the running configuration keeps serving.
 */
export const COREDNS_VERSION = '1.11.3';

export interface CorednsArgs {
  /** a Corefile on disk (watched: edits reload) */
  conf?: string;
  /** "namespace/name" of the ConfigMap whose key `Corefile` is the configuration */
  configmap?: string;
  apiserver?: string;
  /** serve every server block on this port (default: the Corefile's, 53) */
  dnsPort?: number;
  /** feed the kubernetes plugin from this JSON file of objects instead of the API */
  zoneFixture?: string;
}

export interface CorednsIo {
  out?: (line: string) => void;
  exit?: (code: number) => void;
  env?: NodeJS.ProcessEnv;
}

export interface CorednsHandle {
  /** the DNS servers by configured port */
  servers: Map<number, DnsServer>;
  http: HttpEndpoints;
  metrics: DnsMetrics;
  /** apply a Corefile text as a reload would; resolves true when it now runs */
  reload(text: string): Promise<boolean>;
  /** health's lameduck of the running configuration (ms) */
  lameduckMs(): number;
  stop(): Promise<void>;
}

/** The API server and credentials as an in-cluster client finds them (the pod's ServiceAccount token when it has one). */
export function apiServerConfig(args: CorednsArgs, env: NodeJS.ProcessEnv, saDir?: string): ApiServerConfig {
  return inClusterOr(args.apiserver ?? `https://${KUBERNETES_SERVICE_IP}:443`, env, saDir);
}

/** The API server's URL as an in-cluster client finds it. */
export function apiServerUrl(args: CorednsArgs, env: NodeJS.ProcessEnv): string {
  return apiServerConfig(args, env).server;
}

const sha512 = (text: string) => createHash('sha512').update(text).digest('hex');

export async function runCoredns(args: CorednsArgs, io: CorednsIo = {}): Promise<CorednsHandle> {
  const out = io.out ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const exit = io.exit ?? ((c: number) => process.exit(c));
  const env = io.env ?? process.env;
  const log: Logger = lineLogger(out);
  if (!!args.conf === !!args.configmap)
    throw new DnsConfigError(
      'ERR_NO_COREFILE',
      'say where the Corefile is: --conf <file> or --configmap <namespace/name>',
    );
  const metrics = new DnsMetrics(COREDNS_VERSION);
  const http = new HttpEndpoints(log);
  const servers = new Map<number, DnsServer>();
  const localIps = env.POD_IP ? [env.POD_IP] : [];
  let client: ApiClient | null = null;
  const api = () => (client ??= new ApiClient(apiServerConfig(args, env)));

  let feed: ZoneFeed | null = null;
  let feedStarted: Promise<void> | null = null;
  const zoneFeed = (): ZoneFeed => {
    if (feed) return feed;
    if (args.zoneFixture) return (feed = FixtureFeed.fromFile(args.zoneFixture));
    const f = new InformerFeed(api(), log);
    feedStarted = f.start();
    return (feed = f);
  };

  let running: { text: string; config: BuiltConfig } | null = null;
  let stopping = false;
  const fatal = (msg: string) => {
    out(`[FATAL] ${msg}`);
    void stop().finally(() => exit(1));
  };

  const build = (blocks: ServerBlock[]): BuiltConfig => {
    return buildConfig(blocks, {
      metrics,
      log,
      out,
      zoneFor: (opts) => zoneFeed().zoneFor(opts, localIps),
      loopProbe: (port, qname) => probe(port, qname),
      fatal,
      allPlugins: () => running?.config.plugins ?? [],
      port: args.dnsPort,
    });
  };

  /** Swap in a built configuration: servers per port, HTTP routes, plugin lifecycles. */
  const activate = async (text: string, config: BuiltConfig): Promise<void> => {
    const old = running;
    for (const [port, blocks] of config.ports) {
      let s = servers.get(port);
      if (!s) {
        s = new DnsServer({ port, metrics, log });
        await s.listen();
        servers.set(port, s);
      }
      s.setBlocks(blocks);
    }
    for (const [port, s] of servers) {
      if (!config.ports.has(port)) {
        servers.delete(port);
        await s.close();
      }
    }
    await http.apply(config.routes);
    running = { text, config };
    feed?.keep(config.zones);
    for (const p of old?.config.plugins ?? []) await p.stop?.();
    for (const p of config.plugins) await p.start?.();
  };

  const probe = (port: number, qname: string): Promise<Packet> => {
    const q = packet.encode({
      id: randomInt(0x10000),
      type: 'query',
      flags: packet.RECURSION_DESIRED,
      questions: [{ name: qname, type: 'HINFO', class: 'IN' }],
    });
    const port0 = servers.get(port)?.ports.udp ?? port;
    return realExchange({ host: '127.0.0.1', port: port0, family: 4 }, q, 'udp', 2000).then((b) => packet.decode(b));
  };

  const banner = (blocks: ServerBlock[], text: string) => {
    for (const b of blocks) out(b.zones.map((z) => `${z}:${args.dnsPort ?? b.port}`).join(' '));
    out(`[INFO] plugin/reload: Running configuration SHA512 = ${sha512(text)}`);
  };

  /** A new Corefile text (file edit, ConfigMap event): reload if the running configuration has `reload`. */
  const reload = async (text: string): Promise<boolean> => {
    if (stopping || !running || text === running.text) return false;
    if (!running.config.reload) {
      log.info('the Corefile changed; the running configuration has no reload plugin: restart to apply it');
      return false;
    }
    log.info('Reloading');
    try {
      const blocks = parseCorefile(text, { env });
      await activate(text, build(blocks));
      out(`[INFO] plugin/reload: Running configuration SHA512 = ${sha512(text)}`);
      log.info('Reloading complete');
      return true;
    } catch (e) {
      metrics.reloadFailed.inc();
      const msg = e instanceof CorefileError ? e.message : `Corefile: ${(e as Error).message}`;
      log.error(`${msg} (reload failed: the running configuration keeps serving)`);
      feed?.keep(running.config.zones);
      return false;
    }
  };

  const watchers: (() => void)[] = [];
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const w of watchers) w();
    for (const p of running?.config.plugins ?? []) await p.stop?.();
    await Promise.all([...servers.values()].map((s) => s.close()));
    servers.clear();
    await http.close();
    feed?.stop();
    client?.close();
  };

  // ---- the first configuration ----
  let text: string;
  if (args.conf) {
    text = fs.readFileSync(args.conf, 'utf8');
    const file = args.conf;
    const onChange = () => {
      let t: string;
      try {
        t = fs.readFileSync(file, 'utf8');
      } catch {
        return;
      }
      void reload(t);
    };
    fs.watchFile(file, { interval: 500 }, onChange);
    watchers.push(() => fs.unwatchFile(file, onChange));
  } else {
    const [ns, name] = args.configmap!.includes('/') ? args.configmap!.split('/', 2) : ['kube-system', args.configmap!];
    const inf = new Informer(api(), 'configmaps', { namespace: ns, fieldSelector: `metadata.name=${name}` }, (m) =>
      log.error(`plugin/reload: ${m}`),
    );
    let first: ((t: string) => void) | null = null;
    const got = new Promise<string>((r) => (first = r));
    const onCm = (cm: KubeObject) => {
      if (cm.metadata.name !== name) return;
      const t = cm.data?.Corefile;
      if (typeof t !== 'string') return log.error(`ConfigMap ${ns}/${name} has no key "Corefile"`);
      if (first) {
        const f = first;
        first = null;
        f(t);
      } else void reload(t);
    };
    inf.on({ added: onCm, modified: onCm });
    await inf.start();
    if (!inf.get(ns, name))
      log.warning(`waiting for ConfigMap ${ns}/${name} (key Corefile) at ${apiServerUrl(args, env)}`);
    watchers.push(() => inf.stop());
    text = await got;
  }
  let blocks: ServerBlock[];
  try {
    blocks = parseCorefile(text, { env });
    const config = build(blocks);
    await activate(text, config);
  } catch (e) {
    await stop();
    throw e;
  }
  banner(blocks, text);
  // as CoreDNS's kubernetes plugin: serve once synced, or after 5 s anyway (answers SERVFAIL for unknown names meanwhile)
  const started = feedStarted as Promise<void> | null;
  if (started) {
    const synced = await Promise.race([
      started.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref()),
    ]);
    if (!synced) log.warning('plugin/kubernetes: starting server with unsynced Kubernetes API');
  }
  out(`CoreDNS-${COREDNS_VERSION} (podwire)`);
  out(`${process.platform}/${process.arch}, node${process.versions.node}, podwire`);

  return { servers, http, metrics, reload, stop, lameduckMs: () => running?.config.lameduckMs ?? 0 };
}

/** Shut down on SIGTERM/SIGINT as CoreDNS: lameduck first (health's option), then close. */
export function stopOnSignals(
  h: CorednsHandle,
  out: (l: string) => void = (l) => void process.stdout.write(`${l}\n`),
): void {
  const onSignal = (sig: string) => {
    out(`[INFO] ${sig}: Shutting down servers then terminating`);
    const ms = h.lameduckMs();
    const wait =
      ms > 0
        ? (out(`[INFO] plugin/health: Going into lameduck mode for ${ms / 1000}s`),
          new Promise((r) => setTimeout(r, ms)))
        : Promise.resolve();
    void wait.then(() => h.stop()).finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}

export type { PluginInstance };
