import { apiResourceList, groupVersion } from './resources.js';
import { SERVED } from './served.js';
import { subresourceDiscovery } from './subresources/index.js';
import { componentSchemas } from './openapi-schemas.js';

/** Per group-version: its kinds' schemas and the shared ones they refer to (built once). */
const schemaCache = new Map<string, Record<string, unknown>>();
function schemasOf(gvPath: string): Record<string, unknown> {
  let s = schemaCache.get(gvPath);
  if (!s) {
    const mine = SERVED.filter((x) => (x.group ? `apis/${x.group}/${x.version}` : 'api/v1') === gvPath);
    s = componentSchemas(mine);
    schemaCache.set(gvPath, s);
  }
  return s;
}

/**
 * Discovery of one group-version (/api/v1, /apis/{group}/{version}): each
 * served resource followed by its subresources that kubectl looks up there.
 */
export function discoveryList(gv: string): Record<string, unknown> | null {
  const list = apiResourceList(gv, SERVED, false);
  if (!list) return null;
  const types = SERVED.filter((r) => groupVersion(r) === gv);
  const resources = (list.resources as { name: string }[]).flatMap((entry) => {
    const r = types.find((x) => x.plural === entry.name);
    return [entry, ...(r ? subresourceDiscovery(r) : [])];
  });
  return { ...list, resources };
}

/**
 * OpenAPI v3, only as much as kubectl reads: per group-version, a PATCH
 * operation for each served kind tagged with its group-version-kind and a
 * `fieldValidation` query parameter. That is how kubectl decides the server
 * validates fields itself (cli-runtime's queryParamVerifierV3) instead of
 * fetching a full OpenAPI v2 schema to validate client-side.
 */
function servedGroupVersions(): string[] {
  return [...new Set(SERVED.map((r) => (r.group ? `apis/${r.group}/${r.version}` : 'api/v1')))];
}

export function openapiIndex(): Record<string, unknown> {
  return {
    paths: Object.fromEntries(servedGroupVersions().map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}` }])),
  };
}

export function openapiDoc(gvPath: string): Record<string, unknown> | null {
  if (!servedGroupVersions().includes(gvPath)) return null;
  const paths: Record<string, unknown> = {};
  for (const r of SERVED.filter((x) => (x.group ? `apis/${x.group}/${x.version}` : 'api/v1') === gvPath)) {
    const base = `/${gvPath}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.30.0-podwire' },
    paths,
    // kubectl explain finds a kind's schema by its x-kubernetes-group-version-kind (openapi-schemas.ts)
    components: { schemas: schemasOf(gvPath) },
  };
}
