/**
 * What a request asks to do, as Kubernetes' RequestInfoFactory reads it
 * from the method and the URL (k8s.io/apiserver/pkg/endpoints/request):
 * a resource request (/api/v1/…, /apis/{group}/{version}/…) has a verb
 * (get, list, watch, create, update, patch, delete, deletecollection), an
 * API group, a resource, maybe a subresource, a namespace and a name;
 * anything else (/healthz, /version, /api, /openapi/v3 …) is a
 * non-resource request with the lower-cased method as its verb.
 */
export interface RequestInfo {
  resourceRequest: boolean;
  path: string;
  verb: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

/** /api/v1/watch/… and /api/v1/proxy/… (deprecated forms, still understood upstream) */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
/** /namespaces/{ns}/status and /finalize are the namespace's own subresources */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** Go's strconv.ParseBool, as the watch parameter is decoded */
const truthy = (v: string | null) => v !== null && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);

export function requestInfo(method: string, rawUrl: string): RequestInfo {
  const url = new URL(rawUrl, 'http://apiserver');
  const info: RequestInfo = {
    resourceRequest: false,
    path: url.pathname,
    verb: method.toLowerCase(),
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
  };
  const trimmed = url.pathname.replace(/^\/+|\/+$/g, '');
  let parts = (trimmed ? trimmed.split('/') : []).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return info;
  const grouped = parts[0] === 'apis';
  parts = parts.slice(1);
  if (grouped) {
    if (parts.length < 3) return info;
    info.apiGroup = parts[0];
    parts = parts.slice(1);
  }
  info.resourceRequest = true;
  info.apiVersion = parts[0];
  parts = parts.slice(1);
  let special = false;
  if (SPECIAL_VERBS.has(parts[0])) {
    if (parts.length < 2) return { ...info, resourceRequest: false };
    info.verb = parts[0];
    parts = parts.slice(1);
    special = true;
  } else info.verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1];
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
    }
  }
  if (parts.length >= 3 && info.verb !== 'proxy') info.subresource = parts[2];
  if (parts.length >= 2) info.name = parts[1];
  if (parts.length >= 1) info.resource = parts[0];
  if (!info.name && info.verb === 'get' && !special) {
    info.verb = truthy(url.searchParams.get('watch')) ? 'watch' : 'list';
    // a list or watch of one object by name counts as about that object (kubectl get -w NAME)
    const m = /^metadata\.name(?:==?)([^,]+)$/.exec(url.searchParams.get('fieldSelector') ?? '');
    if (m && !/[/%]/.test(m[1]) && m[1] !== '.' && m[1] !== '..') info.name = m[1];
  }
  if (!info.name && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}
