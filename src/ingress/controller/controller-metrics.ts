import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccessEntry } from '../proxy/access-log.js';
import { FastCounter, FastHistogram, type CounterChild, type HistogramChild } from '../proxy/series.js';

/**
 * The controller's own metrics under ingress-nginx's names, so the
 * dashboards and queries the articles show read them:
 * nginx_ingress_controller_requests and _request_duration_seconds per
 * Ingress (or HTTPRoute) and Service, the config reload gauges (a
 * recompile of the route table is podwire's "reload") and the leader
 * status. The proxy's podwire_ingress_* metrics (per route and backend,
 * proxy/metrics.ts) are served beside them on the same /metrics.
 *
 * Labels are bounded as ingress-nginx bounds them: the route's namespace
 * and name, the Service, the status code and method — a request that
 * matched no route counts under ingress "" and host "_".
 */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000];
const REQUEST_LABELS = [
  'controller_class',
  'controller_namespace',
  'controller_pod',
  'host',
  'ingress',
  'method',
  'namespace',
  'path',
  'service',
  'status',
  'canary',
] as const;
type RequestLabel = (typeof REQUEST_LABELS)[number];

export interface ControllerIdentity {
  controllerClass: string;
  namespace: string;
  pod: string;
  electionId: string;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly reg = [this.registry];
  // per request: proxy/series.ts's, resolved once per label set (prom-client hashes 11 labels on every call)
  readonly requests = new FastCounter<RequestLabel>({
    name: 'nginx_ingress_controller_requests',
    help: 'The total number of client requests',
    labelNames: REQUEST_LABELS,
    registers: this.reg,
  });
  readonly duration = new FastHistogram<RequestLabel>({
    name: 'nginx_ingress_controller_request_duration_seconds',
    help: 'The request processing time in seconds',
    labelNames: REQUEST_LABELS,
    buckets: DURATION_BUCKETS,
    registers: this.reg,
  });
  readonly responseSize = new FastHistogram<RequestLabel>({
    name: 'nginx_ingress_controller_response_size',
    help: 'The response length (body only, in podwire) in bytes',
    labelNames: REQUEST_LABELS,
    buckets: SIZE_BUCKETS,
    registers: this.reg,
  });
  readonly reloadOk = new Gauge({
    name: 'nginx_ingress_controller_config_last_reload_successful',
    help: 'Whether the last configuration reload attempt was successful',
    labelNames: ['controller_class', 'controller_namespace', 'controller_pod'],
    registers: this.reg,
  });
  readonly reloadAt = new Gauge({
    name: 'nginx_ingress_controller_config_last_reload_successful_timestamp_seconds',
    help: 'Timestamp of the last successful configuration reload.',
    labelNames: ['controller_class', 'controller_namespace', 'controller_pod'],
    registers: this.reg,
  });
  readonly reloads = new Counter({
    name: 'nginx_ingress_controller_success',
    help: 'Cumulative number of Ingress controller reload operations',
    labelNames: ['controller_class', 'controller_namespace', 'controller_pod'],
    registers: this.reg,
  });
  readonly reloadErrors = new Counter({
    name: 'nginx_ingress_controller_errors',
    help: 'Cumulative number of Ingress controller errors during reload operations',
    labelNames: ['controller_class', 'controller_namespace', 'controller_pod'],
    registers: this.reg,
  });
  readonly leader = new Gauge({
    name: 'nginx_ingress_controller_leader_election_status',
    help: 'Gauge reporting status of the leader election, 0 indicates follower, 1 indicates leader.',
    labelNames: ['name'],
    registers: this.reg,
  });
  readonly compileSeconds = new Histogram({
    name: 'podwire_ingress_compile_seconds',
    help: 'Time to compile the route table from the cluster objects.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: this.reg,
  });
  readonly statusWrites = new Counter({
    name: 'podwire_ingress_status_writes_total',
    help: 'Status updates written, by resource and result.',
    labelNames: ['resource', 'result'],
    registers: this.reg,
  });

  constructor(private readonly id: ControllerIdentity) {}

  private base() {
    return {
      controller_class: this.id.controllerClass,
      controller_namespace: this.id.namespace,
      controller_pod: this.id.pod,
    };
  }

  private readonly bundles = new Map<string, { n: CounterChild; d: HistogramChild; s: HistogramChild }>();

  request(e: AccessEntry): void {
    const key = `${e.route?.name ?? ''}\u0001${e.route ? e.host : '_'}\u0001${e.backend ?? ''}\u0001${e.method}\u0001${e.status}`;
    let b = this.bundles.get(key);
    if (!b) {
      const [ns, name] = e.route ? splitName(e.route.name) : ['', ''];
      const svc = e.backend ? splitName(e.backend.replace(/:\d+$/, ''))[1] : '';
      const labels = {
        ...this.base(),
        host: e.route ? e.host : '_',
        ingress: name,
        method: e.method,
        namespace: ns,
        path: '',
        service: svc,
        status: String(e.status),
        canary: '',
      };
      b = { n: this.requests.child(labels), d: this.duration.child(labels), s: this.responseSize.child(labels) };
      // bounded as the labels are (routes × hosts × methods × statuses)
      if (this.bundles.size > 10_000) this.bundles.clear();
      this.bundles.set(key, b);
    }
    b.n.inc();
    b.d.observe(e.latencyMs / 1000);
    b.s.observe(e.bytes);
  }

  reloaded(ok: boolean, seconds: number, nowMs = Date.now()): void {
    this.reloadOk.set(this.base(), ok ? 1 : 0);
    if (ok) {
      this.reloadAt.set(this.base(), Math.floor(nowMs / 1000));
      this.reloads.inc(this.base());
      this.compileSeconds.observe(seconds);
    } else this.reloadErrors.inc(this.base());
  }

  leading(isLeader: boolean): void {
    this.leader.set({ name: this.id.electionId }, isLeader ? 1 : 0);
  }
}

function splitName(nsName: string): [string, string] {
  const i = nsName.indexOf('/');
  return i < 0 ? ['', nsName] : [nsName.slice(0, i), nsName.slice(i + 1)];
}

/** Both registries' text, one exposition. */
export async function metricsText(registries: Registry[]): Promise<{ text: string; contentType: string }> {
  const merged = Registry.merge(registries);
  return { text: await merged.metrics(), contentType: merged.contentType };
}
