import { NODES, NODE_PREFIX, type UserInfo } from '../auth/index.js';
import { ApiError } from './status.js';
import { RESOURCE_TYPES } from './resources.js';
import { resourceName, type Target } from './object.js';
import type { Registry } from './registry.js';

/**
 * The NodeRestriction admission plugin (plugin/pkg/admission/noderestriction),
 * for writes by a node (`system:node:<name>` in `system:nodes`, what an
 * agent's certificate says): a node may write only its own Node (and its
 * status), the status of pods bound to it, delete only pods bound to it,
 * create no pod (upstream: only mirror pods, which podwire has none of),
 * and ask only for ServiceAccount tokens bound to a pod on it. What RBAC's
 * system:node role allows every node, this narrows to the one asking.
 * Reads are not narrowed (upstream's Node authorizer does that too; not here).
 */
export function nodeOf(user: UserInfo): string | null {
  if (!user.name.startsWith(NODE_PREFIX) || !user.groups.includes(NODES)) return null;
  return user.name.slice(NODE_PREFIX.length) || null;
}

const forbidden = (t: Target, name: string, why: string) =>
  new ApiError('Forbidden', `${resourceName(t.r)} "${name}" is forbidden: ${why}`, {
    name,
    ...(t.r.group ? { group: t.r.group } : {}),
    kind: t.r.plural,
  });

export async function checkNodeRestriction(
  user: UserInfo,
  method: string,
  t: Target,
  body: unknown,
  registry: Registry,
): Promise<void> {
  const node = nodeOf(user);
  if (!node || method === 'GET') return;
  const named = t.name ?? ((body as { metadata?: { name?: string } })?.metadata?.name || '');
  if (t.r.kind === 'Node') {
    if (named !== node) throw forbidden(t, named, `node "${node}" is not allowed to modify node "${named}"`);
    return;
  }
  if (t.r.kind === 'Pod') {
    if (!t.name) {
      if (method === 'POST')
        throw forbidden(
          t,
          named,
          `pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`,
        );
      return; // deletecollection: RBAC's system:node has no such verb
    }
    if (t.sub === 'status' || method === 'DELETE') {
      const pod = await registry.get({ ...t, sub: undefined });
      if (pod.spec?.nodeName !== node)
        throw forbidden(
          t,
          t.name,
          method === 'DELETE'
            ? `node "${node}" can only delete pods with spec.nodeName set to itself`
            : `node "${node}" can only update pod status for pods with spec.nodeName set to itself`,
        );
    }
    return;
  }
  if (t.r.kind === 'ServiceAccount' && t.sub === 'token') {
    const ref = (body as { spec?: { boundObjectRef?: { kind?: string; name?: string } } })?.spec?.boundObjectRef;
    if (ref?.kind !== 'Pod' || !ref.name) throw forbidden(t, t.name!, 'node requested token not bound to a pod');
    const podType = RESOURCE_TYPES.find((r) => r.kind === 'Pod')!;
    const pod = await registry.get({ r: podType, namespace: t.namespace, name: ref.name });
    if (pod.spec?.nodeName !== node)
      throw forbidden(t, t.name!, 'node requested token bound to a pod scheduled on a different node');
  }
}
