import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiServerFor } from '../../../src/cli/server-address.js';
import { writeKubeconfig } from '../../../src/control/client/index.js';

// Which API server the podwire CLI talks to, and with which credentials.
describe('apiServerFor', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-srv-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const kc = path.join(dir, 'admin.kubeconfig');
  writeKubeconfig(kc, {
    cluster: 'c',
    user: 'kubernetes-admin',
    server: 'https://172.28.0.2:6443',
    caPem: 'CA',
    certPem: 'CERT',
    keyPem: 'KEY',
  });
  const lab = 'pwnone';

  it('--server and PODWIRE_SERVER alone are bare URLs', () => {
    expect(apiServerFor({ server: 'http://127.0.0.1:6443/', lab, env: {} })).toBe('http://127.0.0.1:6443');
    expect(apiServerFor({ lab, env: { PODWIRE_SERVER: 'unix:/x.sock' } })).toBe('unix:/x.sock');
  });

  it('PODWIRE_KUBECONFIG adds its credentials (compose), and names the server when nothing else does', () => {
    expect(apiServerFor({ lab, env: { PODWIRE_KUBECONFIG: kc, PODWIRE_SERVER: 'https://apiserver:6443' } })).toEqual({
      server: 'https://apiserver:6443',
      ca: Buffer.from('CA'),
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
    });
    expect(apiServerFor({ lab, env: { PODWIRE_KUBECONFIG: kc } })).toMatchObject({ server: 'https://172.28.0.2:6443' });
  });

  it('KUBECONFIG (maybe a real cluster’s) is never read', () => {
    expect(() => apiServerFor({ lab, stateRoot: dir, env: { KUBECONFIG: kc } })).toThrow(/lab "pwnone" is not up/);
  });
});
