import { ApiError } from './status.js';

/**
 * Field selectors (`?fieldSelector=spec.nodeName=node1,status.phase!=Failed`):
 * equality on a few fields per kind, as Kubernetes offers them. An agent
 * watches only the pods bound to its node this way.
 */
export interface FieldRequirement {
  path: string;
  equal: boolean;
  value: string;
}

const COMMON = ['metadata.name', 'metadata.namespace'];
const BY_KIND: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Node: ['spec.unschedulable'],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Secret: ['type'],
  Namespace: ['status.phase'],
};

export function parseFieldSelector(kind: string, text: string): FieldRequirement[] {
  if (!text.trim()) return [];
  const allowed = [...COMMON, ...(BY_KIND[kind] ?? [])];
  return text.split(',').map((part) => {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw new ApiError('BadRequest', `invalid field selector "${part}": expected field=value or field!=value`);
    const [, path, op, value] = m;
    if (!allowed.includes(path))
      throw new ApiError('BadRequest', `field label not supported: ${path} (for ${kind}: ${allowed.join(', ')})`);
    return { path, equal: op !== '!=', value };
  });
}

function fieldValue(obj: Record<string, any>, path: string): string {
  let at: any = obj;
  for (const p of path.split('.')) at = at?.[p];
  if (at === undefined || at === null) return '';
  return typeof at === 'object' ? JSON.stringify(at) : String(at);
}

export function fieldsMatch(reqs: FieldRequirement[], obj: Record<string, any>): boolean {
  for (const r of reqs) if ((fieldValue(obj, r.path) === r.value) !== r.equal) return false;
  return true;
}
