import { isoTime, setCondition, type KubeObject } from './objects.js';
import { inParallel, isConflict, isNotFound, type Ctx, type Runner } from './runtime.js';
import { evictionDecision, evictionSinceMs, taintsOf, type Taint } from './taints.js';
import { WorkQueue } from './work-queue.js';

/**
 * The taint eviction controller (upstream's TaintEvictionController, once
 * the node lifecycle controller's taint manager): a pod on a node with a
 * NoExecute taint it does not tolerate is deleted at once; one that
 * tolerates it for tolerationSeconds is deleted when that time has passed
 * (evictionDecision), with a DisruptionTarget condition
 * (DeletionByTaintManager) written first, as upstream. The delete is the ordinary graceful one: a pod on a
 * dead node turns Terminating (its agent will never confirm) and its
 * ReplicaSet, which does not count Terminating pods, makes a replacement at
 * once; PodGC removes the object later (run-podgc.ts). The sync sleeps until
 * the next deadline.
 */
const COMPONENT = 'taint-eviction-controller';
const DISRUPTION = { reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' };

export function startTaintEviction(ctx: Ctx): Runner {
  /**
   * node name → taint key → when this controller first saw a NoExecute
   * taint: the clock for one without timeAdded, and the milliseconds that
   * timeAdded (whole seconds) lacks when seen within its second.
   */
  const firstSeen = new Map<string, Map<string, number>>();
  const queue = new WorkQueue(
    'taint-eviction',
    async () => {
      const nowMs = ctx.now();
      const nodes = new Map(ctx.usable(ctx.inf.nodes).map((n) => [n.metadata.name, n]));
      for (const [name, node] of nodes) {
        const keys = new Set(
          taintsOf(node)
            .filter((t) => t.effect === 'NoExecute')
            .map((t) => t.key),
        );
        const seen = firstSeen.get(name) ?? new Map<string, number>();
        for (const k of seen.keys()) if (!keys.has(k)) seen.delete(k); // removed (and maybe added again later)
        for (const k of keys) if (!seen.has(k)) seen.set(k, nowMs);
        if (seen.size) firstSeen.set(name, seen);
        else firstSeen.delete(name);
      }
      for (const name of firstSeen.keys()) if (!nodes.has(name)) firstSeen.delete(name);
      const evict: { pod: KubeObject; taint: Taint }[] = [];
      let nextMs = Infinity;
      for (const pod of ctx.usable(ctx.inf.pods)) {
        const node = nodes.get(pod.spec?.nodeName);
        const taints = taintsOf(node).filter((t) => t.effect === 'NoExecute');
        if (!node || !taints.length) continue;
        const seen = firstSeen.get(node.metadata.name)!;
        const precise = taints.map((t) => {
          const s = seen.get(t.key)!;
          const added = t.timeAdded ? Date.parse(t.timeAdded) : NaN;
          return s - added >= 0 && s - added < 1000 ? { ...t, timeAdded: new Date(s).toISOString() } : t;
        });
        const fallback = Math.min(nowMs, ...taints.map((t) => seen.get(t.key)!));
        const d = evictionDecision(pod, precise, evictionSinceMs(pod, precise, fallback));
        if (d.evict === 'now' || (d.evict === 'at' && d.atMs <= nowMs)) evict.push({ pod, taint: d.taint });
        else if (d.evict === 'at') nextMs = Math.min(nextMs, d.atMs);
      }
      await inParallel(evict, 8, async ({ pod, taint }) => {
        const ref = `${pod.metadata.namespace}/${pod.metadata.name}`;
        ctx.events.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ref}`, COMPONENT);
        // as upstream (PodDisruptionConditions, on in v1.30): the pod says why it goes
        const why = { type: 'DisruptionTarget', status: 'True' as const, ...DISRUPTION };
        const conditions = setCondition(pod.status?.conditions, why, isoTime(nowMs));
        await ctx.client.updateStatus({ ...pod, status: { ...pod.status, conditions } }).catch((e) => {
          if (!isNotFound(e) && !isConflict(e)) throw e; // a status written meanwhile: deleted without it
        });
        try {
          await ctx.client.delete('pods', pod.metadata.namespace, pod.metadata.name, { uid: pod.metadata.uid });
        } catch (e) {
          if (isNotFound(e) || (e as { status?: number }).status === 409) return; // gone, or another pod by that name
          throw e;
        }
        ctx.log(
          `taint eviction: deleted pod ${ref} from node ${pod.spec.nodeName} (taint ${taint.key}:${taint.effect}, at ${isoTime(nowMs)})`,
        );
      });
      if (Number.isFinite(nextMs)) return { requeueAfterMs: Math.max(0, nextMs - ctx.now()) + 5 };
    },
    ctx.log,
    20,
  );
  const noExecute = (n: KubeObject | undefined) => JSON.stringify(taintsOf(n).filter((t) => t.effect === 'NoExecute'));
  ctx.inf.nodes.on({
    added: (n) => taintsOf(n).length > 0 && queue.add('all'),
    modified: (n, old) => noExecute(n) !== noExecute(old) && queue.add('all'),
  });
  // a pod bound (or its tolerations changed) on a tainted node
  const onTainted = (p: KubeObject) => {
    const n = p.spec?.nodeName ? ctx.inf.nodes.get(undefined, p.spec.nodeName) : undefined;
    if (taintsOf(n).some((t) => t.effect === 'NoExecute')) queue.add('all');
  };
  ctx.inf.pods.on({ added: onTainted, modified: onTainted });
  return { resync: () => queue.add('all'), stop: () => queue.stop() };
}
