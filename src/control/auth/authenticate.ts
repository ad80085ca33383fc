import { ANONYMOUS_USER, certificateUser, type UserInfo } from './user.js';

/**
 * Who sent a request, from what its connection carries — kube-apiserver's
 * authenticator chain in the order podwire's contract fixes: a client
 * certificate the client CA signed (CN the user, O the groups), then a
 * Bearer token (a ServiceAccount JWT), then anonymous, which is let in only
 * for the health and version paths (KEP-4633's "anonymous only for health
 * endpoints"). A credential that is present but bad — a certificate of
 * another CA, an expired or revoked token — is a 401, never anonymous.
 * Pure: the token check comes in as a function.
 */
export interface Credentials {
  /** the TLS peer certificate, if the client sent one */
  cert?: { verified: boolean; commonName: string; organizations: string[] } | null;
  /** the Authorization header */
  authorization?: string;
  path: string;
}

/** /livez, /readyz, /healthz (and their /…/check sub-paths), /version */
export function anonymousPathAllowed(path: string): boolean {
  return path === '/version' || path === '/version/' || /^\/(livez|readyz|healthz)(\/.*)?$/.test(path);
}

export type Authentication = { user: UserInfo } | { refused: string };

export function authenticate(c: Credentials, token: (t: string) => UserInfo): Authentication {
  if (c.cert) {
    if (c.cert.verified && c.cert.commonName) return { user: certificateUser(c.cert.commonName, c.cert.organizations) };
    // a certificate the CA did not sign: a token may still vouch for the request (as upstream's union)
    if (!/^Bearer\s/i.test(c.authorization ?? '')) return { refused: 'client certificate not signed by the client CA' };
  }
  // only Bearer is a credential: any other scheme (Basic, which kube-apiserver dropped in 1.19) is ignored, as upstream
  const m = /^Bearer\s+(\S+)\s*$/i.exec(c.authorization ?? '');
  if (m) {
    try {
      return { user: token(m[1]) };
    } catch (e) {
      return { refused: `invalid bearer token: ${(e as Error).message}` };
    }
  }
  if (anonymousPathAllowed(c.path)) return { user: ANONYMOUS_USER };
  return { refused: 'no credentials' };
}
