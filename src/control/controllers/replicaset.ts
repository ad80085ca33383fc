import { generateName } from './hash.js';
import {
  byCreation,
  conditionOf,
  isControlledBy,
  isPodActive,
  isPodReady,
  ownerReferenceTo,
  type KubeObject,
} from './objects.js';

/**
 * The ReplicaSet controller, pure: keep spec.replicas active pods of the
 * template, named `<replicaset>-<5 chars>`, owned by the ReplicaSet. A
 * Deployment rolls out by scaling its ReplicaSets (deployment.ts); this
 * controller only counts. Scale down picks victims as upstream's
 * controller.ActivePods order: unscheduled before scheduled, Pending
 * before Running, not ready before ready, newer before older.
 *
 * Available = Ready for minReadySeconds (from the Ready condition's
 * lastTransitionTime). Only pods the ReplicaSet controls (ownerReference
 * with its uid) count: podwire does not adopt orphans.
 */
export interface ReplicaSetPlan {
  create: KubeObject[];
  delete: KubeObject[];
  /** the status to write (compare with the current one before writing) */
  status: Record<string, any>;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  /** ask to be synced again after this long (minReadySeconds) */
  requeueAfterMs?: number;
}

export interface PodPlanOptions {
  nowMs: number;
  /** the 5-character name suffix; injected so tests are deterministic */
  suffix: () => string;
}

export function podFromTemplate(owner: KubeObject, suffix: string): KubeObject {
  const t = structuredClone(owner.spec?.template ?? {});
  const meta = t.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: generateName(`${owner.metadata.name}-`, suffix),
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ownerReferences: [ownerReferenceTo(owner)],
    },
    spec: t.spec,
  };
}

/** Lower rank = deleted first (controller.ActivePods' order). */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const bound = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  const phase = (p: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 })[p.status?.phase as string] ?? 0;
  const ready = (p: KubeObject) => (isPodReady(p) ? 1 : 0);
  return bound(a) - bound(b) || phase(a) - phase(b) || ready(a) - ready(b) || -byCreation(a, b);
}

export function pickVictims(pods: KubeObject[], n: number): KubeObject[] {
  return n <= 0 ? [] : [...pods].sort(deletionOrder).slice(0, n);
}

/** Is the pod available (Ready for minReadySeconds) at nowMs; `left` gets the ms still to wait. */
export function podAvailable(p: KubeObject, minReadySeconds: number, nowMs: number, left?: (ms: number) => void) {
  if (!isPodReady(p)) return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(String(conditionOf(p, 'Ready')?.lastTransitionTime ?? ''));
  const wait = Number.isNaN(since) ? 0 : since + minReadySeconds * 1000 - nowMs;
  if (wait > 0) left?.(wait);
  return wait <= 0;
}

/** The active pods a ReplicaSet controls. */
export function podsOf(rs: KubeObject, pods: KubeObject[]): KubeObject[] {
  return pods.filter((p) => isControlledBy(p, rs) && isPodActive(p));
}

export function planReplicaSet(rs: KubeObject, allPods: KubeObject[], opts: PodPlanOptions): ReplicaSetPlan {
  const replicas: number = rs.spec?.replicas ?? 1;
  const owned = podsOf(rs, allPods);
  let requeueAfterMs: number | undefined;
  const available = (p: KubeObject) =>
    podAvailable(p, rs.spec?.minReadySeconds ?? 0, opts.nowMs, (ms) => {
      requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, ms);
    });
  const create: KubeObject[] = [];
  for (let i = owned.length; i < replicas; i++) create.push(podFromTemplate(rs, opts.suffix()));
  const del = pickVictims(owned, owned.length - replicas);
  const events: ReplicaSetPlan['events'] = [
    ...create.map((p) => ({
      type: 'Normal' as const,
      reason: 'SuccessfulCreate',
      message: `Created pod: ${p.metadata.name}`,
    })),
    ...del.map((p) => ({
      type: 'Normal' as const,
      reason: 'SuccessfulDelete',
      message: `Deleted pod: ${p.metadata.name}`,
    })),
  ];
  const labels = rs.spec?.template?.metadata?.labels;
  const status: Record<string, any> = {
    replicas: owned.length,
    fullyLabeledReplicas: owned.filter((p) =>
      Object.entries(labels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v),
    ).length,
    readyReplicas: owned.filter(isPodReady).length,
    availableReplicas: owned.filter(available).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  return { create, delete: del, status, events, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}
