import type { Attributes } from './rbac.js';

/**
 * kube-apiserver's words for a refused request (endpoints/handlers/responsewriters
 * and apimachinery's NewForbidden / NewUnauthorized), which kubectl prints as
 * `Error from server (Forbidden): pods is forbidden: User "…" cannot list
 * resource "pods" in API group "" in the namespace "default"` and
 * `error: You must be logged in to the server (Unauthorized)`.
 */
export function forbiddenMessage(
  a: Pick<
    Attributes,
    'user' | 'verb' | 'resourceRequest' | 'path' | 'resource' | 'subresource' | 'namespace' | 'apiGroup'
  >,
): string {
  const who = JSON.stringify(a.user.name);
  if (!a.resourceRequest) return `User ${who} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${who} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}

/** The Status of a 403: `<resource>[.<group>] ["name"] is forbidden: <why>[: <reason>]`, or `forbidden: …` outside the API. */
export function forbiddenStatus(a: Attributes, reason = ''): Record<string, unknown> {
  const why = forbiddenMessage(a) + (reason ? `: ${reason}` : '');
  const qualified = a.resourceRequest ? (a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource) : '';
  const message = !qualified
    ? `forbidden: ${why}`
    : a.name
      ? `${qualified} ${JSON.stringify(a.name)} is forbidden: ${why}`
      : `${qualified} is forbidden: ${why}`;
  const details: Record<string, string> = {};
  if (a.name) details.name = a.name;
  if (a.resourceRequest && a.apiGroup) details.group = a.apiGroup;
  if (a.resourceRequest && a.resource) details.kind = a.resource;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Forbidden',
    details,
    code: 403,
  };
}

/** The 401 every request without acceptable credentials gets (apiserver's Unauthorized responder). */
export const UNAUTHORIZED_STATUS = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'Unauthorized',
  reason: 'Unauthorized',
  code: 401,
} as const;
