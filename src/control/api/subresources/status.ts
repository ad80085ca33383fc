import { errors } from '../status.js';
import { mergePatch, validateObject } from '../validate.js';
import { strategicMergePatch } from '../strategic-merge.js';
import type { KubeObject } from '../object.js';
import type { Subresource } from './subresource.js';

/**
 * {plural}/status (GET, PUT, PATCH) for kinds whose status is reported by
 * a controller or an agent: writes here change only status.
 */
export const status: Subresource = {
  name: 'status',
  serves: (r) => r.status,
  discovery: (r) =>
    r.status
      ? {
          name: `${r.plural}/status`,
          singularName: '',
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['get', 'patch', 'update'],
        }
      : null,
  async handle({ registry, target: t, method, req, body, ctx, send }) {
    if (method === 'GET') return send(200, await registry.get(t));
    if (method === 'PUT') {
      const o = registry.validate(t, body, ctx);
      if (o.metadata.name !== t.name)
        throw errors.badRequest(
          `the name of the object (${o.metadata.name}) does not match the name on the URL (${t.name})`,
        );
      return send(200, await registry.replace(t, o, o.metadata.resourceVersion, ctx.dryRun, 'status'));
    }
    if (method === 'PATCH') {
      const cur = await registry.get(t);
      const strategic = (req.headers['content-type'] ?? '').startsWith('application/strategic-merge-patch+json');
      const o = validateObject(
        t.r,
        strategic ? strategicMergePatch(t.r.kind, cur, body) : mergePatch(cur, body),
        ctx.fv,
        ctx.warnings,
      ) as KubeObject;
      const rv =
        (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion ??
        cur.metadata.resourceVersion;
      return send(200, await registry.replace(t, o, rv, ctx.dryRun, 'status'));
    }
    throw errors.methodNotAllowed(`${method} is not supported on ${t.r.plural}/status`);
  },
};
