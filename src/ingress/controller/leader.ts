import type { KubeObject } from '../../control/client/index.js';

/**
 * Which replica writes statuses, Gateway Services and events: the Ready
 * controller pod whose name sorts first. ingress-nginx elects with a
 * Lease (--election-id); podwire serves no Leases, and every replica
 * already watches its fellow pods, so each can tell on its own — two
 * replicas that briefly disagree (one has seen a pod become Ready, the
 * other not yet) both write the same desired status, which is harmless.
 * Pure.
 */
export const isPodReady = (p: KubeObject): boolean =>
  !p.metadata.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

export function leaderOf(pods: readonly KubeObject[]): string | null {
  const ready = pods
    .filter(isPodReady)
    .map((p) => p.metadata.name)
    .sort();
  return ready[0] ?? null;
}

/** `self` undefined: the controller runs outside a pod (a test, a developer's shell): it leads alone. */
export function isLeader(self: string | undefined, pods: readonly KubeObject[]): boolean {
  if (!self) return true;
  return leaderOf(pods) === self;
}

/** Labels that pick out the controller's pods from its own: the Deployment's, not the ReplicaSet's hash. */
export function fellowSelector(labels: Record<string, string> | undefined): string {
  const l = { ...(labels ?? {}) };
  delete l['pod-template-hash'];
  delete l['controller-revision-hash'];
  const keys = Object.keys(l).sort();
  return keys.map((k) => `${k}=${l[k]}`).join(',');
}
