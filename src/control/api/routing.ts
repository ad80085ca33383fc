import type http from 'node:http';
import { ApiError, errors, fromStoreError } from './status.js';
import { StoreError } from '../store/index.js';
import { readJson, checkJsonPatchSize } from './limits.js';
import { health, type HealthState } from './health.js';
import { apiVersions, apiGroupList } from './resources.js';
import type { FieldValidation } from './validate.js';
import { wantsTable, toTable, includeObjectParam, type IncludeObject } from './table.js';
import { SERVED } from './served.js';
import { discoveryList, openapiDoc, openapiIndex } from './openapi.js';
import type { Registry } from './registry.js';
import type { KubeObject, Target, WriteContext } from './object.js';
import { findSubresource } from './subresources/index.js';
import { METRICS_GROUP, metricsGroup, serveMetrics } from '../metrics/api.js';
import { ADMIN } from '../auth/index.js';
import type { RequestAuth } from './access.js';
import { review } from './reviews.js';
import { decodeKubeProtobuf, readRaw } from './protobuf.js';
import { checkNodeRestriction } from './node-restriction.js';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** RBAC's own kinds: a write of one is checked for escalation */
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** PATCH bodies the server takes (kubectl rollout undo sends a JSON patch) */
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

const notFound = () => new ApiError('NotFound', 'the server could not find the requested resource');

/**
 * The HTTP side of the API server: fixed paths (health, version,
 * discovery, OpenAPI), then /api/v1 and /apis/{group}/{version} resources
 * mapped onto the registry (GET, POST, PUT, PATCH, DELETE, ?watch) or a
 * subresource; every failure answered as a Status object. Who sent the
 * request (`auth`) has already been authenticated and authorized by the
 * server (access.ts); routing needs it for the reviews, TokenRequest and
 * RBAC's escalation check.
 */
export async function route(
  registry: Registry,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  state: HealthState = { store: registry.store, stopping: false },
  auth: RequestAuth = { user: ADMIN, access: null },
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://apiserver');
  const send = (code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  try {
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const h = await health(p, url.searchParams, state);
    if (h) {
      res.writeHead(h.code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      return void res.end(h.text);
    }
    if (p === '/version')
      return send(200, {
        major: '1',
        minor: '30',
        gitVersion: 'v1.30.0-podwire',
        platform: `${process.platform}/${process.arch}`,
      });
    if (p === '/api') return send(200, apiVersions());
    if (p === '/openapi/v3') return send(200, openapiIndex());
    const oa = /^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/.exec(p);
    if (oa) {
      const doc = openapiDoc(oa[1]);
      if (!doc) throw notFound();
      return send(200, doc);
    }
    if (p === '/apis') {
      const list = apiGroupList(SERVED);
      return send(200, { ...list, groups: [...(list.groups as unknown[]), metricsGroup()] });
    }
    if (p.startsWith(`/apis/${METRICS_GROUP}/`)) {
      // metrics.k8s.io: gathered from the nodes' agents per request (src/control/metrics)
      const out = await serveMetrics(p, url.searchParams, {
        list: async (r, namespace, q) => (await registry.list({ r, namespace }, q)).items,
      });
      if (out === null) throw notFound();
      return send(200, out);
    }
    const gv = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))$/.exec(p);
    if (gv) {
      const list = discoveryList(gv[1] ? `${gv[1]}/${gv[2]}` : 'v1');
      if (!list) throw notFound();
      return send(200, list);
    }
    const target = parseTarget(p);
    if (!target) throw notFound();
    const ctype = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (req.method !== 'GET' && req.method !== 'PATCH' && /protobuf|cbor/.test(ctype) && ctype !== PROTOBUF)
      throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format (${ctype})`);
    const body =
      req.method === 'GET'
        ? undefined
        : req.method !== 'PATCH' && ctype === PROTOBUF
          ? decodeKubeProtobuf(await readRaw(req))
          : await readJson(req);
    const fv = url.searchParams.get('fieldValidation') ?? 'Strict';
    if (!['Strict', 'Warn', 'Ignore'].includes(fv))
      throw errors.badRequest(`fieldValidation must be Strict, Warn or Ignore (got "${fv}")`);
    const warnings: string[] = [];
    const dryRun = url.searchParams.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All')) throw errors.badRequest('dryRun must be "All"');
    const ctx: WriteContext = { fv: fv as FieldValidation, warnings, dryRun: dryRun.length > 0 };
    if (RBAC_KINDS.has(target.r.kind) && auth.access)
      ctx.admit = (o) => auth.access!.checkEscalation(auth.user, target.r.kind, target.namespace ?? '', o);
    const sendW = (code: number, out: unknown) => {
      if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - "${w.replace(/"/g, "'")}"`).join(', '));
      send(code, out);
    };
    const method = req.method ?? 'GET';
    await checkNodeRestriction(auth.user, method, target, body, registry);
    if (target.sub) {
      const sub = findSubresource(target.r, target.sub, method);
      if (!sub) throw notFound();
      const base = { ...target, sub: undefined } as Target & { name: string };
      return await sub.handle({ registry, target: base, method, req, res, url, body, ctx, send: sendW, auth });
    }
    if (target.r.virtual) {
      // the reviews: POSTed, answered from the sender's own identity, never stored
      if (method !== 'POST' || target.name)
        throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
      const o = registry.validate(target, body, ctx);
      return sendW(201, review(target.r.kind, o, auth.user, auth.access));
    }
    switch (method) {
      case 'GET': {
        const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
        let includeObject: IncludeObject;
        try {
          includeObject = includeObjectParam(url.searchParams.get('includeObject'));
        } catch (e) {
          throw errors.badRequest((e as Error).message);
        }
        const table = wantsTable(req.headers.accept)
          ? (items: KubeObject[], rv: string, noHeaders = false) =>
              toTable(target.r.kind, items, rv, Date.now(), { includeObject, noHeaders })
          : null;
        if (target.name) {
          const o = await registry.get(target);
          return send(200, table?.([o], o.metadata.resourceVersion!) ?? o);
        }
        if (watching) return await watch(registry, target, url.searchParams, res, table);
        const list = await registry.list(target, url.searchParams);
        return send(200, table?.(list.items, list.metadata.resourceVersion) ?? list);
      }
      case 'POST':
        if (target.name) throw errors.methodNotAllowed('POST to a named object: use PUT or PATCH');
        return sendW(201, await registry.create(target, body, ctx));
      case 'PUT':
        if (!target.name) throw errors.methodNotAllowed('PUT needs an object name');
        return sendW(200, await registry.update(target, body, ctx));
      case 'PATCH': {
        if (!target.name) throw errors.methodNotAllowed('PATCH needs an object name');
        const ct = (req.headers['content-type'] ?? '').split(';')[0];
        if (!PATCH_TYPES.includes(ct)) {
          throw new ApiError(
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')} (got ${ct || 'none'})`,
          );
        }
        if (ct === 'application/json-patch+json') checkJsonPatchSize(body);
        return sendW(
          200,
          await registry.patch(target, body, {
            ...ctx,
            strategic: ct === 'application/strategic-merge-patch+json',
            json: ct === 'application/json-patch+json',
          }),
        );
      }
      case 'DELETE':
        if (target.name) return send(200, await registry.delete(target, url.searchParams, body));
        // deletecollection: every object the selectors match (namespaces have none, as upstream)
        if (target.r.kind === 'Namespace' || (target.r.namespaced && !target.namespace))
          throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
        return send(200, await registry.deleteCollection(target, url.searchParams, body));
      default:
        throw errors.methodNotAllowed(`method ${req.method} is not supported`);
    }
  } catch (err) {
    const e =
      err instanceof ApiError
        ? err
        : err instanceof StoreError
          ? fromStoreError(err, '', '') // an unreachable store is 503, not 500
          : new ApiError('InternalError', (err as Error).message);
    if (!res.headersSent) {
      // a body refused unread (past the drain limit): the connection cannot be reused
      if (e.reason === 'RequestEntityTooLarge' && !req.complete) res.setHeader('connection', 'close');
      send(e.code, e.toStatus());
    } else res.end();
  }
}

/**
 * A watch as Kubernetes streams it: chunked, one JSON event per line; with
 * `as=Table`, each object a Table of one row (column definitions first only).
 */
function watch(
  registry: Registry,
  t: Target,
  q: URLSearchParams,
  res: http.ServerResponse,
  table: ((items: KubeObject[], rv: string, noHeaders?: boolean) => unknown) | null,
): Promise<void> {
  let first = true;
  const shape = (type: string, object: unknown) => {
    if (!table || type === 'ERROR' || type === 'BOOKMARK') return object;
    const o = object as KubeObject;
    const out = table([o], o.metadata?.resourceVersion ?? '', !first) ?? object;
    first = false;
    return out;
  };
  return registry.watch(t, q, {
    start() {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
    },
    event: (type, object) => res.write(`${JSON.stringify({ type, object: shape(type, object) })}\n`),
    end: () => res.end(),
    onClose: (stop) => res.on('close', stop),
  });
}

/** /api/v1/[namespaces/{ns}/]{plural}[/{name}[/{sub}]] and the same under /apis/{group}/{version}. */
export function parseTarget(path: string): Target | null {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(path);
  if (!m) return null;
  const group = m[1] ?? '';
  const version = m[2] ?? 'v1';
  const parts = m[3].split('/').map(decodeURIComponent);
  const find = (plural: string) =>
    SERVED.find((r) => r.group === group && r.version === version && r.plural === plural);
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    const r = find(parts[2]);
    if (!r || !r.namespaced) return null;
    return { r, namespace: parts[1], name: parts[3], sub: parts[4] };
  }
  const r = find(parts[0]);
  if (!r) return null;
  if (r.namespaced) return parts.length === 1 ? { r } : null; // all namespaces: list/watch only
  return { r, name: parts[1], sub: parts[2] };
}
