import type { KubeObject } from '../client/api-client.js';
import { canonicalJson } from '../canonical-json.js';
import { ControlError } from '../errors.js';

/**
 * Small, pure helpers every controller shares: what a pod's conditions say,
 * owner references, conditions with Kubernetes' transition-time rule, and a
 * canonical JSON for "did anything change" comparisons.
 */
export type { KubeObject };

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** metav1.Time: RFC 3339 with whole seconds. */
export { isoTime } from '../time.js';

export const keyOf = (o: { metadata: { namespace?: string; name: string } }): string =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

export function conditionOf(o: KubeObject | undefined, type: string): Condition | undefined {
  const cs = o?.status?.conditions;
  return Array.isArray(cs) ? cs.find((c: Condition) => c && c.type === type) : undefined;
}

/** podutil.IsPodReady: the Ready condition is True. */
export const isPodReady = (pod: KubeObject): boolean => conditionOf(pod, 'Ready')?.status === 'True';

export const isPodTerminal = (pod: KubeObject): boolean =>
  pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export const isRunningAndReady = (pod: KubeObject): boolean => pod.status?.phase === 'Running' && isPodReady(pod);

export const isTerminating = (o: KubeObject): boolean => !!o.metadata.deletionTimestamp;

/** Active in the ReplicaSet controller's sense: not finished, not being deleted. */
export const isPodActive = (pod: KubeObject): boolean => !isPodTerminal(pod) && !isTerminating(pod);

/** The owner reference with controller: true, if any. */
export function controllerRef(o: KubeObject): OwnerReference | undefined {
  const refs = o.metadata.ownerReferences;
  return Array.isArray(refs) ? refs.find((r: OwnerReference) => r && r.controller === true) : undefined;
}

/** Is `o` controlled by `owner` (same kind and uid)? */
export function isControlledBy(o: KubeObject, owner: KubeObject): boolean {
  const r = controllerRef(o);
  return !!r && r.uid === owner.metadata.uid && r.kind === owner.kind;
}

export function ownerReferenceTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The conditions with `next` set, as Kubernetes does it: the condition keeps
 * its lastTransitionTime unless its status changes. Returns the same array
 * when nothing changed (so callers can skip the write).
 */
export function setCondition(conditions: Condition[] | undefined, next: Condition, nowIso: string): Condition[] {
  const list = Array.isArray(conditions) ? conditions : [];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const merged: Condition = {
    ...prev,
    ...next,
    lastTransitionTime: prev && prev.status === next.status ? (prev.lastTransitionTime ?? nowIso) : nowIso,
  };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  if (prev && canonicalJson(prev) === canonicalJson(merged)) return list;
  return i >= 0 ? list.map((c, j) => (j === i ? merged : c)) : [...list, merged];
}

export function removeCondition(conditions: Condition[] | undefined, type: string): Condition[] {
  const list = Array.isArray(conditions) ? conditions : [];
  return list.some((c) => c.type === type) ? list.filter((c) => c.type !== type) : list;
}

export { canonicalJson };

/** Oldest first by creationTimestamp, then by name (stable, deterministic). */
export function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = String(a.metadata.creationTimestamp ?? '');
  const tb = String(b.metadata.creationTimestamp ?? '');
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

export const byName = (a: { metadata: { name: string } }, b: { metadata: { name: string } }): number =>
  a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;

/** intstr: an int, or "N%" of `total`, rounded up or down (intstr.GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const x = v === undefined || v === null ? dflt : v;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    if (/^\d+$/.test(x)) return Number(x);
    throw new ControlError(
      'ERR_BAD_INT_OR_STRING',
      `invalid value for IntOrString: invalid type: string is not a percentage: "${x}"`,
    );
  }
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/**
 * Why an object cannot be reasoned about, or null. The API server checks
 * specs strictly, but Pod and Node status are opaque to it (agents write
 * them): a controller skips such an object (and says so) rather than fail
 * the whole sync it is part of.
 */
export function malformedReason(o: KubeObject): string | null {
  if (!o || typeof o !== 'object' || !o.metadata || typeof o.metadata.name !== 'string') return 'no metadata.name';
  const isObj = (x: unknown) => !!x && typeof x === 'object' && !Array.isArray(x);
  if (o.metadata.labels !== undefined && !isObj(o.metadata.labels)) return 'metadata.labels is not a map';
  if (o.status !== undefined && o.status !== null && !isObj(o.status)) return 'status is not an object';
  const conds = o.status?.conditions;
  if (conds !== undefined && conds !== null && (!Array.isArray(conds) || conds.some((c: unknown) => !isObj(c))))
    return 'status.conditions is not a list of conditions';
  if (o.kind === 'Pod') {
    if (!isObj(o.spec) || !Array.isArray(o.spec.containers) || o.spec.containers.some((c: unknown) => !isObj(c)))
      return 'spec.containers is not a list of containers';
    if (o.status?.podIP !== undefined && typeof o.status.podIP !== 'string') return 'status.podIP is not a string';
  }
  if (o.spec !== undefined && !isObj(o.spec)) return 'spec is not an object';
  return null;
}
