import { ApiError, errors } from '../status.js';
import { mergePatch } from '../validate.js';
import { SCALABLE } from '../resources.js';
import type { KubeObject } from '../object.js';
import type { Subresource } from './subresource.js';

/** An autoscaling/v1 Scale: spec.replicas of a Deployment, ReplicaSet or StatefulSet. */
function toScale(o: KubeObject) {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: o.spec?.replicas ?? 1 },
    status: {
      replicas: o.status?.replicas ?? 0,
      selector: Object.entries(o.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}

/** {deployments,replicasets,statefulsets}/scale (resources.ts's SCALABLE): what `kubectl scale` reads and patches. */
export const scale: Subresource = {
  name: 'scale',
  serves: (r) => SCALABLE.includes(r.kind),
  // kubectl scale finds the scale subresource in discovery
  discovery: (r) =>
    SCALABLE.includes(r.kind)
      ? {
          name: `${r.plural}/scale`,
          singularName: '',
          namespaced: true,
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          verbs: ['get', 'patch', 'update'],
        }
      : null,
  async handle({ registry, target: t, method, body, ctx, send }) {
    const cur = await registry.get(t);
    if (method === 'GET') return send(200, toScale(cur));
    if (method !== 'PUT' && method !== 'PATCH')
      throw errors.methodNotAllowed(`${method} is not supported on ${t.r.plural}/scale`);
    const want =
      method === 'PUT'
        ? (body as { spec?: { replicas?: unknown } })
        : (mergePatch(toScale(cur), body) as { spec?: { replicas?: unknown } });
    const replicas = want?.spec?.replicas;
    if (!Number.isInteger(replicas) || (replicas as number) < 0) {
      throw new ApiError(
        'Invalid',
        `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        {
          name: t.name,
          kind: 'Scale',
          causes: [
            { field: 'spec.replicas', message: 'must be greater than or equal to 0', reason: 'FieldValueInvalid' },
          ],
        },
      );
    }
    const rv = (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion;
    const updated = await registry.replace(
      t,
      { ...cur, spec: { ...cur.spec, replicas } },
      method === 'PUT' && rv ? rv : cur.metadata.resourceVersion,
      ctx.dryRun,
    );
    return send(200, toScale(updated));
  },
};
