/**
 * Strategic merge patch (application/strategic-merge-patch+json), what
 * `kubectl apply`, `kubectl set image` and `kubectl edit` send: like a JSON
 * merge patch, except that lists of objects with a merge key (containers by
 * name, container ports by containerPort, env by name …, the patchMergeKey
 * of the Kubernetes types) are merged element by element instead of
 * replaced, and the directives `$patch` (replace/delete),
 * `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and
 * `$retainKeys` are honoured. Lists without a merge key are replaced, as
 * upstream (finalizers merge as a set, as their patchStrategy says).
 */
type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** patchMergeKey by field name; `ports` depends on where it is (see mergeKey). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  addresses: 'type',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

const SET_LISTS = new Set(['finalizers']);

function mergeKey(kind: string, path: string[], field: string): string | undefined {
  if (field === 'ports') {
    // Service spec.ports merge by port; a container's by containerPort (EndpointSubset ports have none)
    if (kind === 'Service' && path.length === 1 && path[0] === 'spec') return 'port';
    return path.includes('containers') || path.includes('initContainers') || path.includes('ephemeralContainers')
      ? 'containerPort'
      : undefined;
  }
  if (field === 'addresses' && !(path.length === 1 && path[0] === 'status')) return undefined; // only NodeStatus.addresses merges by type
  return MERGE_KEYS[field];
}

export function strategicMergePatch(kind: string, target: Json, patch: Json): Json {
  return merge(kind, [], target, patch);
}

function merge(kind: string, path: string[], target: Json, patch: Json): Json {
  if (!isObj(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return rest;
  }
  const out: Obj = isObj(target) ? { ...target } : {};
  const orders = new Map<string, Json[]>();
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/')) orders.set(k.slice('$setElementOrder/'.length), Array.isArray(v) ? v : []);
    else if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = new Set(Array.isArray(v) ? v : []);
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((x) => !drop.has(x));
    }
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const key = mergeKey(kind, path, k);
    if (Array.isArray(v) && key) out[k] = mergeList(kind, [...path, k], out[k], v, key);
    else if (Array.isArray(v) && SET_LISTS.has(k))
      out[k] = [...new Set([...(Array.isArray(out[k]) ? (out[k] as Json[]) : []), ...v])];
    else if (isObj(v)) {
      const merged = merge(kind, [...path, k], out[k], v);
      if (isObj(v) && v.$patch === 'delete') delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [field, order] of orders) {
    const key = mergeKey(kind, path, field);
    if (key && Array.isArray(out[field])) out[field] = reorder(out[field] as Json[], order, key);
  }
  return out;
}

function mergeList(kind: string, path: string[], current: Json, patchItems: Json[], key: string): Json[] {
  const out: Json[] = Array.isArray(current) ? [...current] : [];
  for (const item of patchItems) {
    if (!isObj(item) || !(key in item)) {
      out.push(item); // no key to merge by: appended as is
      continue;
    }
    const at = out.findIndex((x) => isObj(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = merge(kind, path, out[at], item);
    else out.push(merge(kind, path, {}, item));
  }
  return out;
}

/** $setElementOrder: the listed keys first, in that order; others after, as they were. */
function reorder(list: Json[], order: Json[], key: string): Json[] {
  const keyOf = (x: Json) => (isObj(x) ? x[key] : undefined);
  const wanted = order.map(keyOf);
  const first = wanted.map((k) => list.find((x) => keyOf(x) === k)).filter((x): x is Json => x !== undefined);
  const rest = list.filter((x) => !wanted.includes(keyOf(x)));
  return [...first, ...rest];
}
