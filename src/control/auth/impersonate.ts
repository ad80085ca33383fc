import type { Attributes, Decision } from './rbac.js';
import {
  ANONYMOUS,
  AUTHENTICATED,
  UNAUTHENTICATED,
  parseServiceAccountUsername,
  serviceAccountUser,
  type UserInfo,
} from './user.js';

/**
 * Impersonation (`kubectl --as=… --as-group=…`), as kube-apiserver's filter:
 * the Impersonate-User, -Group, -Uid and -Extra-<key> headers ask to act as
 * someone else, and each is an authorization check of the real user — verb
 * `impersonate` on users, groups, serviceaccounts (namespace and name from
 * `system:serviceaccount:<ns>:<name>`), uids and userextras/<key>. The new
 * user is system:authenticated unless anonymous; a ServiceAccount gets its
 * groups. Answers the user to act as, or why not.
 */
export type Impersonation = { user: UserInfo } | { forbidden: Attributes; reason: string } | { badRequest: string };

const attrs = (
  user: UserInfo,
  resource: string,
  name: string,
  apiGroup = '',
  namespace = '',
  subresource = '',
): Attributes => ({
  user,
  verb: 'impersonate',
  resourceRequest: true,
  namespace,
  apiGroup,
  resource,
  subresource,
  name,
  path: '',
});

export function impersonate(
  user: UserInfo,
  headers: Record<string, string | string[] | undefined>,
  authorize: (a: Attributes) => Decision,
): Impersonation | null {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const name = list(headers['impersonate-user'])[0];
  const groups = list(headers['impersonate-group'])
    .flatMap((g) => g.split(',').map((s) => s.trim()))
    .filter(Boolean);
  const uid = list(headers['impersonate-uid'])[0];
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers))
    if (k.startsWith('impersonate-extra-')) extra[decodeURIComponent(k.slice('impersonate-extra-'.length))] = list(v);
  if (name === undefined) {
    if (groups.length || uid !== undefined || Object.keys(extra).length)
      return { badRequest: 'requested impersonation of groups, uid or extra without impersonating a user' };
    return null;
  }
  const checks: Attributes[] = [];
  const sa = parseServiceAccountUsername(name);
  checks.push(sa ? attrs(user, 'serviceaccounts', sa.name, '', sa.namespace) : attrs(user, 'users', name));
  for (const g of groups) checks.push(attrs(user, 'groups', g));
  if (uid !== undefined) checks.push(attrs(user, 'uids', uid, 'authentication.k8s.io'));
  for (const [k, vs] of Object.entries(extra))
    for (const v of vs) checks.push(attrs(user, 'userextras', v, 'authentication.k8s.io', '', k));
  for (const a of checks) {
    const d = authorize(a);
    if (!d.allowed) return { forbidden: a, reason: d.reason };
  }
  let out: UserInfo = sa ? serviceAccountUser(sa.namespace, sa.name) : { name, groups: [] };
  const all = [...new Set([...(sa ? out.groups.filter((g) => g !== AUTHENTICATED) : []), ...groups])];
  if (name === ANONYMOUS) {
    if (!all.includes(UNAUTHENTICATED)) all.push(UNAUTHENTICATED);
  } else if (!all.includes(AUTHENTICATED) && !all.includes(UNAUTHENTICATED)) all.push(AUTHENTICATED);
  out = { name, groups: all, ...(uid ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
  return { user: out };
}
