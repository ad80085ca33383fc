import type { KubeObject } from './objects.js';
import { podGcCandidates } from './podgc.js';
import { inParallel, isNotFound, type Ctx, type Runner } from './runtime.js';
import { WorkQueue } from './work-queue.js';

/**
 * PodGC's runner: a pod whose node is gone is force-deleted once the node
 * has been missing from the cache for `quarantineMs` (upstream: 40 s) and
 * the API server confirms it; a Terminating pod on an out-of-service node
 * at once. Each force delete is logged as upstream's "PodGC is force
 * deleting Pod".
 */
export function startPodGc(ctx: Ctx, quarantineMs: number): Runner {
  /** node name → when the cache first showed pods bound to it and no Node */
  const missingSince = new Map<string, number>();
  const queue = new WorkQueue(
    'pod-garbage-collector',
    async () => {
      const nowMs = ctx.now();
      const nodes = new Map(ctx.usable(ctx.inf.nodes).map((n) => [n.metadata.name, n]));
      const candidates = podGcCandidates(ctx.usable(ctx.inf.pods), nodes);
      const missing = new Set(candidates.filter((c) => c.reason === 'orphaned').map((c) => c.pod.spec.nodeName));
      for (const n of missingSince.keys()) if (!missing.has(n)) missingSince.delete(n);
      let wakeMs = Infinity;
      const confirmed = new Map<string, boolean>();
      for (const n of missing) {
        const since = missingSince.get(n) ?? nowMs;
        missingSince.set(n, since);
        if (nowMs - since < quarantineMs) wakeMs = Math.min(wakeMs, since + quarantineMs);
        else confirmed.set(n, !(await ctx.client.tryGet('nodes', undefined, n))); // the cache may be behind
      }
      const go = candidates.filter((c) => c.reason !== 'orphaned' || confirmed.get(c.pod.spec.nodeName) === true);
      await inParallel(go, 8, async ({ pod, reason }) => {
        try {
          await ctx.client.delete('pods', pod.metadata.namespace, pod.metadata.name, {
            gracePeriodSeconds: 0,
            uid: pod.metadata.uid,
          });
        } catch (e) {
          if (isNotFound(e) || (e as { status?: number }).status === 409) return;
          throw e;
        }
        ctx.log(
          `PodGC is force deleting Pod: ${pod.metadata.namespace}/${pod.metadata.name} (${reason === 'orphaned' ? `node ${pod.spec.nodeName} is gone` : `node ${pod.spec.nodeName} is out of service`})`,
        );
      });
      if (Number.isFinite(wakeMs)) return { requeueAfterMs: Math.max(0, wakeMs - ctx.now()) + 5 };
    },
    ctx.log,
    50,
  );
  const taints = (n: KubeObject) => JSON.stringify(n.spec?.taints ?? []);
  ctx.inf.nodes.on({
    deleted: () => queue.add('all'),
    modified: (n, old) => taints(n) !== taints(old) && queue.add('all'),
  });
  const mayBeOurs = (p: KubeObject) =>
    !!p.spec?.nodeName && (!!p.metadata.deletionTimestamp || !ctx.inf.nodes.get(undefined, p.spec.nodeName));
  ctx.inf.pods.on({
    added: (p) => mayBeOurs(p) && queue.add('all'),
    modified: (p) => mayBeOurs(p) && queue.add('all'),
  });
  return { resync: () => queue.add('all'), stop: () => queue.stop() };
}
