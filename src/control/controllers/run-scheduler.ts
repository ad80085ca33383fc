import { resourcePath } from '../client/api-client.js';
import { byCreation, canonicalJson, conditionOf, isoTime, setCondition, type KubeObject } from './objects.js';
import {
  countPodsPerNode,
  countSiblings,
  spreadGroup,
  DEFAULT_SCHEDULER,
  needsScheduling,
  schedulePods,
} from './scheduler.js';
import { inParallel, isConflict, isNotFound, type Ctx, type Runner } from './runtime.js';
import { WorkQueue } from './work-queue.js';

/**
 * The scheduler's runner: all unbound pods are placed in one pass (one
 * queue key), in creation order. A pod being bound is "assumed" on its node
 * until the watch shows the binding (kube-scheduler's assume cache), so the
 * next pass counts it and a burst of pods spreads evenly. Unschedulable
 * pods are tried again when a node changes in a way that matters.
 */
export function startScheduler(ctx: Ctx): Runner {
  const assumed = new Map<string, string>(); // pod uid → node
  const assumedGroup = new Map<string, string>(); // pod uid → spread group
  const queue = new WorkQueue(
    'scheduler',
    async () => {
      const pods = ctx.usable(ctx.inf.pods);
      for (const p of pods) {
        if (p.spec?.nodeName) {
          assumed.delete(p.metadata.uid ?? '');
          assumedGroup.delete(p.metadata.uid ?? '');
        }
      }
      const pending = pods.filter((p) => needsScheduling(p) && !assumed.has(p.metadata.uid ?? '')).sort(byCreation);
      if (!pending.length) return;
      const counts = countPodsPerNode(pods);
      const siblings = countSiblings(pods);
      for (const [uid, node] of assumed) {
        counts.set(node, (counts.get(node) ?? 0) + 1);
        const g = assumedGroup.get(uid);
        if (g) siblings.set(g, (siblings.get(g) ?? new Map()).set(node, (siblings.get(g)?.get(node) ?? 0) + 1));
      }
      const nodes = ctx.usable(ctx.inf.nodes);
      // One pod at a time (the counts carry over), so one odd pod cannot stop the others.
      const placements = pending.flatMap((p) => {
        try {
          return schedulePods([p], nodes, counts, siblings);
        } catch (e) {
          ctx.log(`scheduler: skipping ${p.metadata.namespace}/${p.metadata.name}: ${(e as Error).message}`);
          return [];
        }
      });
      const nowIso = isoTime(ctx.now());
      let retry = false;
      await inParallel(placements, 8, async (pl) => {
        const pod = pl.pod;
        const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
        if ('node' in pl) {
          assumed.set(pod.metadata.uid ?? '', pl.node);
          assumedGroup.set(pod.metadata.uid ?? '', spreadGroup(pod));
          try {
            await ctx.client.request(
              'POST',
              resourcePath(ctx.inf.pods.resource, pod.metadata.namespace, pod.metadata.name, 'binding'),
              {
                apiVersion: 'v1',
                kind: 'Binding',
                metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
                target: { apiVersion: 'v1', kind: 'Node', name: pl.node },
              },
            );
          } catch (e) {
            assumed.delete(pod.metadata.uid ?? '');
            assumedGroup.delete(pod.metadata.uid ?? '');
            if (isNotFound(e) || isConflict(e)) return; // gone, or bound by someone else
            retry = true;
            ctx.log(`scheduler: binding ${who} to ${pl.node}: ${(e as Error).message}`);
            return;
          }
          ctx.events.record(
            pod,
            'Normal',
            'Scheduled',
            `Successfully assigned ${who} to ${pl.node}`,
            DEFAULT_SCHEDULER,
          );
          return;
        }
        ctx.events.record(pod, 'Warning', 'FailedScheduling', pl.unschedulable, DEFAULT_SCHEDULER);
        const cur = conditionOf(pod, 'PodScheduled');
        if (cur?.status === 'False' && cur.reason === 'Unschedulable' && cur.message === pl.unschedulable) return;
        const conditions = setCondition(
          pod.status?.conditions,
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: pl.unschedulable,
            lastProbeTime: null,
          },
          nowIso,
        );
        try {
          await ctx.client.updateStatus({ ...pod, status: { ...pod.status, conditions } });
        } catch (e) {
          if (isNotFound(e)) return;
          if (isConflict(e)) retry = true;
          else throw e;
        }
      });
      return retry ? { requeueAfterMs: 200 } : undefined;
    },
    ctx.log,
    10,
  );
  // What about a node matters for placing pods.
  const nodeShape = (n: KubeObject) =>
    canonicalJson([conditionOf(n, 'Ready')?.status, n.spec?.unschedulable, n.spec?.taints, n.metadata.labels]);
  ctx.inf.pods.on({
    added: (p) => needsScheduling(p) && queue.add('all'),
    modified: (p, old) => {
      if (p.spec?.nodeName) assumed.delete(p.metadata.uid ?? '');
      // Our own status writes (PodScheduled=False) change only status: no new pass for those.
      else if (needsScheduling(p) && canonicalJson(p.spec) !== canonicalJson(old.spec)) queue.add('all');
    },
    deleted: (p) => {
      assumed.delete(p.metadata.uid ?? '');
    },
  });
  ctx.inf.nodes.on({
    added: () => queue.add('all'),
    modified: (n, old) => nodeShape(n) !== nodeShape(old) && queue.add('all'),
    deleted: () => queue.add('all'),
  });
  return { resync: () => queue.add('all'), stop: () => queue.stop() };
}

export { DEFAULT_SCHEDULER };
