import { conditionOf, isTerminating, type KubeObject } from './objects.js';

/**
 * Taints and tolerations, pure: what the node lifecycle controller taints a
 * node with for its Ready condition (upstream's TaintNodesByCondition and
 * taint-based eviction), whether a pod's tolerations tolerate a taint
 * (v1.Toleration.ToleratesTaint), and when the taint eviction controller
 * deletes a pod from a node with NoExecute taints (its
 * getMinTolerationTime): at once when a NoExecute taint is not tolerated,
 * after the smallest tolerationSeconds of the tolerations used when all are,
 * never when none of those sets tolerationSeconds. Clocks are parameters.
 */
export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** An operator's word that a NotReady node is gone for good: PodGC may force-delete its terminating pods. */
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';
/** The DefaultTolerationSeconds admission plugin's default (it lives in the API server: strategies/pod.ts). */
export const DEFAULT_TOLERATION_SECONDS = 300;

/** The taints the node controller owns: added and removed by it alone. */
const CONDITION_TAINTS = [TAINT_NOT_READY, TAINT_UNREACHABLE];

/** v1.Toleration.ToleratesTaint: effect empty matches all, key empty (with Exists) matches all keys. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** v1helper.TolerationsTolerateTaint: does any of them tolerate `taint`? */
export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (Array.isArray(tolerations) ? tolerations : []).some((t) => t && toleratesTaint(t, taint));
}

export function taintsOf(node: KubeObject | undefined): Taint[] {
  const t = node?.spec?.taints;
  return Array.isArray(t) ? t.filter((x) => x && typeof x.key === 'string') : [];
}

/** kubectl's "key=value:effect" (value left out when empty). */
export const taintString = (t: Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;

/**
 * The node's taints as its Ready condition asks: Ready=False →
 * not-ready:NoSchedule and :NoExecute, Ready=Unknown →
 * unreachable:NoSchedule and :NoExecute, Ready=True (or no Ready condition
 * yet: the lifecycle controller gives it Unknown after the grace period) →
 * none of them. Taints set by others stay; one already present keeps its timeAdded.
 * Null when nothing changes.
 */
export function conditionTaints(node: KubeObject, nowIso: string): Taint[] | null {
  const have = taintsOf(node);
  const status = conditionOf(node, 'Ready')?.status;
  const key = status === 'False' ? TAINT_NOT_READY : status === 'Unknown' ? TAINT_UNREACHABLE : null;
  const want = key ? ['NoSchedule', 'NoExecute'].map((effect) => ({ key, effect })) : [];
  const owned = (t: Taint) =>
    CONDITION_TAINTS.includes(t.key) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  const same = (a: Taint, b: { key: string; effect: string }) => a.key === b.key && a.effect === b.effect;
  const keep = have.filter((t) => !owned(t) || want.some((w) => same(t, w)));
  const add = want.filter((w) => !have.some((t) => same(t, w))).map((w) => ({ ...w, timeAdded: nowIso }));
  if (keep.length === have.length && !add.length) return null;
  return [...keep, ...add];
}

export type EvictionDecision =
  { evict: 'now'; taint: Taint } | { evict: 'at'; atMs: number; taint: Taint } | { evict: 'never' };

/**
 * When the taint eviction controller deletes `pod` from its node with
 * `taints`: the NoExecute taints are what count; the first one no
 * toleration tolerates → now; else the clock starts at `sinceMs` (when the
 * taint was added, or the pod met it) and runs for the smallest
 * tolerationSeconds among the tolerations used, the first
 * that tolerates each taint (≤ 0: now); none with
 * tolerationSeconds → never. Terminating pods are left alone.
 */
export function evictionDecision(pod: KubeObject, taints: Taint[], sinceMs: number): EvictionDecision {
  if (isTerminating(pod)) return { evict: 'never' };
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  const tolerations: Toleration[] = Array.isArray(pod.spec?.tolerations) ? pod.spec.tolerations : [];
  let minSeconds = Infinity;
  let which: Taint | undefined;
  for (const taint of noExecute) {
    // upstream's GetMatchingTolerations: the first toleration that tolerates the taint is the one used
    const used = tolerations.find((t) => t && toleratesTaint(t, taint));
    if (!used) return { evict: 'now', taint };
    if (typeof used.tolerationSeconds !== 'number') continue;
    const s = Math.max(0, used.tolerationSeconds);
    if (s < minSeconds) {
      minSeconds = s;
      which = taint;
    }
  }
  if (!which) return { evict: 'never' };
  if (minSeconds === 0) return { evict: 'now', taint: which };
  return { evict: 'at', atMs: sinceMs + minSeconds * 1000, taint: which };
}

/**
 * When the eviction clock starts for `pod` on a node with `taints`: when the
 * node's first NoExecute taint was added (its timeAdded; `fallbackMs`, when
 * this controller first saw it, for one without), or when the pod was
 * scheduled there (its PodScheduled condition, else its creation) if that
 * is later — a pod that meets a taint gets its whole tolerationSeconds.
 */
export function evictionSinceMs(pod: KubeObject, taints: Taint[], fallbackMs: number): number {
  let since = Infinity;
  for (const t of taints) {
    if (t.effect !== 'NoExecute') continue;
    const ms = t.timeAdded ? Date.parse(t.timeAdded) : NaN;
    since = Math.min(since, Number.isFinite(ms) ? ms : fallbackMs);
  }
  if (!Number.isFinite(since)) since = fallbackMs;
  const scheduled = Date.parse(
    String(conditionOf(pod, 'PodScheduled')?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? ''),
  );
  return Number.isFinite(scheduled) ? Math.max(since, scheduled) : since;
}
