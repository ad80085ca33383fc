import {
  ApiClient,
  EventRecorder,
  inClusterOr,
  type ApiServerConfig,
  type KubeObject,
} from '../../control/client/index.js';
import { KUBERNETES_SERVICE_IP } from '../../control/controllers/index.js';
import type { ControllerArgs } from './args.js';
import { ClusterWatch } from './cluster-watch.js';
import { ControllerMetrics } from './controller-metrics.js';
import { makeFakeCertificate } from './fake-cert.js';
import { HealthServer } from './health-server.js';
import { L7EventHub } from './l7-events.js';
import { fellowSelector } from './leader.js';
import { banner, klogger, type Logger } from './log.js';
import { Syncer } from './sync.js';

/**
 * `podwire ingress-controller`: the process an ingress-nginx controller pod
 * runs, in the pod's network namespace. It finds the API server as
 * in-cluster clients do (KUBERNETES_SERVICE_HOST/PORT with the pod's
 * projected ServiceAccount token and CA — RBAC as ingress-nginx's chart,
 * addon.ts — else --apiserver-host, else https://10.96.0.1:443, as
 * `podwire coredns` does),
 * watches the cluster (cluster-watch.ts), compiles and serves the routes
 * and, as the leader, writes what follows (sync.ts). :10254 answers
 * /healthz (200 once the first routes serve), /metrics, /podwire/events.
 * SIGTERM: stop listening, let requests in flight finish (up to 10 s), exit.
 */
export const RELEASE = 'v1.11.3';

export interface ControllerIo {
  out?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** tests: bind the proxy's listeners elsewhere (0: ephemeral) */
  bindPort?: (l: { port: number; tls: boolean }) => number;
  /** tests: no openssl run for the fake certificate */
  noFakeCertificate?: boolean;
}

export interface ControllerHandle {
  syncer: Syncer;
  watch: ClusterWatch;
  health: HealthServer;
  healthzPort: number;
  metrics: ControllerMetrics;
  hub: L7EventHub;
  stop(graceMs?: number): Promise<void>;
}

/** The API server and credentials as an in-cluster client finds them (the pod's ServiceAccount token when it has one). */
export function apiServerConfig(
  args: Pick<ControllerArgs, 'apiserver'>,
  env: NodeJS.ProcessEnv,
  saDir?: string,
): ApiServerConfig {
  return inClusterOr(args.apiserver ?? `https://${KUBERNETES_SERVICE_IP}:443`, env, saDir);
}

export function apiServerUrl(args: Pick<ControllerArgs, 'apiserver'>, env: NodeJS.ProcessEnv): string {
  return apiServerConfig(args, env).server;
}

/** Our own pod, to learn the labels our fellow replicas share (retried: the API may not answer at once). */
async function ownPod(client: ApiClient, ns: string, name: string, log: Logger): Promise<KubeObject> {
  for (let delay = 250, tries = 0; ; tries++) {
    try {
      return await client.get('pods', ns, name);
    } catch (e) {
      if (tries % 8 === 3)
        log.warning(`reading pod ${ns}/${name} at ${client.server}: ${(e as Error).message} (retrying)`, 'main.go');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

export async function runIngressController(args: ControllerArgs, io: ControllerIo = {}): Promise<ControllerHandle> {
  const out = io.out ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const env = io.env ?? process.env;
  const log = klogger(out);
  for (const l of banner(RELEASE)) out(l);
  const podName = env.POD_NAME || undefined;
  const podNs = env.POD_NAMESPACE || 'ingress-nginx';
  const node = env.NODE_NAME ?? '';
  if (args.ignored.length)
    log.info(`flags without effect in podwire (NGINX, webhook, timing): ${args.ignored.join(' ')}`, 'main.go');
  const client = new ApiClient(apiServerConfig(args, env));
  log.info(`Creating API client for ${client.server}`, 'main.go');

  const metrics = new ControllerMetrics({
    controllerClass: args.controllerClass,
    namespace: podNs,
    pod: podName ?? '',
    electionId: args.electionId,
  });
  const hub = new L7EventHub();
  let syncer: Syncer | null = null;
  const health = new HealthServer({
    healthy: () =>
      syncer?.table
        ? { ok: !syncer.lastError?.startsWith('listening'), why: syncer.lastError ?? undefined }
        : { ok: false, why: 'no routes served yet' },
    registries: () => [metrics.registry, ...(syncer?.proxy ? [syncer.proxy.metrics.registry] : [])],
    metrics: args.enableMetrics,
    events: hub,
    routes: () => syncer?.table?.describe() ?? [],
  });
  const healthzPort = await health.listen(args.healthzPort);
  log.info(`serving /healthz, /metrics and /podwire/events on :${healthzPort}`, 'main.go');

  const self = podName ? await ownPod(client, podNs, podName, log) : null;
  const watch = new ClusterWatch(client, {
    ingressNamespace: args.watchNamespace,
    pods: self ? { namespace: podNs, labelSelector: fellowSelector(self.metadata.labels) } : undefined,
    onError: (m) => log.warning(m, 'store.go'),
  });
  let fakeCertificate;
  if (!io.noFakeCertificate) {
    try {
      fakeCertificate = await makeFakeCertificate();
      log.info('SSL fake certificate created', 'ssl.go');
    } catch (e) {
      log.warning(
        `no fake certificate (openssl: ${(e as Error).message}): TLS clients without a matching Secret fail the handshake`,
        'ssl.go',
      );
    }
  }
  const recorder = new EventRecorder(client, (m) => log.warning(m, 'event.go'));
  syncer = new Syncer({
    args,
    client,
    watch,
    metrics,
    hub,
    recorder,
    log,
    out,
    pod: podName,
    node,
    fakeCertificate,
    bindPort: io.bindPort,
  });
  const s = syncer;
  watch.onChange(() => s.trigger());
  log.info(
    `watching Ingress (class ${args.ingressClass}, controller ${args.controllerClass}) and Gateway API (controller ${args.gatewayController})`,
    'controller.go',
  );
  await watch.start();
  log.info('informers synced: starting the proxy', 'controller.go');
  s.trigger();

  let stopping: Promise<void> | null = null;
  const stop = (graceMs = 0): Promise<void> =>
    (stopping ??= (async () => {
      watch.stop();
      await s.stop(graceMs);
      await health.close();
      client.close();
    })());
  return { syncer: s, watch, health, healthzPort, metrics, hub, stop };
}

/** SIGTERM/SIGINT: stop taking connections, finish requests in flight (10 s at most), exit 0. */
export function stopOnSignals(
  h: ControllerHandle,
  out: (l: string) => void = (l) => void process.stdout.write(`${l}\n`),
): void {
  const log = klogger(out);
  const onSignal = (sig: string) => {
    log.info(`Received ${sig}, shutting down`, 'main.go');
    void h.stop(10_000).finally(() => {
      log.info('Exiting with 0', 'main.go');
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}
