import { templateHash } from './hash.js';
import {
  byCreation,
  isControlledBy,
  isPodActive,
  ownerReferenceTo,
  scaledValue,
  setCondition,
  type Condition,
  type KubeObject,
} from './objects.js';
import { isoTime } from '../time.js';

/**
 * The Deployment controller, pure, as upstream's (pkg/controller/deployment):
 * a Deployment owns one ReplicaSet per pod template, `<deployment>-<hash>`
 * with the pod-template-hash label on its selector, template and pods, and
 * rolls out by scaling those ReplicaSets; the ReplicaSet controller
 * (replicaset.ts) makes and removes the pods.
 *
 * - The new ReplicaSet is the one whose template is the Deployment's (the
 *   hash of the template without its hash label; see templateKey); all
 *   others are old. Its `deployment.kubernetes.io/revision` is one more than
 *   the old ones' highest — so `kubectl rollout undo`, which patches an old
 *   ReplicaSet's template back into the Deployment, makes that ReplicaSet
 *   the new one again under the next revision, as upstream.
 * - RollingUpdate (rolling.go): maxSurge (default 25%, rounded up) extra pods
 *   may exist, maxUnavailable (default 25%, rounded down) fewer may be
 *   available; both 0 is treated as maxUnavailable 1. Scale the new
 *   ReplicaSet up if possible, else clean up old ReplicaSets' unavailable
 *   replicas, then scale old ones down (oldest first) while at least
 *   replicas − maxUnavailable stay available.
 * - Recreate: old ReplicaSets to 0, and once none of their pods is left,
 *   the new one to replicas.
 * - Paused: no new ReplicaSet; with no rollout pending it still scales.
 * - Old ReplicaSets at 0 beyond spec.revisionHistoryLimit (default 10) are
 *   deleted once a rollout is complete, oldest revision first.
 *
 * Availability comes from the ReplicaSets' status (their controller counts
 * pods Ready for minReadySeconds). Only ReplicaSets the Deployment controls
 * (ownerReference with its uid) count: podwire does not adopt orphans.
 */
export interface DeploymentPlan {
  hash: string;
  /** the new ReplicaSet, when the template has none yet */
  create: KubeObject[];
  /** ReplicaSets with a new spec.replicas or annotations: the objects to write */
  update: KubeObject[];
  /** old ReplicaSets beyond revisionHistoryLimit */
  delete: KubeObject[];
  /** the Deployment's annotations, when its revision changes */
  annotations?: Record<string, string>;
  /** the status to write (compare with the current one before writing) */
  status: Record<string, any>;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';

/** Annotations of a Deployment that are not copied to its ReplicaSets, nor back by rollout undo (upstream's annotationsToSkip). */
export const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

/**
 * A template as compared between a Deployment and its ReplicaSets (upstream's
 * EqualIgnoreHash, a semantic DeepEqual of the Go structs): without the
 * hash label, and without the null, {} and [] values that Go's encoding adds
 * or drops (`creationTimestamp: null`, `resources: {}`) — kubectl rollout
 * undo sends a template back as Go printed it.
 */
export function templateKey(template: unknown): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const a = v.map(strip).filter((x) => x !== undefined);
      return a.length ? a : undefined;
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const s = strip(x);
        if (s !== undefined) out[k] = s;
      }
      return Object.keys(out).length ? out : undefined;
    }
    return v === null ? undefined : v;
  };
  const t = structuredClone((template ?? {}) as Record<string, any>);
  if (t.metadata?.labels) delete t.metadata.labels[HASH_LABEL];
  return strip(t) ?? {};
}

export function deploymentHash(d: KubeObject): string {
  return templateHash(templateKey(d.spec?.template), d.status?.collisionCount);
}

export const rsRevision = (o: KubeObject): number => {
  const n = Number(o.metadata.annotations?.[REVISION] ?? '0');
  return Number.isInteger(n) && n > 0 ? n : 0;
};

/** rollout arithmetic: [maxSurge, maxUnavailable] for `replicas` */
export function fenceposts(d: KubeObject, replicas: number): [number, number] {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge, replicas, true, '25%');
  const unavailable = scaledValue(ru.maxUnavailable, replicas, false, '25%');
  return surge === 0 && unavailable === 0 ? [0, 1] : [surge, unavailable];
}

/** The Deployment's annotations a ReplicaSet carries (change-cause and the user's own). */
function copiedAnnotations(d: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((d.metadata.annotations ?? {}) as Record<string, string>))
    if (!ANNOTATIONS_TO_SKIP.has(k)) out[k] = v;
  return out;
}

export function newReplicaSet(d: KubeObject, hash: string, replicas: number, annotations: Record<string, string>) {
  const t = structuredClone(d.spec?.template ?? {});
  t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
  const sel = structuredClone(d.spec?.selector ?? {});
  sel.matchLabels = { ...(sel.matchLabels ?? {}), [HASH_LABEL]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: { ...(d.spec?.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash },
      annotations,
      ownerReferences: [ownerReferenceTo(d)],
    },
    spec: {
      replicas,
      ...(d.spec?.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}),
      selector: sel,
      template: t,
    },
  };
}

export interface PlanInput {
  /** the ReplicaSets of the Deployment's namespace (those it controls are picked out) */
  replicaSets: KubeObject[];
  /** the pods of the namespace (Recreate waits for the old ones to go) */
  pods: KubeObject[];
  nowMs: number;
}

export function planDeployment(d: KubeObject, input: PlanInput): DeploymentPlan {
  const replicas: number = d.spec?.replicas ?? 1;
  const hash = deploymentHash(d);
  const key = JSON.stringify(templateKey(d.spec?.template));
  const recreate = d.spec?.strategy?.type === 'Recreate';
  const paused = !!d.spec?.paused;
  const owned = input.replicaSets
    .filter((rs) => isControlledBy(rs, d) && !rs.metadata.deletionTimestamp)
    .sort(byCreation);
  const isNew = (rs: KubeObject) =>
    rs.metadata.labels?.[HASH_LABEL] === hash || JSON.stringify(templateKey(rs.spec?.template)) === key;
  const existingNew = owned.find(isNew);
  const old = owned.filter((rs) => rs !== existingNew);
  const [maxSurge, maxUnavailable] = recreate ? [0, 0] : fenceposts(d, replicas);
  const specOf = (rs: KubeObject): number => rs.spec?.replicas ?? 1;
  const availableOf = (rs: KubeObject): number => rs.status?.availableReplicas ?? 0;

  // What each ReplicaSet should be: spec.replicas and annotations, changed in place on copies.
  const want = new Map<KubeObject, { replicas: number; annotations: Record<string, string> }>();
  for (const rs of owned) want.set(rs, { replicas: specOf(rs), annotations: { ...(rs.metadata.annotations ?? {}) } });
  const events: DeploymentPlan['events'] = [];
  const scale = (rs: KubeObject, n: number) => {
    const w = want.get(rs)!;
    if (w.replicas === n) return false;
    events.push({
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      message: `Scaled ${n > w.replicas ? 'up' : 'down'} replica set ${rs.metadata.name} to ${n} from ${w.replicas}`,
    });
    w.replicas = n;
    w.annotations[DESIRED_REPLICAS] = String(replicas);
    w.annotations[MAX_REPLICAS] = String(replicas + maxSurge);
    return true;
  };
  const sum = (f: (rs: KubeObject) => number, list = owned) => list.reduce((n, rs) => n + f(rs), 0);
  const wanted = (rs: KubeObject) => want.get(rs)!.replicas;

  // The new ReplicaSet and its revision.
  const maxOldRevision = Math.max(0, ...old.map(rsRevision));
  const revision = String(maxOldRevision + 1);
  let newRS: KubeObject | undefined = existingNew;
  const create: KubeObject[] = [];
  if (newRS) {
    const w = want.get(newRS)!;
    const had = rsRevision(newRS);
    Object.assign(w.annotations, copiedAnnotations(d));
    if (had < maxOldRevision + 1) {
      w.annotations[REVISION] = revision;
      if (had) {
        const prev = w.annotations[REVISION_HISTORY];
        w.annotations[REVISION_HISTORY] = prev ? `${prev},${had}` : String(had);
      }
    }
  } else if (!paused) {
    // NewRSNewReplicas: a rolling update starts within maxSurge; Recreate waits for the old pods.
    const current = sum(specOf, old);
    const initial = recreate ? 0 : Math.max(0, Math.min(replicas + maxSurge - current, replicas));
    const annotations = {
      ...copiedAnnotations(d),
      [REVISION]: revision,
      [DESIRED_REPLICAS]: String(replicas),
      [MAX_REPLICAS]: String(replicas + maxSurge),
    };
    newRS = newReplicaSet(d, hash, initial, annotations);
    create.push(newRS);
    want.set(newRS, { replicas: initial, annotations });
    owned.push(newRS);
    if (initial > 0)
      events.push({
        type: 'Normal',
        reason: 'ScalingReplicaSet',
        message: `Scaled up replica set ${newRS.metadata.name} from 0 to ${initial}`,
      });
  }

  const oldActive = old.filter((rs) => specOf(rs) > 0 || (rs.status?.replicas ?? 0) > 0);
  if (!newRS) {
    // paused before the template's first rollout: nothing moves
  } else if (paused) {
    if (!oldActive.length) scale(newRS, replicas);
  } else if (recreate) {
    for (const rs of old) scale(rs, 0);
    const oldPods = input.pods.filter((p) => isPodActive(p) && old.some((rs) => isControlledBy(p, rs)));
    if (!oldPods.length && !oldActive.some((rs) => (rs.status?.replicas ?? 0) > 0)) scale(newRS, replicas);
  } else {
    rolling(newRS);
  }

  function rolling(n: KubeObject) {
    // reconcileNewReplicaSet
    if (wanted(n) > replicas) {
      scale(n, replicas);
      return;
    }
    if (wanted(n) < replicas) {
      const current = sum(wanted);
      const up = Math.min(replicas + maxSurge - current, replicas - wanted(n));
      if (up > 0 && scale(n, wanted(n) + up)) return;
    }
    // reconcileOldReplicaSets
    if (sum(wanted, old) === 0) return;
    const minAvailable = replicas - maxUnavailable;
    const newUnavailable = Math.max(0, wanted(n) - availableOf(n));
    const maxScaledDown = sum(wanted) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    // cleanupUnhealthyReplicas: old replicas that are not available go first
    let cleaned = 0;
    for (const rs of old) {
      if (cleaned >= maxScaledDown) break;
      const unhealthy = wanted(rs) - Math.min(availableOf(rs), wanted(rs));
      if (wanted(rs) === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      scale(rs, wanted(rs) - down);
      cleaned += down;
    }
    // scaleDownOldReplicaSetsForRollingUpdate: keep minAvailable available, oldest first
    const availableNow = sum(availableOf);
    if (availableNow <= minAvailable) return;
    const total = availableNow - minAvailable;
    let down = 0;
    for (const rs of old) {
      if (down >= total) break;
      if (wanted(rs) === 0) continue;
      const k = Math.min(wanted(rs), total - down);
      scale(rs, wanted(rs) - k);
      down += k;
    }
  }

  const update: KubeObject[] = [];
  for (const rs of owned) {
    if (create.includes(rs)) continue;
    const w = want.get(rs)!;
    const same =
      w.replicas === specOf(rs) &&
      JSON.stringify(sortKeys(w.annotations)) === JSON.stringify(sortKeys(rs.metadata.annotations ?? {}));
    if (!same)
      update.push({
        ...rs,
        metadata: { ...rs.metadata, annotations: w.annotations },
        spec: { ...rs.spec, replicas: w.replicas },
      });
  }

  // The Deployment carries the new ReplicaSet's revision.
  let annotations: Record<string, string> | undefined;
  const newRevision = newRS ? want.get(newRS)!.annotations[REVISION] : undefined;
  if (newRevision && d.metadata.annotations?.[REVISION] !== newRevision)
    annotations = { ...(d.metadata.annotations ?? {}), [REVISION]: newRevision };

  // Old ReplicaSets at 0 beyond the history limit, once nothing rolls.
  const del: KubeObject[] = [];
  const limit: number = d.spec?.revisionHistoryLimit ?? 10;
  if (newRS && !create.length && old.every((rs) => wanted(rs) === 0)) {
    const idle = old
      .filter((rs) => specOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0)
      .sort((a, b) => rsRevision(a) - rsRevision(b) || byCreation(a, b));
    del.push(...idle.slice(0, Math.max(0, idle.length - limit)));
  }

  const status = deploymentStatus(d, {
    all: owned.filter((rs) => !create.includes(rs)),
    newRS: newRS && !create.includes(newRS) ? newRS : undefined,
    newName: newRS?.metadata.name ?? `${d.metadata.name}-${hash}`,
    wantedTotal: sum(wanted),
    maxUnavailable,
    recreate,
    nowMs: input.nowMs,
  });
  return { hash, create, update, delete: del, ...(annotations ? { annotations } : {}), status, events };
}

const sortKeys = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

interface StatusInput {
  all: KubeObject[];
  newRS?: KubeObject;
  newName: string;
  /** spec.replicas of all ReplicaSets after this plan */
  wantedTotal: number;
  maxUnavailable: number;
  recreate: boolean;
  nowMs: number;
}

/** calculateStatus: the ReplicaSets' counts summed; conditions with upstream's reasons and words. */
function deploymentStatus(d: KubeObject, s: StatusInput): Record<string, any> {
  const replicas: number = d.spec?.replicas ?? 1;
  const nowIso = isoTime(s.nowMs);
  const prev = d.status ?? {};
  const total = (f: string) => s.all.reduce((n, rs) => n + (rs.status?.[f] ?? 0), 0);
  const availableReplicas = total('availableReplicas');
  const status: Record<string, any> = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: total('replicas'),
    updatedReplicas: s.newRS?.status?.replicas ?? 0,
    readyReplicas: total('readyReplicas'),
    availableReplicas,
    unavailableReplicas: Math.max(s.wantedTotal - availableReplicas, 0),
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
  const progressing: Condition = d.spec?.paused
    ? { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }
    : complete
      ? {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${s.newName}" has successfully progressed.`,
        }
      : {
          type: 'Progressing',
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "${s.newName}" is progressing.`,
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
