/**
 * A route's backend → a BackendTarget at the Service's ClusterIP. Podwire's
 * controller proxies to ClusterIP:port and lets the agents load-balance, so a
 * Service that has no ClusterIP (headless, ExternalName, not yet allocated)
 * cannot be a backend: that is a 503 with the reason, not a hang.
 */
import type { BackendTarget, Obj } from '../types.js';
import type { ObjectIndex } from './objects.js';

export type BackendProblem = 'ServiceNotFound' | 'PortNotFound' | 'NoClusterIP';

export type BackendResult =
  | { ok: true; target: BackendTarget }
  | { ok: false; problem: BackendProblem; status: number; reason: string; target: BackendTarget };

/** How a route names the Service's port: a number, or (Ingress only) a name. */
export interface PortRef {
  number?: number;
  name?: string;
}

export function portRefText(p: PortRef): string {
  return p.number !== undefined ? String(p.number) : p.name !== undefined ? p.name : '?';
}

export function resolveServiceBackend(
  index: ObjectIndex,
  ns: string,
  name: string,
  ref: PortRef,
  weight = 1,
): BackendResult {
  const service = `${ns}/${name}`;
  const base: BackendTarget = { service, port: ref.number ?? 0, address: '', weight };
  const fail = (problem: BackendProblem, status: number, reason: string): BackendResult => ({
    ok: false,
    problem,
    status,
    reason,
    target: { ...base, failure: { status, reason } },
  });
  const svc = index.service(ns, name);
  if (!svc) return fail('ServiceNotFound', 503, `Service ${service} not found`);
  const port = findPort(svc, ref);
  if (!port) {
    const what = ref.number !== undefined ? `port ${ref.number}` : `port named "${ref.name ?? ''}"`;
    return fail('PortNotFound', 503, `Service ${service} has no ${what}`);
  }
  base.port = port.port;
  const spec: Obj = svc.spec ?? {};
  if (spec.type === 'ExternalName') {
    return fail(
      'NoClusterIP',
      503,
      `Service ${service} is type ExternalName (${spec.externalName ?? '?'}): podwire proxies only to a ClusterIP`,
    );
  }
  const ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  if (ip === 'None')
    return fail(
      'NoClusterIP',
      503,
      `Service ${service} is headless (clusterIP: None): there is no ClusterIP to proxy to`,
    );
  if (!ip) return fail('NoClusterIP', 503, `Service ${service} has no ClusterIP yet`);
  return { ok: true, target: { ...base, address: ip } };
}

function findPort(svc: Obj, ref: PortRef): Obj | undefined {
  const ports: Obj[] = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
  if (ref.number !== undefined) return ports.find((p) => p?.port === ref.number);
  if (ref.name !== undefined) return ports.find((p) => (p?.name ?? '') === ref.name);
  return undefined;
}

/** "default/api-service:80 (10.96.0.12:80)" or "… ✗ reason". */
export function backendText(t: BackendTarget, portName?: string): string {
  const port = portName ?? String(t.port);
  if (t.failure) return `${t.service}:${port} ✗ ${t.failure.reason} (${t.failure.status})`;
  return `${t.service}:${port} (${t.address}:${t.port})`;
}
