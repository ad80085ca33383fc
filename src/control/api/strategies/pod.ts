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
