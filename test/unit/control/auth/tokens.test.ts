import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import {
  issueToken,
  authenticateToken,
  signJwt,
  verifyJwt,
  keyId,
  authenticate,
  impersonate,
  AuthError,
  DEFAULT_ISSUER,
  ADMIN,
  type TokenLookups,
  type UserInfo,
} from '../../../../src/control/auth/index.js';

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = Date.UTC(2026, 0, 1);

const live: Record<string, string> = { 'team/builder': 'sa-uid', 'team/web-1': 'pod-uid' };
const lookups: TokenLookups = {
  serviceAccountUid: (ns, n) => live[`${ns}/${n}`],
  podUid: (ns, n) => live[`${ns}/${n}`],
};
const input = {
  issuer: DEFAULT_ISSUER,
  audiences: [DEFAULT_ISSUER],
  namespace: 'team',
  serviceAccount: { name: 'builder', uid: 'sa-uid' },
  nowMs: NOW,
  expirationSeconds: 3600,
};
const check = (token: string, at = NOW, keys = [publicKey]) =>
  authenticateToken(token, { keys, issuers: [DEFAULT_ISSUER], audiences: [DEFAULT_ISSUER], nowMs: at, lookups });
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as AuthError).code;
  }
  return 'ok';
};

describe('JWT (RS256)', () => {
  it('round trip, with the key id as Kubernetes computes it', () => {
    const t = signJwt({ a: 1 }, privateKey);
    expect(JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString())).toEqual({
      alg: 'RS256',
      kid: keyId(publicKey),
    });
    expect(verifyJwt(t, [other.publicKey, publicKey])).toEqual({ a: 1 });
  });

  it('refuses another key, a changed payload, alg none and HS256', () => {
    const t = signJwt({ a: 1 }, privateKey);
    expect(code(() => verifyJwt(t, [other.publicKey]))).toBe('ERR_TOKEN_SIGNATURE');
    const [h, , s] = t.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ a: 2 })).toString('base64url')}.${s}`;
    expect(code(() => verifyJwt(forged, [publicKey]))).toBe('ERR_TOKEN_SIGNATURE');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(code(() => verifyJwt(none, [publicKey]))).toBe('ERR_TOKEN_SIGNATURE');
    const hsHead = Buffer.from('{"alg":"HS256"}').toString('base64url');
    const body = Buffer.from('{"a":1}').toString('base64url');
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const hs = crypto.createHmac('sha256', pem).update(`${hsHead}.${body}`).digest('base64url');
    expect(code(() => verifyJwt(`${hsHead}.${body}.${hs}`, [publicKey]))).toBe('ERR_TOKEN_SIGNATURE');
    expect(code(() => verifyJwt('abc', [publicKey]))).toBe('ERR_TOKEN_MALFORMED');
  });
});

describe('ServiceAccount tokens', () => {
  it('a token is its ServiceAccount, with the bound pod as extra', () => {
    const { token, expiresAtMs } = issueToken(
      { ...input, bound: { kind: 'Pod', name: 'web-1', uid: 'pod-uid' } },
      privateKey,
    );
    expect(expiresAtMs).toBe(NOW + 3600_000);
    const u = check(token);
    expect(u.name).toBe('system:serviceaccount:team:builder');
    expect(u.uid).toBe('sa-uid');
    expect(u.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated']);
    expect(u.extra?.['authentication.kubernetes.io/pod-name']).toEqual(['web-1']);
    expect(u.extra?.['authentication.kubernetes.io/credential-id']?.[0]).toMatch(/^JTI=/);
  });

  it('refuses an expired token, a token of another issuer or audience, and one whose ServiceAccount or pod is gone or replaced', () => {
    const { token } = issueToken(input, privateKey);
    expect(code(() => check(token, NOW + 3600_000))).toBe('ERR_TOKEN_EXPIRED');
    expect(code(() => check(issueToken({ ...input, issuer: 'https://elsewhere' }, privateKey).token))).toBe(
      'ERR_TOKEN_CLAIMS',
    );
    expect(code(() => check(issueToken({ ...input, audiences: ['vault'] }, privateKey).token))).toBe(
      'ERR_TOKEN_CLAIMS',
    );
    expect(
      code(() => check(issueToken({ ...input, serviceAccount: { name: 'builder', uid: 'old' } }, privateKey).token)),
    ).toBe('ERR_TOKEN_STALE');
    expect(
      code(() => check(issueToken({ ...input, serviceAccount: { name: 'gone', uid: 'x' } }, privateKey).token)),
    ).toBe('ERR_TOKEN_STALE');
    const bound = issueToken({ ...input, bound: { kind: 'Pod', name: 'web-2', uid: 'u' } }, privateKey).token;
    expect(code(() => check(bound))).toBe('ERR_TOKEN_STALE');
    expect(code(() => check(token, NOW, [other.publicKey]))).toBe('ERR_TOKEN_SIGNATURE');
  });
});

describe('the verified-signature cache', () => {
  it('skips only the signature: an expired token or a deleted ServiceAccount is refused all the same', () => {
    const verified = new Map<string, Record<string, any>>();
    const { token } = issueToken(input, privateKey);
    const v = { keys: [publicKey], issuers: [DEFAULT_ISSUER], audiences: [DEFAULT_ISSUER], nowMs: NOW, lookups };
    expect(authenticateToken(token, v, verified).name).toBe('system:serviceaccount:team:builder');
    expect(verified.size).toBe(1);
    expect(authenticateToken(token, { ...v, keys: [] }, verified).name).toBe('system:serviceaccount:team:builder');
    expect(code(() => authenticateToken(token, { ...v, nowMs: NOW + 3600_000 }, verified))).toBe('ERR_TOKEN_EXPIRED');
    const gone = { ...v, lookups: { ...lookups, serviceAccountUid: () => undefined } };
    expect(code(() => authenticateToken(token, gone, verified))).toBe('ERR_TOKEN_STALE');
  });
});

describe('authenticate (the chain)', () => {
  const tokenUser: UserInfo = { name: 'tok', groups: ['system:authenticated'] };
  const tokens = (t: string) => {
    if (t === 'good') return tokenUser;
    throw new AuthError('ERR_TOKEN_SIGNATURE', 'bad');
  };
  it('certificate, token, anonymous on health paths only, and 401 for everything else', () => {
    const cert = { verified: true, commonName: 'kubernetes-admin', organizations: ['system:masters'] };
    expect(authenticate({ cert, path: '/api' }, tokens)).toEqual({
      user: { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
    });
    expect(authenticate({ authorization: 'Bearer good', path: '/api' }, tokens)).toEqual({ user: tokenUser });
    expect(authenticate({ authorization: 'Bearer nope', path: '/livez' }, tokens)).toHaveProperty('refused');
    // Basic is no credential at all (as upstream since 1.19): anonymous, so 401 but on health paths
    expect(authenticate({ authorization: 'Basic YTpi', path: '/api' }, tokens)).toHaveProperty('refused');
    expect(authenticate({ authorization: 'Basic YTpi', path: '/livez' }, tokens)).toEqual({
      user: { name: 'system:anonymous', groups: ['system:unauthenticated'] },
    });
    expect(authenticate({ cert: { ...cert, verified: false }, path: '/livez' }, tokens)).toHaveProperty('refused');
    for (const p of ['/livez', '/readyz', '/healthz', '/readyz/etcd', '/version'])
      expect(authenticate({ path: p }, tokens)).toEqual({
        user: { name: 'system:anonymous', groups: ['system:unauthenticated'] },
      });
    for (const p of ['/api', '/apis', '/api/v1/pods', '/openapi/v3', '/livezz', '/metrics'])
      expect(authenticate({ path: p }, tokens)).toHaveProperty('refused');
  });
});

describe('impersonation', () => {
  const allowAll = () => ({ allowed: true, reason: '' });
  it('acts as the user asked, with system:authenticated; a ServiceAccount gets its groups', () => {
    expect(impersonate(ADMIN, {}, allowAll)).toBeNull();
    expect(impersonate(ADMIN, { 'impersonate-user': 'bob', 'impersonate-group': ['devs'] }, allowAll)).toEqual({
      user: { name: 'bob', groups: ['devs', 'system:authenticated'] },
    });
    expect(impersonate(ADMIN, { 'impersonate-user': 'system:serviceaccount:ns:x' }, allowAll)).toEqual({
      user: {
        name: 'system:serviceaccount:ns:x',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
      },
    });
    expect(impersonate(ADMIN, { 'impersonate-group': 'devs' }, allowAll)).toHaveProperty('badRequest');
  });
  it('each impersonated attribute is an authorization check', () => {
    const asked: string[] = [];
    const out = impersonate(
      ADMIN,
      { 'impersonate-user': 'system:serviceaccount:ns:x', 'impersonate-group': 'g' },
      (a) => {
        asked.push(`${a.verb} ${a.resource} ${a.namespace}/${a.name}`);
        return { allowed: a.resource !== 'groups', reason: '' };
      },
    );
    expect(asked).toEqual(['impersonate serviceaccounts ns/x', 'impersonate groups /g']);
    expect(out).toHaveProperty('forbidden');
  });
});
