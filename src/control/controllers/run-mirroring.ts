import { isMirroredSliceOf, planMirror } from './endpointslice-mirroring.js';
import { inParallel, isNotFound, splitKey, type Ctx, type Runner } from './runtime.js';
import { WorkQueue } from './work-queue.js';
import type { KubeObject } from './objects.js';

/** The mirroring controller's runner: one key per Service/Endpoints name, fed by both and by their mirrored slices. */
export function startEndpointSliceMirroring(ctx: Ctx): Runner {
  const queue = new WorkQueue(
    'endpointslice-mirroring',
    async (key) => {
      const [ns, name] = splitKey(key);
      const svc = ctx.inf.services.get(ns, name) ?? null;
      const ep = ctx.inf.endpoints.get(ns, name) ?? null;
      const existing = ctx.inf.slices.list().filter((s) => isMirroredSliceOf(s, ns, name));
      const plan = planMirror(svc, ep, existing);
      await inParallel(plan.delete, 8, async (s) => {
        await ctx.client.delete('endpointslices', ns, s.metadata.name).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      });
      await inParallel(plan.update, 8, async (s) => {
        await ctx.client.update(s);
      });
      await inParallel(plan.create, 8, async (s) => {
        await ctx.client.create(s);
      });
    },
    ctx.log,
  );
  const enqueue = (o: KubeObject) => queue.add(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`);
  const onSlice = (s: KubeObject) => {
    const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
    if (typeof svc === 'string') queue.add(`${s.metadata.namespace ?? 'default'}/${svc}`);
  };
  ctx.inf.services.on({ added: enqueue, modified: enqueue, deleted: enqueue });
  ctx.inf.endpoints.on({ added: enqueue, modified: enqueue, deleted: enqueue });
  ctx.inf.slices.on({ modified: onSlice, deleted: onSlice });
  return {
    resync: () => {
      for (const e of ctx.inf.endpoints.list()) enqueue(e);
    },
    stop: () => queue.stop(),
  };
}
