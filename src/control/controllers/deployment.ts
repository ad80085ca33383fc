import { generateName, templateHash } from './hash.js';
import {
  byCreation,
  conditionOf,
  isControlledBy,
  isPodActive,
  isPodReady,
  ownerReferenceTo,
  scaledValue,
  setCondition,
  type Condition,
  type KubeObject,
} from './objects.js';
import { isoTime } from '../time.js';

/**
 * The Deployment controller, pure. podwire has no ReplicaSet kind, so the
 * Deployment manages its pods directly; what a ReplicaSet would be is here
 * "the pods of one template", told apart by their pod-template-hash label
 * (the hash of spec.template), with names `<deployment>-<hash>-<5 chars>`
 * exactly as a Deployment's pods are named through their ReplicaSet. The
 * rollout arithmetic is upstream's, with "the new ReplicaSet" = pods with
 * the current hash and "old ReplicaSets" = all other pods:
 *
 * - RollingUpdate: maxSurge (default 25%, rounded up) extra pods may exist,
 *   maxUnavailable (default 25%, rounded down) fewer may be available; both
 *   0 is treated as maxUnavailable 1 (upstream's ResolveFenceposts). One
 *   kind of step per sync, as upstream: scale the new template up if that is
 *   possible, else scale old pods down (unready ones first).
 * - Recreate: delete all old pods, then create the new ones.
 * - Scale down picks victims as the ReplicaSet controller does: unscheduled
 *   before scheduled, Pending before Running, not ready before ready, newer
 *   before older.
 *
 * Available = Ready (minReadySeconds counts from the Ready condition's
 * lastTransitionTime). Only pods the Deployment controls (ownerReference
 * with its uid) count: podwire does not adopt orphans. A paused Deployment
 * with no rollout pending still scales; paused mid-rollout, it waits.
 */
export interface DeploymentPlan {
  hash: string;
  create: KubeObject[];
  delete: KubeObject[];
  /** the status to write (compare with the current one before writing) */
  status: Record<string, any>;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  /** ask to be synced again after this long (minReadySeconds) */
  requeueAfterMs?: number;
}

export interface PlanOptions {
  nowMs: number;
  /** the 5-character name suffix; injected so tests are deterministic */
  suffix: () => string;
}

export function deploymentHash(d: KubeObject): string {
  return templateHash(d.spec?.template, d.status?.collisionCount);
}

export function podFromTemplate(d: KubeObject, hash: string, suffix: string): KubeObject {
  const t = structuredClone(d.spec.template ?? {});
  const meta = t.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: generateName(`${d.metadata.name}-${hash}-`, suffix),
      namespace: d.metadata.namespace,
      labels: { ...(meta.labels ?? {}), 'pod-template-hash': hash },
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ownerReferences: [ownerReferenceTo(d)],
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

/** rollout arithmetic: [maxSurge, maxUnavailable] for `replicas` */
export function fenceposts(d: KubeObject, replicas: number): [number, number] {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge, replicas, true, '25%');
  const unavailable = scaledValue(ru.maxUnavailable, replicas, false, '25%');
  return surge === 0 && unavailable === 0 ? [0, 1] : [surge, unavailable];
}

export function planDeployment(d: KubeObject, allPods: KubeObject[], opts: PlanOptions): DeploymentPlan {
  const replicas: number = d.spec?.replicas ?? 1;
  const hash = deploymentHash(d);
  const recreate = d.spec?.strategy?.type === 'Recreate';
  const minReadyMs = (d.spec?.minReadySeconds ?? 0) * 1000;
  const owned = allPods.filter((p) => isControlledBy(p, d) && isPodActive(p));
  const isNew = (p: KubeObject) => p.metadata.labels?.['pod-template-hash'] === hash;
  const newPods = owned.filter(isNew);
  const oldPods = owned.filter((p) => !isNew(p));
  let requeueAfterMs: number | undefined;
  const available = (p: KubeObject) => {
    if (!isPodReady(p)) return false;
    if (!minReadyMs) return true;
    const since = Date.parse(String(conditionOf(p, 'Ready')?.lastTransitionTime ?? ''));
    const left = Number.isNaN(since) ? 0 : since + minReadyMs - opts.nowMs;
    if (left > 0) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, left);
    return left <= 0;
  };

  const create: KubeObject[] = [];
  const del: KubeObject[] = [];
  const scaleNewTo = (n: number) => {
    for (let i = newPods.length; i < n; i++) create.push(podFromTemplate(d, hash, opts.suffix()));
    del.push(...pickVictims(newPods, newPods.length - n));
  };

  const [maxSurge, maxUnavailable] = recreate ? [0, 0] : fenceposts(d, replicas);
  if (oldPods.length === 0) scaleNewTo(replicas);
  else if (d.spec?.paused) {
    // paused mid-rollout: nothing moves until it is resumed
  } else if (recreate) del.push(...oldPods);
  else if (newPods.length > replicas) scaleNewTo(replicas);
  else {
    // reconcileNewReplicaSet: surge up to replicas + maxSurge pods in all.
    const up = Math.min(replicas + maxSurge - owned.length, replicas - newPods.length);
    if (up > 0) scaleNewTo(newPods.length + up);
    else {
      // reconcileOldReplicaSets
      const minAvailable = replicas - maxUnavailable;
      const newUnavailable = newPods.filter((p) => !available(p)).length;
      const maxScaledDown = owned.length - minAvailable - newUnavailable;
      if (maxScaledDown > 0) {
        const unhealthy = pickVictims(
          oldPods.filter((p) => !available(p)),
          maxScaledDown,
        );
        del.push(...unhealthy);
        const left = owned.filter((p) => !unhealthy.includes(p));
        const availableNow = left.filter(available).length;
        const more = Math.min(availableNow - minAvailable, oldPods.length - unhealthy.length);
        if (more > 0)
          del.push(
            ...pickVictims(
              oldPods.filter((p) => !unhealthy.includes(p)),
              more,
            ),
          );
      }
    }
  }

  // Events, one per direction, worded like the ReplicaSet scaling events.
  const events: DeploymentPlan['events'] = [];
  const newAfter = newPods.length + create.length - del.filter(isNew).length;
  if (create.length)
    events.push({
      type: 'Normal',
      reason: 'SuccessfulCreate',
      message: `Scaled up ${d.metadata.name}-${hash} to ${newAfter}: created pod ${create.map((p) => p.metadata.name).join(', ')}`,
    });
  const byHash = new Map<string, KubeObject[]>();
  for (const p of del) {
    const h = p.metadata.labels?.['pod-template-hash'] ?? '';
    byHash.set(h, [...(byHash.get(h) ?? []), p]);
  }
  for (const [h, ps] of byHash) {
    const left =
      owned.filter((p) => p.metadata.labels?.['pod-template-hash'] === h).length -
      ps.length +
      (h === hash ? create.length : 0);
    events.push({
      type: 'Normal',
      reason: 'SuccessfulDelete',
      message: `Scaled down ${d.metadata.name}-${h} to ${left}: deleted pod ${ps.map((p) => p.metadata.name).join(', ')}`,
    });
  }

  const status = deploymentStatus(d, {
    owned,
    newPods,
    hash,
    planned: owned.length + create.length - del.length,
    available,
    maxUnavailable,
    recreate,
    nowMs: opts.nowMs,
  });
  return { hash, create, delete: del, status, events, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}

interface StatusInput {
  owned: KubeObject[];
  newPods: KubeObject[];
  hash: string;
  planned: number;
  available: (p: KubeObject) => boolean;
  maxUnavailable: number;
  recreate: boolean;
  nowMs: number;
}

function deploymentStatus(d: KubeObject, s: StatusInput): Record<string, any> {
  const replicas: number = d.spec?.replicas ?? 1;
  const nowIso = isoTime(s.nowMs);
  const prev = d.status ?? {};
  const availableReplicas = s.owned.filter(s.available).length;
  const status: Record<string, any> = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: s.owned.length,
    updatedReplicas: s.newPods.length,
    readyReplicas: s.owned.filter(isPodReady).length,
    availableReplicas,
    unavailableReplicas: Math.max(s.planned - availableReplicas, 0),
  };
  if (prev.collisionCount !== undefined) status.collisionCount = prev.collisionCount;
  const minAvailable = replicas - (replicas === 0 || s.recreate ? 0 : s.maxUnavailable);
  const avail: Condition =
    availableReplicas >= minAvailable
      ? {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        }
      : {
          type: 'Available',
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        };
  const complete =
    status.updatedReplicas === replicas && status.replicas === replicas && availableReplicas === replicas;
  const name = `${d.metadata.name}-${s.hash}`;
  const progressing: Condition = d.spec?.paused
    ? { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }
    : complete
      ? {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `Pods of template ${name} have successfully progressed.`,
        }
      : {
          type: 'Progressing',
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: `Pods of template ${name} are progressing.`,
        };
  let conds: Condition[] = Array.isArray(prev.conditions) ? prev.conditions : [];
  conds = withUpdateTime(conds, progressing, nowIso);
  conds = withUpdateTime(conds, avail, nowIso);
  // Upstream lists Available first, then Progressing.
  status.conditions = [...conds].sort((a, b) => order(a.type) - order(b.type));
  return status;
}

const order = (t: string) => (t === 'Available' ? 0 : t === 'Progressing' ? 1 : 2);

/** Deployment conditions also carry lastUpdateTime: set when anything about the condition changes. */
function withUpdateTime(conds: Condition[], next: Condition, nowIso: string): Condition[] {
  const prev = conds.find((c) => c.type === next.type);
  const same = prev && prev.status === next.status && prev.reason === next.reason && prev.message === next.message;
  return setCondition(conds, { ...next, lastUpdateTime: same ? (prev.lastUpdateTime ?? nowIso) : nowIso }, nowIso);
}
