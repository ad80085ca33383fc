import { ApiError, errors } from '../status.js';
import { now, resourceName } from '../object.js';
import type { Subresource } from './subresource.js';

/** pods/binding (POST): the scheduler's choice of node; the pod is then Scheduled. */
export const binding: Subresource = {
  name: 'binding',
  serves: (r, method) => r.kind === 'Pod' && method === 'POST',
  async handle({ registry, target: t, body, ctx, send }) {
    const node = (body as { target?: { name?: unknown } })?.target?.name;
    if (typeof node !== 'string' || !node) throw errors.badRequest('a Binding needs target.name (the node)');
    for (let attempt = 0; ; attempt++) {
      const cur = await registry.get(t);
      if (cur.spec?.nodeName) throw errors.conflict(resourceName(t.r), t.name);
      try {
        const bound = await registry.replace(
          t,
          { ...cur, spec: { ...cur.spec, nodeName: node } },
          cur.metadata.resourceVersion,
          ctx.dryRun,
        );
        if (!ctx.dryRun) {
          // as upstream's binding: the pod is now Scheduled
          const conds = (bound.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
          conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() });
          await registry.replace(
            t,
            { ...bound, status: { ...bound.status, conditions: conds } },
            undefined,
            false,
            'status',
          );
        }
        return send(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'Conflict') || attempt > 5) throw e;
      }
    }
  },
};
