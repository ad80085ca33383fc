import { findResource, RESOURCE_TYPES, type ResourceType } from '../../control/api/index.js';
import { KubeError } from './errors.js';

/**
 * kubectl's resource arguments: `pods`, `pods,svc`, `all`, `pods web-1
 * web-2`, or `pod/web-1 svc/web` (every argument then TYPE/NAME).
 */
export interface ResourceRequest {
  r: ResourceType;
  /** empty: every object (of the namespace, or all with -A) */
  names: string[];
}

/** kubectl's `all` category, restricted to the kinds podwire serves. */
/** `all`: the kinds in kube-apiserver's "all" category that podwire serves (resources.ts) */
export const ALL = RESOURCE_TYPES.filter((r) => r.categories?.includes('all')).map((r) => r.plural);

export function resourceType(name: string): ResourceType {
  const r = findResource(name);
  if (!r) throw new KubeError(`the server doesn't have a resource type "${name}"`);
  return r;
}

export function parseResourceArgs(args: string[], verb = 'get'): ResourceRequest[] {
  if (!args.length)
    throw new KubeError(
      `You must specify the type of resource to ${verb}. Use "kubectl api-resources" for a complete list of supported resources.`,
    );
  const out: ResourceRequest[] = [];
  const add = (r: ResourceType, name?: string) => {
    let req = out.find((x) => x.r === r);
    if (!req) out.push((req = { r, names: [] }));
    if (name !== undefined && !req.names.includes(name)) req.names.push(name);
  };
  if (args.some((a) => a.includes('/'))) {
    for (const a of args) {
      const i = a.indexOf('/');
      if (i <= 0 || i === a.length - 1)
        throw new KubeError(
          `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl ${verb} resource/<resource_name>' instead of 'kubectl ${verb} resource resource/<resource_name>'`,
        );
      add(resourceType(a.slice(0, i)), a.slice(i + 1));
    }
    return out;
  }
  const [types, ...names] = args;
  const typeNames = types
    .split(',')
    .filter(Boolean)
    .flatMap((t) => (t === 'all' ? ALL : [t]));
  const rs = typeNames.map(resourceType);
  for (const r of rs) {
    if (!out.some((x) => x.r === r)) out.push({ r, names: [] });
  }
  for (const req of out) for (const n of names) if (!req.names.includes(n)) req.names.push(n);
  return out;
}
