import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mountsToken,
  tokenRequestFor,
  refreshAtMs,
  atomicWrite,
  kubernetesServiceEnv,
  ServiceAccountTokens,
} from '../../../src/kubelet/service-account.js';
import { serviceAccountBind } from '../../../src/kubelet/runtime.js';
import type { ApiClient } from '../../../src/control/client/index.js';
import { waitFor } from '../../../src/lab/wait.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-sa-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const pod = (spec: object = {}) => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1' },
  spec: { containers: [], ...spec },
});

describe('ServiceAccount token projection (the kubelet side)', () => {
  it('automountServiceAccountToken: the pod’s wins, else the ServiceAccount’s, else true', () => {
    expect(mountsToken(pod())).toBe(true);
    expect(mountsToken(pod(), { metadata: { name: 'default' }, automountServiceAccountToken: false })).toBe(false);
    expect(
      mountsToken(pod({ automountServiceAccountToken: true }), {
        metadata: { name: 'default' },
        automountServiceAccountToken: false,
      }),
    ).toBe(true);
    expect(mountsToken(pod({ automountServiceAccountToken: false }))).toBe(false);
  });

  it('TokenRequest bound to the pod, an hour and 7 s; refreshed at 80 % of its life', () => {
    expect(tokenRequestFor(pod())).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: ['https://kubernetes.default.svc.cluster.local'],
        expirationSeconds: 3607,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'u-1' },
      },
    });
    expect(refreshAtMs(jwt({ iat: 1000, exp: 2000 }), undefined, 0)).toBe(1_800_000);
    expect(refreshAtMs('opaque', '1970-01-01T00:00:10Z', 0)).toBe(8000);
  });

  it('every container gets the kubernetes Service’s variables', () => {
    expect(kubernetesServiceEnv()).toMatchObject({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    });
  });

  it('atomic writer: ..data → ..<stamp>, name → ..data/name, 0644, the old generation removed', () => {
    const d = path.join(dir, 'aw');
    atomicWrite(d, { token: 'one', namespace: 'shop' }, '1');
    expect(fs.readlinkSync(path.join(d, '..data'))).toBe('..1');
    expect(fs.readlinkSync(path.join(d, 'token'))).toBe('..data/token');
    expect(fs.statSync(path.join(d, 'token')).mode & 0o777).toBe(0o644);
    const inode = fs.statSync(d).ino;
    atomicWrite(d, { token: 'two', namespace: 'shop' }, '2');
    expect(fs.readFileSync(path.join(d, 'token'), 'utf8')).toBe('two');
    expect(fs.readdirSync(d).sort()).toEqual(['..2', '..data', 'namespace', 'token']);
    // the directory itself stays (a container has it bind-mounted)
    expect(fs.statSync(d).ino).toBe(inode);
  });

  it('the bind: read-only at /var/run/secrets/kubernetes.io/serviceaccount through what /var/run is', () => {
    expect(serviceAccountBind('/s', '/run')).toEqual({
      src: '/s',
      dest: '/run/secrets/kubernetes.io/serviceaccount',
      readOnly: true,
    });
  });

  it('the token manager asks once, writes token, ca.crt and namespace, and asks again at 80 % of the life', async () => {
    const asked: { path: string; body: any }[] = [];
    const client = {
      async request(_m: string, p: string, body: any) {
        asked.push({ path: p, body });
        const now = Math.floor(Date.now() / 1000);
        // a two-second token: refreshed after 1.6 s
        return { status: { token: jwt({ iat: now, exp: now + 2, n: asked.length }) } };
      },
    } as unknown as ApiClient;
    const tokens = new ServiceAccountTokens({
      client,
      caPem: 'CA PEM',
      log: () => {},
      dirFor: (uid) => path.join(dir, uid),
    });
    try {
      const p = pod({ serviceAccountName: 'api' });
      const d = await tokens.ensure(p);
      expect(await tokens.ensure(p)).toBe(d);
      expect(asked.map((a) => a.path)).toEqual(['/api/v1/namespaces/shop/serviceaccounts/api/token']);
      expect(fs.readFileSync(path.join(d, 'ca.crt'), 'utf8')).toBe('CA PEM');
      expect(fs.readFileSync(path.join(d, 'namespace'), 'utf8')).toBe('shop');
      const first = fs.readFileSync(path.join(d, 'token'), 'utf8');
      await waitFor('a refresh', 5000, () => asked.length >= 2);
      await waitFor('the new token written', 2000, () => fs.readFileSync(path.join(d, 'token'), 'utf8') !== first);
    } finally {
      tokens.stop();
    }
  });
});
