import { errors } from '../status.js';
import type { KubeObject } from '../object.js';
import type { Strategy } from './strategy.js';

/**
 * Pods start Pending; a Pod bound to a node is deleted gracefully, as in
 * Kubernetes: its grace period is ?gracePeriodSeconds, the body's
 * gracePeriodSeconds, else the pod's terminationGracePeriodSeconds, and it
 * shows as Terminating until its agent has stopped its containers and
 * deletes it with grace 0. Grace 0 deletes at once (kubectl delete --force
 * --grace-period=0, for a pod whose node is gone).
 */
export const podStrategy: Strategy = {
  prepareForCreate(o) {
    o.status = { phase: 'Pending', qosClass: 'BestEffort' };
  },
  // ephemeral containers come only through pods/ephemeralcontainers (kubectl debug), as in Kubernetes
  async beforeWrite(_t, o, cur) {
    // the DefaultTolerationSeconds admission plugin (create and update): not-ready and unreachable NoExecute for 300 s
    if (o.spec && typeof o.spec === 'object') {
      const t = defaultTolerations(o.spec.tolerations);
      if (t !== o.spec.tolerations) o.spec = { ...o.spec, tolerations: t };
    }
    if (!cur && ((o.spec?.ephemeralContainers ?? []) as unknown[]).length)
      throw errors.invalid('Pod', o.metadata.name, [
        { field: 'spec.ephemeralContainers', reason: 'FieldValueForbidden', message: 'cannot be set on create' },
      ]);
    return o;
  },
  gracePeriodSeconds(cur: KubeObject, q, opts) {
    if (!cur.spec?.nodeName) return 0;
    const raw = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    const grace = raw === undefined || raw === null ? (cur.spec.terminationGracePeriodSeconds ?? 30) : Number(raw);
    if (!Number.isInteger(grace) || grace < 0)
      throw errors.badRequest(`gracePeriodSeconds must be a whole number of seconds ≥ 0 (got ${String(raw)})`);
    return grace;
  },
};

type Toleration = { key?: string; operator?: string; effect?: string; tolerationSeconds?: number };

/**
 * The DefaultTolerationSeconds admission plugin: a pod that does not
 * already tolerate node.kubernetes.io/not-ready (or unreachable) NoExecute
 * — a toleration with that key or no key, and effect NoExecute or none —
 * gets one, Exists, for 300 s, so the taint eviction controller replaces
 * it five minutes after its node is lost. Returns the tolerations to store
 * (the same array when none is added).
 */
export function defaultTolerations(tolerations: unknown, seconds = 300): Toleration[] {
  const list = (Array.isArray(tolerations) ? tolerations : []) as Toleration[];
  const covers = (key: string) =>
    list.some((t) => t && (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const add = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']
    .filter((k) => !covers(k))
    .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }));
  return add.length ? [...list, ...add] : list;
}
