import { Counter, Gauge, Registry } from 'prom-client';
import type { RouteRef } from '../types.js';
import { FastCounter, FastHistogram } from './series.js';

/**
 * The proxy's Prometheus metrics, in a registry of its own (the controller
 * serves it at /metrics, beside anything else it registers). Labels stay
 * bounded: route is kind/namespace/name, backend the Service port
 * ("ns/name:port"), status a class (2xx … 5xx), never a path or a client.
 */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const routeLabels = new WeakMap<RouteRef, string>();
/** "Ingress/ns/name", made once per compiled route */
export const routeLabel = (r: RouteRef | undefined): string => {
  if (!r) return '-';
  let l = routeLabels.get(r);
  if (l === undefined) routeLabels.set(r, (l = `${r.kind}/${r.name}`));
  return l;
};
const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
export const statusClass = (status: number): string =>
  CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`;

export class IngressMetrics {
  readonly registry: Registry;

  /** per request: series.ts's counters, not prom-client's (its label hashing per call was ~9% of the proxy's CPU) */
  readonly requests: FastCounter<'route' | 'backend' | 'status_class'>;
  readonly duration: FastHistogram<'route'>;
  readonly upstreamErrors: Counter<'kind' | 'backend'>;
  readonly activeConnections: Gauge<'port'>;
  /** connections or requests the engine closed or answered before routing: malformed, too large, too slow, TLS */
  readonly clientErrors: Counter<'reason'>;
  readonly mirrors: Counter<'result'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.requests = new FastCounter({
      name: 'podwire_ingress_requests_total',
      help: 'Requests answered, by route, backend Service port and status class.',
      labelNames: ['route', 'backend', 'status_class'],
      registers,
    });
    this.duration = new FastHistogram({
      name: 'podwire_ingress_request_duration_seconds',
      help: "Time from a request's arrival to the end of its response, by route.",
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'podwire_ingress_upstream_errors_total',
      help: 'Upstream failures by kind (refused, reset, connect-timeout, timeout, unreachable, protocol, other) and backend.',
      labelNames: ['kind', 'backend'],
      registers,
    });
    this.activeConnections = new Gauge({
      name: 'podwire_ingress_active_connections',
      help: 'Client connections open now, by listener port.',
      labelNames: ['port'],
      registers,
    });
    this.clientErrors = new Counter({
      name: 'podwire_ingress_client_errors_total',
      help: 'Client connections answered or closed before a request was routed, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.mirrors = new Counter({
      name: 'podwire_ingress_mirror_requests_total',
      help: 'RequestMirror copies sent, by result (answered, failed, abandoned).',
      labelNames: ['result'],
      registers,
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
