import { orphans, ownerExists, type OwnerLookup } from './gc.js';
import type { KubeObject, OwnerReference } from './objects.js';
import { inParallel, isNotFound, type Ctx, type Runner } from './runtime.js';
import { WorkQueue } from './work-queue.js';

/**
 * The garbage collector's runner: whenever an owner goes (or a dependent
 * appears), orphans are found from the caches, each owner's absence is
 * confirmed with the API server (a cache may be behind), and the orphan is
 * deleted.
 */
export function startGarbageCollector(ctx: Ctx): Runner {
  const byKind: Record<string, { inf: Ctx['inf'][keyof Ctx['inf']]; resource: string }> = {
    Deployment: { inf: ctx.inf.deployments, resource: 'deployments' }, // owner of ReplicaSets
    ReplicaSet: { inf: ctx.inf.replicasets, resource: 'replicasets' },
    StatefulSet: { inf: ctx.inf.statefulsets, resource: 'statefulsets' },
    Service: { inf: ctx.inf.services, resource: 'services' },
    Endpoints: { inf: ctx.inf.endpoints, resource: 'endpoints' }, // owner of mirrored EndpointSlices
  };
  const lookup: OwnerLookup = (kind, ns, name) => byKind[kind]?.inf.get(ns, name);
  const queue = new WorkQueue(
    'garbage-collector',
    async () => {
      const candidates = orphans(
        [...ctx.inf.pods.list(), ...ctx.inf.replicasets.list(), ...ctx.inf.slices.list()],
        lookup,
      );
      await inParallel(candidates, 8, async (o) => {
        const refs: OwnerReference[] = o.metadata.ownerReferences;
        for (const r of refs) {
          const live = await ctx.client.tryGet(byKind[r.kind].resource, o.metadata.namespace, r.name);
          if (live && ownerExists(r, o.metadata.namespace, () => live)) return; // the cache was behind
        }
        const resource =
          o.kind === 'EndpointSlice' ? 'endpointslices' : o.kind === 'ReplicaSet' ? 'replicasets' : 'pods';
        try {
          await ctx.client.delete(resource, o.metadata.namespace, o.metadata.name);
        } catch (e) {
          if (isNotFound(e)) return;
          throw e;
        }
        ctx.log(
          `garbage collector: deleted ${o.kind ?? resource} ${o.metadata.namespace}/${o.metadata.name} (owner ${refs.map((r) => `${r.kind} ${r.name}`).join(', ')} is gone)`,
        );
      });
    },
    ctx.log,
    50,
  );
  const hasOwners = (o: KubeObject) =>
    Array.isArray(o.metadata.ownerReferences) && o.metadata.ownerReferences.length > 0;
  const ownerGone = () => queue.add('all');
  for (const k of Object.values(byKind)) k.inf.on({ deleted: ownerGone });
  ctx.inf.pods.on({ added: (p) => hasOwners(p) && queue.add('all') });
  ctx.inf.slices.on({ added: (s) => hasOwners(s) && queue.add('all') });
  ctx.inf.replicasets.on({ added: (s) => hasOwners(s) && queue.add('all') });
  return { resync: () => queue.add('all'), stop: () => queue.stop() };
}
