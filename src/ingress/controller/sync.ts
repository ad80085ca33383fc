import { performance } from 'node:perf_hooks';
import type { ApiClient, EventRecorder, KubeObject } from '../../control/client/index.js';
import { isoTime } from '../../control/index.js';
import { compileRoutes, ourIngresses } from '../index.js';
import { IngressProxy } from '../proxy/engine.js';
import { formatAccessLine, type AccessEntry } from '../proxy/access-log.js';
import type { CompiledRoutes, PemPair, RouteTable } from '../index.js';
import type { ControllerArgs } from './args.js';
import type { ClusterWatch } from './cluster-watch.js';
import type { ControllerMetrics } from './controller-metrics.js';
import { gatewayAddresses, ourGateways, planGatewayServices } from './gateway-services.js';
import { httpEvent, type L7EventHub } from './l7-events.js';
import { isLeader, isPodReady, leaderOf } from './leader.js';
import type { Logger } from './log.js';
import { planStatusWrites, serviceAddresses, type Address } from './status-plan.js';
import { applyGatewayServices, eventKey, recordNewEvents, writeStatuses } from './writes.js';

/**
 * One sync: the cluster objects → compileRoutes → the proxy's new table
 * (every replica), then, on the leader only, the statuses, events and
 * Gateway Services that follow from it. Syncs never overlap: a change
 * during one runs another after it. A failed write retries after a
 * backoff (1 s … 10 s) even if nothing else changes.
 */
export interface SyncDeps {
  args: ControllerArgs;
  client: ApiClient;
  watch: ClusterWatch;
  metrics: ControllerMetrics;
  hub: L7EventHub;
  recorder: EventRecorder;
  log: Logger;
  out: (line: string) => void;
  /** this pod (undefined outside a pod) and its node */
  pod?: string;
  node: string;
  fakeCertificate?: PemPair;
  /** tests: bind listeners elsewhere */
  bindPort?: (l: { port: number; tls: boolean }) => number;
}

export class Syncer {
  proxy: IngressProxy | null = null;
  table: RouteTable | null = null;
  private running = false;
  private again = false;
  private stopped = false;
  private retryMs = 1000;
  private retryTimer: NodeJS.Timeout | null = null;
  private eventKeys = new Set<string>();
  private lastRoutes: string | null = null;
  private leading: boolean | undefined = undefined;
  private leaderName: string | null | undefined = undefined;
  lastError: string | null = null;

  constructor(private readonly d: SyncDeps) {}

  /** Ask for a sync (coalesced with one running). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.once();
        } while (this.again && !this.stopped);
      } finally {
        this.running = false;
      }
    })();
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.proxy?.stop(graceMs);
  }

  private defaultCertificate(): PemPair | undefined {
    const ref = this.d.args.defaultSslCertificate;
    if (ref) {
      const s = this.d.watch.get('secrets', ref.namespace, ref.name);
      const crt = s?.data?.['tls.crt'];
      const key = s?.data?.['tls.key'];
      if (crt && key)
        return { cert: Buffer.from(crt, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
    }
    return this.d.fakeCertificate;
  }

  private compile(): CompiledRoutes | null {
    const a = this.d.args;
    const t0 = performance.now();
    try {
      const c = compileRoutes(this.d.watch.snapshot(), {
        ingressController: a.controllerClass,
        gatewayController: a.gatewayController,
        httpPort: a.httpPort,
        httpsPort: a.httpsPort,
        defaultCertificate: this.defaultCertificate(),
        nowIso: isoTime(),
      });
      this.d.metrics.reloaded(true, (performance.now() - t0) / 1000);
      return c;
    } catch (e) {
      this.d.metrics.reloaded(false, 0);
      this.lastError = `compiling the routes failed: ${(e as Error).message}`;
      this.d.log.error(`${this.lastError} (the previous routes keep serving)`, 'controller.go');
      return null;
    }
  }

  private onAccess = (e: AccessEntry): void => {
    this.d.out(formatAccessLine(e));
    this.d.metrics.request(e);
    // the event is built only for someone reading it (observe --http)
    if (this.d.hub.subscribers) this.d.hub.publish(httpEvent(e, { pod: this.d.pod ?? '', node: this.d.node }));
  };

  private async serve(table: RouteTable): Promise<void> {
    if (!this.proxy) {
      this.proxy = new IngressProxy({
        table,
        bindPort: this.d.bindPort,
        onAccess: this.onAccess,
        onError: (ev) => {
          if (ev.kind === 'internal') this.d.log.error(`proxy on :${ev.port}: ${ev.message}`, 'proxy.go');
        },
      });
      await this.proxy.start();
    } else await this.proxy.setTable(table);
    this.table = table;
  }

  private async once(): Promise<void> {
    const compiled = this.compile();
    let ok = true;
    if (compiled) {
      try {
        await this.serve(compiled.table);
        this.lastError = null;
      } catch (e) {
        ok = false;
        this.table = compiled.table;
        this.lastError = `listening: ${(e as Error).message}`;
        this.d.log.error(this.lastError, 'proxy.go');
      }
      const routes = compiled.table.describe().join('\n');
      if (routes !== this.lastRoutes) {
        this.lastRoutes = routes;
        this.d.log.info(
          `"Backend successfully reloaded": ${compiled.table.describe().length} route(s), listeners ${compiled.table.listeners.map((l) => `${l.port}${l.tls ? '/tls' : ''}`).join(', ') || 'none'}`,
          'controller.go',
        );
        this.d.hub.publish({
          type: 'routes',
          time: new Date().toISOString(),
          pod: this.d.pod ?? '',
          node: this.d.node,
          routes: compiled.table.describe().length,
          listeners: [...compiled.table.listeners],
        });
      }
    }
    const pods = this.d.watch.pods?.list() ?? [];
    const leader = isLeader(this.d.pod, pods);
    const name = this.d.pod ? leaderOf(pods) : 'this process';
    if (name !== this.leaderName) {
      this.leaderName = name;
      if (name)
        this.d.log.info(
          `new leader elected: ${name}${leader ? ' (this pod)' : ''}: the Ready controller pod that sorts first writes statuses (--election-id=${this.d.args.electionId})`,
          'leaderelection.go',
        );
    }
    if (leader !== this.leading) {
      this.leading = leader;
      this.d.metrics.leading(leader);
    }
    if (compiled) {
      if (leader) {
        ok = (await this.writeAll(compiled)) && ok;
        recordNewEvents(this.d.recorder, this.d.watch, compiled.events, this.eventKeys, this.d.pod ?? '');
      }
      this.eventKeys = new Set(compiled.events.map(eventKey));
    }
    this.scheduleRetry(ok && !!compiled);
  }

  private async writeAll(compiled: CompiledRoutes): Promise<boolean> {
    const w = this.d.watch;
    const a = this.d.args;
    const gateways = ourGateways(w.list('gateways'), w.list('gatewayClasses'), a.gatewayController);
    const pods = w.pods?.list() ?? [];
    const plan = planGatewayServices(gateways, w.list('services'), w.list('endpointSlices'), pods);
    let ok = await applyGatewayServices(this.d.client, w, plan, this.d.log);
    const updates = planStatusWrites({
      args: a,
      ingresses: a.updateStatus
        ? (ourIngresses(
            { ingresses: w.list('ingresses'), ingressClasses: w.list('ingressClasses') },
            { ingressController: a.controllerClass },
          ) as KubeObject[])
        : [],
      gateways: w.list('gateways'),
      httpRoutes: w.list('httpRoutes'),
      gatewayClasses: w.list('gatewayClasses'),
      compiled: compiled.statuses,
      ingressAddresses: this.ingressAddresses(pods),
      gatewayAddresses: gatewayAddresses(gateways, w.list('services')),
      nowIso: isoTime(),
    });
    ok = (await writeStatuses(this.d.client, w, updates, this.d.log, this.d.metrics)) && ok;
    return ok;
  }

  /** --publish-status-address, else --publish-service's EXTERNAL-IPs, else the nodes of the Ready controller pods. */
  private ingressAddresses(pods: KubeObject[]): Address[] {
    const a = this.d.args;
    if (a.publishStatusAddress.length)
      return a.publishStatusAddress.map((x) => (/^[\d.]+$|:/.test(x) ? { ip: x } : { hostname: x }));
    if (a.publishService)
      return serviceAddresses(this.d.watch.get('services', a.publishService.namespace, a.publishService.name));
    const ips = [
      ...new Set(
        pods
          .filter(isPodReady)
          .map((p) => p.status?.hostIP)
          .filter((ip): ip is string => !!ip),
      ),
    ].sort();
    return ips.map((ip) => ({ ip }));
  }

  private scheduleRetry(ok: boolean): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (ok) {
      this.retryMs = 1000;
      return;
    }
    this.retryTimer = setTimeout(() => this.trigger(), this.retryMs);
    this.retryTimer.unref?.();
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
  }
}
