import { conflictConditions, planPodCidrs, type IpamConfig } from './ipam.js';
import {
  isNodeReady,
  observeHeartbeat,
  podsToMarkNotReady,
  staleNodeConditions,
  type HeartbeatSeen,
} from './node-lifecycle.js';
import { canonicalJson, conditionOf, isoTime, type KubeObject } from './objects.js';
import { inParallel, isNotFound, type Ctx, type Runner } from './runtime.js';
import { conditionTaints, taintString, taintsOf } from './taints.js';
import { WorkQueue } from './work-queue.js';

/**
 * Runners for node IPAM and node lifecycle: both look at all nodes at once,
 * so each has a single queue key; node events and a one-second tick feed it.
 */
const IPAM = 'cidrAllocator';
const LIFECYCLE = 'node-controller';

export function startIpam(ctx: Ctx, cfg: IpamConfig): Runner {
  const warned = new Set<string>(); // "node|reason" already reported
  const once = (node: KubeObject, reason: string, type: 'Warning', message: string) => {
    const k = `${node.metadata.name}|${reason}|${message}`;
    if (warned.has(k)) return;
    warned.add(k);
    ctx.log(`${node.metadata.name}: ${message}`);
    ctx.events.record(node, type, reason, message, IPAM);
  };
  const queue = new WorkQueue(
    'node-ipam',
    async () => {
      const nodes = ctx.usable(ctx.inf.nodes);
      const plan = planPodCidrs(nodes, cfg);
      const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
      for (const m of plan.malformed)
        once(
          byName.get(m.node)!,
          'InvalidPodCIDR',
          'Warning',
          `podCIDR ${JSON.stringify(m.podCIDR)} is not valid: ${m.error}`,
        );
      for (const name of plan.exhausted)
        once(
          byName.get(name)!,
          'CIDRNotAvailable',
          'Warning',
          `Node ${name} status is now: CIDRNotAvailable (no free /${cfg.nodeCidrMaskSize} left in ${cfg.clusterCidr})`,
        );
      await inParallel(plan.assign, 8, async (a) => {
        const node = byName.get(a.node)!;
        // resourceVersion: if the node changed meanwhile (it may have asked for its own), decide again.
        await ctx.client.patch('nodes', undefined, a.node, {
          metadata: { resourceVersion: node.metadata.resourceVersion },
          spec: { podCIDR: a.podCIDR, podCIDRs: [a.podCIDR] },
        });
        ctx.log(`node ${a.node}: podCIDR ${a.podCIDR}`);
      });
      const conflicts = new Map(plan.conflicts.map((c) => [c.node, c]));
      const nowIso = isoTime(ctx.now());
      await inParallel(nodes, 8, async (node) => {
        const c = conflicts.get(node.metadata.name);
        const conds = conflictConditions(node, c, nowIso);
        if (canonicalJson(conds) === canonicalJson(node.status?.conditions ?? [])) return;
        await ctx.client.updateStatus({ ...node, status: { ...node.status, conditions: conds } });
        if (c)
          once(
            node,
            'PodCIDRConflict',
            'Warning',
            `podCIDR ${c.podCIDR} overlaps ${c.withCIDR} of node ${c.with}: pods on these nodes may be unreachable`,
          );
        else ctx.log(`node ${node.metadata.name}: podCIDR conflict resolved`);
      });
    },
    ctx.log,
  );
  const relevant = (n: KubeObject) => canonicalJson([n.spec?.podCIDR, conditionOf(n, 'NetworkUnavailable')]);
  ctx.inf.nodes.on({
    added: () => queue.add('all'),
    modified: (n, old) => relevant(n) !== relevant(old) && queue.add('all'),
    deleted: () => queue.add('all'),
  });
  return { resync: () => queue.add('all'), stop: () => queue.stop() };
}

export function startNodeLifecycle(ctx: Ctx, gracePeriodMs: number): Runner {
  const seen = new Map<string, HeartbeatSeen>();
  const lastReady = new Map<string, string>();
  const observe = (n: KubeObject) =>
    seen.set(n.metadata.name, observeHeartbeat(seen.get(n.metadata.name), n, ctx.now()));
  const queue = new WorkQueue(
    'node-lifecycle',
    async () => {
      const nowMs = ctx.now();
      const nowIso = isoTime(nowMs);
      const podsByNode = new Map<string, KubeObject[]>();
      for (const p of ctx.usable(ctx.inf.pods)) {
        const n = p.spec?.nodeName;
        if (n) podsByNode.set(n, [...(podsByNode.get(n) ?? []), p]);
      }
      await inParallel(ctx.usable(ctx.inf.nodes), 8, async (cached) => {
        let node = cached;
        observe(node);
        const conds = staleNodeConditions(node, seen.get(node.metadata.name)!, nowMs, gracePeriodMs, nowIso);
        if (conds) {
          try {
            node = await ctx.client.updateStatus<KubeObject>({
              ...node,
              status: { ...node.status, conditions: conds },
            });
          } catch (e) {
            if (isNotFound(e)) return;
            throw e;
          }
          ctx.log(
            `node ${node.metadata.name}: ${conditionOf(node, 'Ready')?.message ?? 'Ready Unknown'} (no heartbeat for ${Math.round((nowMs - seen.get(node.metadata.name)!.seenAtMs) / 1000)} s)`,
          );
        }
        // the taints the Ready condition asks for (unreachable / not-ready, NoSchedule and NoExecute)
        const taints = conditionTaints(node, nowIso);
        if (taints) {
          const before = taintsOf(node).map(taintString);
          try {
            node = await ctx.client.patch<KubeObject>('nodes', undefined, node.metadata.name, {
              metadata: { resourceVersion: node.metadata.resourceVersion },
              spec: { taints: taints.length ? taints : null },
            });
          } catch (e) {
            if (isNotFound(e)) return;
            throw e; // a Conflict (a heartbeat came first): the next round decides again
          }
          const after = taints.map(taintString);
          const added = after.filter((t) => !before.includes(t));
          const removed = before.filter((t) => !after.includes(t));
          ctx.log(
            `node ${node.metadata.name}: taints${added.length ? ` +${added.join(' +')}` : ''}${removed.length ? ` -${removed.join(' -')}` : ''}`,
          );
        }
        const ready = String(conditionOf(node, 'Ready')?.status ?? 'Unknown');
        const before = lastReady.get(node.metadata.name);
        lastReady.set(node.metadata.name, ready);
        if (before !== undefined && before !== ready) {
          const status = ready === 'True' ? 'NodeReady' : 'NodeNotReady';
          ctx.events.record(node, 'Normal', status, `Node ${node.metadata.name} status is now: ${status}`, LIFECYCLE);
        }
        if (isNodeReady(node)) return;
        await inParallel(
          podsToMarkNotReady(node, podsByNode.get(node.metadata.name) ?? [], nowIso),
          8,
          async ({ pod, status }) => {
            try {
              await ctx.client.updateStatus({ ...pod, status });
            } catch (e) {
              if (isNotFound(e)) return;
              throw e;
            }
            ctx.events.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready', LIFECYCLE);
          },
        );
      });
    },
    ctx.log,
    0,
  );
  ctx.inf.nodes.on({
    added: observe,
    modified: (n) => {
      observe(n);
      if (!isNodeReady(n) || conditionTaints(n, '') !== null) queue.add('all');
    },
    deleted: (n) => {
      seen.delete(n.metadata.name);
      lastReady.delete(n.metadata.name);
    },
  });
  const tick = setInterval(() => queue.add('all', 0), 1000);
  tick.unref?.();
  return {
    resync: () => queue.add('all'),
    stop: () => {
      clearInterval(tick);
      queue.stop();
    },
  };
}
