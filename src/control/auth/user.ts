/**
 * Who a request is from, as Kubernetes' authenticators say it
 * (k8s.io/apiserver/pkg/authentication/user.Info): a name, an optional
 * uid, the groups RBAC bindings may name, and extra attributes (a
 * ServiceAccount token's pod binding). Every authenticator — the Unix
 * socket, a client certificate, a ServiceAccount token — produces one of
 * these; the authorizer reads nothing else.
 */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The well-known user and group names (k8s.io/apiserver/pkg/authentication/user). */
export const SYSTEM_ADMIN = 'system:admin';
export const ANONYMOUS = 'system:anonymous';
export const MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const NODES = 'system:nodes';
export const NODE_PREFIX = 'system:node:';
export const SERVICE_ACCOUNTS = 'system:serviceaccounts';
export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/**
 * The Unix socket's user (the control-plane machine's local channel) and the
 * user of an in-process API server built without authentication: in
 * system:masters, as kube-apiserver's own loopback client is.
 */
export const ADMIN: UserInfo = { name: SYSTEM_ADMIN, groups: [MASTERS, AUTHENTICATED] };

/** A request with no credentials (admitted only to the health and version paths). */
export const ANONYMOUS_USER: UserInfo = { name: ANONYMOUS, groups: [UNAUTHENTICATED] };

/** `system:serviceaccount:<ns>:<name>` */
export const serviceAccountUsername = (namespace: string, name: string): string =>
  `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;

/** The user a ServiceAccount's token authenticates as (serviceaccount.UserInfo). */
export function serviceAccountUser(
  namespace: string,
  name: string,
  uid?: string,
  extra?: Record<string, string[]>,
): UserInfo {
  return {
    name: serviceAccountUsername(namespace, name),
    ...(uid ? { uid } : {}),
    groups: [SERVICE_ACCOUNTS, `${SERVICE_ACCOUNTS}:${namespace}`, AUTHENTICATED],
    ...(extra && Object.keys(extra).length ? { extra } : {}),
  };
}

/** `system:serviceaccount:ns:name` → {namespace, name}, else null. */
export function parseServiceAccountUsername(user: string): { namespace: string; name: string } | null {
  if (!user.startsWith(SERVICE_ACCOUNT_PREFIX)) return null;
  const parts = user.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return null;
  return { namespace: parts[0], name: parts[1] };
}

/**
 * A verified client certificate's user (x509.CommonNameUserConversion):
 * the subject's CN, its O values as groups, plus system:authenticated.
 */
export function certificateUser(commonName: string, organizations: string[]): UserInfo {
  return { name: commonName, groups: [...organizations, AUTHENTICATED] };
}
