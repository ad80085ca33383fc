/**
 * Backend health, as a cloud load balancer tracks it for each Service and
 * each node (GCP with GKE: one health check per Service): a pure state
 * machine fed one probe result at a time.
 *
 *   unknown ──1 success──▶ healthy ──2 failures in a row──▶ unhealthy
 *      │                      ▲                                │
 *      └──2 failures──▶ unhealthy ◀──────────1 success─────────┘ (back to healthy)
 *
 * `unknown` (never checked, or one failure so far) takes no new flows, like
 * unhealthy; when no node of a Service is healthy the balancer sends to all
 * of them (GCP's last resort: "fail open").
 */
export type Health = 'unknown' | 'healthy' | 'unhealthy';

export const UNHEALTHY_THRESHOLD = 2;
export const HEALTHY_THRESHOLD = 1;
/** how often each Service's nodes are probed, and how long a probe may take */
export const CHECK_INTERVAL_MS = 2000;
export const CHECK_TIMEOUT_MS = 1500;
/** kube-proxy's healthz port: what GKE checks for externalTrafficPolicy Cluster */
export const KUBE_PROXY_HEALTHZ_PORT = 10256;

export interface HealthState {
  state: Health;
  /** failures in a row */
  failures: number;
  /** successes in a row */
  successes: number;
  /** what the last probe saw ("200", "connection refused", …) */
  last: string;
  lastCheckMs: number;
  /** when `state` last changed */
  sinceMs: number;
}

export const initialHealth = (nowMs: number): HealthState => ({
  state: 'unknown',
  failures: 0,
  successes: 0,
  last: 'not checked yet',
  lastCheckMs: 0,
  sinceMs: nowMs,
});

export function observeProbe(prev: HealthState, ok: boolean, detail: string, nowMs: number): HealthState {
  const failures = ok ? 0 : prev.failures + 1;
  const successes = ok ? prev.successes + 1 : 0;
  let state = prev.state;
  if (ok && successes >= HEALTHY_THRESHOLD) state = 'healthy';
  else if (!ok && failures >= UNHEALTHY_THRESHOLD) state = 'unhealthy';
  return {
    state,
    failures,
    successes,
    last: detail,
    lastCheckMs: nowMs,
    sinceMs: state === prev.state ? prev.sinceMs : nowMs,
  };
}

/** What is probed for a Service on a node (GKE's health checks for kube-proxy). */
export interface HealthCheckTarget {
  url: string;
  /** "service" (externalTrafficPolicy Local: are there local endpoints?) or "kube-proxy" (Cluster: is the node's proxy up?) */
  kind: 'service' | 'kube-proxy';
}

export function healthCheckTarget(
  spec: { externalTrafficPolicy?: string; healthCheckNodePort?: number },
  nodeIp: string,
): HealthCheckTarget {
  if (
    spec.externalTrafficPolicy === 'Local' &&
    Number.isInteger(spec.healthCheckNodePort) &&
    spec.healthCheckNodePort! > 0
  ) {
    return { url: `http://${nodeIp}:${spec.healthCheckNodePort}/`, kind: 'service' };
  }
  return { url: `http://${nodeIp}:${KUBE_PROXY_HEALTHZ_PORT}/healthz`, kind: 'kube-proxy' };
}
