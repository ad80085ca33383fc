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
/** The DefaultTolerationSeconds admission plugin's two flags (kube-apiserver's default: 300 each). */
export interface DefaultTolerationSeconds {
  /** --default-not-ready-toleration-seconds */
  notReady: number;
  /** --default-unreachable-toleration-seconds */
  unreachable: number;
}

export const DEFAULT_TOLERATION_SECONDS: DefaultTolerationSeconds = { notReady: 300, unreachable: 300 };

export const makePodStrategy = (
  tolerationSeconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS,
): Strategy => ({
  prepareForCreate(o) {
    o.status = { phase: 'Pending', qosClass: 'BestEffort' };
  },
  // ephemeral containers come only through pods/ephemeralcontainers (kubectl debug), as in Kubernetes
  async beforeWrite(_t, o, cur) {
    // the DefaultTolerationSeconds admission plugin (create and update): not-ready and unreachable NoExecute
    // for the server's --default-*-toleration-seconds (300 s unless set)
    if (o.spec && typeof o.spec === 'object') {
      const t = defaultTolerations(o.spec.tolerations, tolerationSeconds);
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
});

export const podStrategy: Strategy = makePodStrategy();

type Toleration = { key?: string; operator?: string; effect?: string; tolerationSeconds?: number };

/**
 * The DefaultTolerationSeconds admission plugin: a pod that does not
 * already tolerate node.kubernetes.io/not-ready (or unreachable) NoExecute
 * — a toleration with that key or no key, and effect NoExecute or none —
 * gets one, Exists, for the server's --default-not-ready-toleration-seconds
 * (--default-unreachable-toleration-seconds), 300 s unless set, so the taint
 * eviction controller replaces it that long after its node is lost. Returns
 * the tolerations to store (the same array when none is added).
 */
export function defaultTolerations(
  tolerations: unknown,
  seconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS,
): Toleration[] {
  const list = (Array.isArray(tolerations) ? tolerations : []) as Toleration[];
  const covers = (key: string) =>
    list.some((t) => t && (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const add = (
    [
      ['node.kubernetes.io/not-ready', seconds.notReady],
      ['node.kubernetes.io/unreachable', seconds.unreachable],
    ] as const
  )
    .filter(([k]) => !covers(k))
    .map(([key, s]) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: s }));
  return add.length ? [...list, ...add] : list;
}
