import type { Attributes } from './rbac.js';
import type { NodeGraph, NodeGraphKind } from './node-graph.js';
import { NODES, NODE_PREFIX, type UserInfo } from './user.js';

/**
 * kube-apiserver's Node authorizer (plugin/pkg/auth/authorizer/node), the
 * `Node` of `--authorization-mode Node,RBAC`: a node (`system:node:<name>`
 * in `system:nodes`) may read a Secret, ConfigMap or PersistentVolumeClaim,
 * and ask for a ServiceAccount's token, only when a pod bound to it uses
 * that object — so a node's certificate, stolen with its machine, gives
 * away only what that machine's pods already had. Its answer is allow or
 * no opinion (then RBAC decides; the built-in system:node role grants none
 * of these), with upstream's reason, which the 403 carries. Everything
 * else a node does is RBAC's (system:node) and, for writes,
 * NodeRestriction's. One addition: podwire's kubelet reads its pods'
 * ServiceAccounts (automountServiceAccountToken), so `get` on a related
 * ServiceAccount is allowed too. Pure: the graph is the auth cache's.
 */
export interface NodeDecision {
  allowed: boolean;
  reason: string;
}

const NO_OPINION = (reason: string): NodeDecision => ({ allowed: false, reason });
const ALLOW: NodeDecision = { allowed: true, reason: '' };

/** NodeIdentifier.NodeIdentity: the node's name ('' when the name is just the prefix), or null for anyone else. */
export function nodeIdentity(user: UserInfo): string | null {
  if (!user.groups.includes(NODES) || !user.name.startsWith(NODE_PREFIX)) return null;
  return user.name.slice(NODE_PREFIX.length);
}

/** The kinds the graph narrows, by API group and resource. */
const NARROWED: Record<string, NodeGraphKind> = {
  secrets: 'secrets',
  configmaps: 'configmaps',
  persistentvolumeclaims: 'persistentvolumeclaims',
  serviceaccounts: 'serviceaccounts',
};

/** null: not a node, or not a kind the Node authorizer has a view on (RBAC alone decides). */
export function nodeAuthorize(graph: NodeGraph, a: Attributes): NodeDecision | null {
  const node = nodeIdentity(a.user);
  if (node === null) return null;
  if (!node) return NO_OPINION(`unknown node for user ${JSON.stringify(a.user.name)}`);
  const kind = a.resourceRequest && a.apiGroup === '' ? NARROWED[a.resource] : undefined;
  if (!kind) return null;
  const path = () =>
    a.name
      ? graph.related(node, kind, a.namespace, a.name)
        ? ALLOW
        : NO_OPINION(`no relationship found between node '${node}' and this object`)
      : NO_OPINION('No Object name found');
  if (kind === 'serviceaccounts') {
    if (a.verb === 'get' && !a.subresource) return path(); // podwire's kubelet reads automountServiceAccountToken
    if (a.verb !== 'create' || !a.name) return NO_OPINION('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return NO_OPINION('can only create token subresource of serviceaccount');
    return path();
  }
  if (kind === 'persistentvolumeclaims') {
    // authorizeGet (status updates of a claim, for volume expansion, have no use here)
    if (a.verb !== 'get') return NO_OPINION('can only get individual resources of this type');
    if (a.subresource) return NO_OPINION('cannot get subresource');
    return path();
  }
  // authorizeReadNamespacedObject
  if (!['get', 'list', 'watch'].includes(a.verb)) return NO_OPINION('can only read resources of this type');
  if (a.subresource) return NO_OPINION('cannot read subresource');
  if (!a.namespace) return NO_OPINION('can only read namespaced object of this type');
  return path();
}
