import { randomUUID, type KeyObject } from 'node:crypto';
import { AuthError } from './errors.js';
import { signJwt, verifyJwt } from './jwt.js';
import { serviceAccountUser, type UserInfo } from './user.js';

/**
 * ServiceAccount tokens as Kubernetes' bound tokens
 * (pkg/serviceaccount/claims.go): RS256 JWTs whose claims say the issuer,
 * the audiences, the lifetime, and under `kubernetes.io` the namespace, the
 * ServiceAccount (name and uid) and, for a token bound to a pod, the pod.
 * A token is good only while its ServiceAccount (and pod) still exist with
 * the same uid: deleting either revokes it. Issue and check are pure apart
 * from the lookups, which the caller gives (from its cache).
 */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const DEFAULT_AUDIENCES = [DEFAULT_ISSUER];
/** TokenRequest's default and minimum lifetimes (seconds), as upstream validates them */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;

export interface BoundObject {
  kind: 'Pod';
  name: string;
  uid: string;
}

export interface TokenClaimsInput {
  issuer: string;
  audiences: string[];
  namespace: string;
  serviceAccount: { name: string; uid: string };
  bound?: BoundObject;
  nowMs: number;
  expirationSeconds: number;
}

export function tokenClaims(i: TokenClaimsInput): Record<string, unknown> {
  const iat = Math.floor(i.nowMs / 1000);
  return {
    aud: i.audiences,
    exp: iat + i.expirationSeconds,
    iat,
    iss: i.issuer,
    jti: randomUUID(),
    'kubernetes.io': {
      namespace: i.namespace,
      ...(i.bound ? { pod: { name: i.bound.name, uid: i.bound.uid } } : {}),
      serviceaccount: { name: i.serviceAccount.name, uid: i.serviceAccount.uid },
    },
    nbf: iat,
    sub: `system:serviceaccount:${i.namespace}:${i.serviceAccount.name}`,
  };
}

export function issueToken(i: TokenClaimsInput, key: KeyObject): { token: string; expiresAtMs: number } {
  const claims = tokenClaims(i);
  return { token: signJwt(claims, key), expiresAtMs: (claims.exp as number) * 1000 };
}

/** What a token's validation looks up (the API server's caches). */
export interface TokenLookups {
  serviceAccountUid(namespace: string, name: string): string | undefined;
  podUid(namespace: string, name: string): string | undefined;
}

export interface TokenValidation {
  keys: KeyObject[];
  issuers: string[];
  /** the API server's audiences: a token must name at least one */
  audiences: string[];
  nowMs: number;
  lookups: TokenLookups;
}

/** How many tokens' signatures a verified-signature cache keeps (then it starts over). */
const VERIFIED_MAX = 1_000;

/**
 * A token's user, or AuthError saying why not. `verified` remembers the
 * claims of tokens whose signature checked out (an RSA verify per request
 * is most of a token's cost); everything else — lifetime, issuer, audience,
 * the ServiceAccount and pod still there — is checked on every request.
 */
export function authenticateToken(
  token: string,
  v: TokenValidation,
  verified?: Map<string, Record<string, any>>,
): UserInfo {
  let c = verified?.get(token);
  if (!c) {
    c = verifyJwt(token, v.keys);
    if (verified) {
      if (verified.size >= VERIFIED_MAX) verified.clear();
      verified.set(token, c);
    }
  }
  if (typeof c.iss !== 'string' || !v.issuers.includes(c.iss))
    throw new AuthError('ERR_TOKEN_CLAIMS', `issuer ${String(c.iss)} is not this server's`);
  const aud = typeof c.aud === 'string' ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  if (!aud.some((a) => v.audiences.includes(a)))
    throw new AuthError('ERR_TOKEN_CLAIMS', "token audiences are not this server's");
  const now = Math.floor(v.nowMs / 1000);
  if (typeof c.exp !== 'number' || now >= c.exp) throw new AuthError('ERR_TOKEN_EXPIRED', 'token has expired');
  if (typeof c.nbf === 'number' && now < c.nbf) throw new AuthError('ERR_TOKEN_CLAIMS', 'token is not valid yet');
  const k = c['kubernetes.io'];
  const ns = k?.namespace;
  const sa = k?.serviceaccount;
  if (typeof ns !== 'string' || typeof sa?.name !== 'string' || typeof sa?.uid !== 'string')
    throw new AuthError('ERR_TOKEN_CLAIMS', 'token has no kubernetes.io namespace and serviceaccount');
  if (c.sub !== `system:serviceaccount:${ns}:${sa.name}`) throw new AuthError('ERR_TOKEN_CLAIMS', 'sub does not match');
  const liveSa = v.lookups.serviceAccountUid(ns, sa.name);
  if (liveSa === undefined) throw new AuthError('ERR_TOKEN_STALE', `serviceaccount ${ns}/${sa.name} not found`);
  if (liveSa !== sa.uid)
    throw new AuthError(
      'ERR_TOKEN_STALE',
      `serviceaccount ${ns}/${sa.name} uid ${liveSa} is not the token's ${sa.uid}`,
    );
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    if (typeof k.pod.name !== 'string' || typeof k.pod.uid !== 'string')
      throw new AuthError('ERR_TOKEN_CLAIMS', 'bad pod claim');
    const livePod = v.lookups.podUid(ns, k.pod.name);
    if (livePod === undefined) throw new AuthError('ERR_TOKEN_STALE', `pod ${ns}/${k.pod.name} not found`);
    if (livePod !== k.pod.uid) throw new AuthError('ERR_TOKEN_STALE', `pod ${ns}/${k.pod.name} was replaced`);
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (typeof c.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c.jti}`];
  return serviceAccountUser(ns, sa.name, sa.uid, extra);
}
