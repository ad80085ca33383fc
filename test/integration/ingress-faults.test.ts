import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { labUp, fixLab, brokenNow, waitFor, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import { applyIngressAddon } from '../../src/lab/cluster-ingress.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// The Ingress faults of `podwire lab break`, each made, seen and found the
// way a learner would: the symptom from the lab's outside client through the
// controller's EXTERNAL-IP (curl), the cause named by describe ingress, the
// events, trace from a pod or the Ingress itself — then `lab fix`, and the
// request works again. Break and fix return once the controller serves the
// change, so the first request after them already shows it (no retries
// here). A 2-node lab with the ingress add-on (one controller pod), a web
// Deployment behind Service `web`, the Ingress `app` (app.example.com: /api
// → web, TLS from Secret app-tls made by `podwire tls-secret`, no catch-all
// path) and a pod that finds app.example.com at the EXTERNAL-IP (hostAliases).
const prefix = testPrefix('ift');
let state: LabState;
let client: ApiClient;
let lbIp = '';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pwift-'));
const caFile = path.join(tmp, 'app.crt');

const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], {
    reject: false,
    timeout: 60_000,
    all: true,
    env: { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' },
  });
/** curl from the outside client, app.example.com at the EXTERNAL-IP */
const curl = (...args: string[]) =>
  inNs(state.plan.outside.client.ns, [
    'curl',
    '-sS',
    '--max-time',
    '5',
    '--resolve',
    `app.example.com:443:${lbIp}`,
    '--resolve',
    `app.example.com:80:${lbIp}`,
    ...args,
  ]);
const ready = (p: KubeObject) =>
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
const warnings = async (reason: string) =>
  (await client.list('events', { namespace: 'default' })).items
    .filter(
      (e) =>
        e.type === 'Warning' &&
        e.reason === reason &&
        e.involvedObject?.kind === 'Ingress' &&
        e.involvedObject?.name === 'app',
    )
    .map((e) => String(e.message));

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  const web = { app: 'web' };
  await client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: web },
      template: {
        metadata: { labels: web },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
      },
    },
  });
  await client.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: web, ports: [{ port: 80 }] },
  });
  lbIp = (await applyIngressAddon(state, { ready: true })).externalIp ?? '';
  expect(lbIp).toMatch(/^172\.28\.0\.\d+$/);
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'browser', namespace: 'default' },
    spec: {
      hostAliases: [{ ip: lbIp, hostnames: ['app.example.com'] }],
      containers: [{ name: 'c', image: 'nicolaka/netshoot' }],
    },
  });
  const secret = await podwire('tls-secret', 'app-tls', '--host', 'app.example.com');
  expect(secret.all).toBe('secret/app-tls created (kubernetes.io/tls, self-signed for app.example.com)');
  const crt = (await client.get('secrets', 'default', 'app-tls')).data['tls.crt'];
  fs.writeFileSync(caFile, Buffer.from(crt, 'base64'));
  await client.create({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'app', namespace: 'default' },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: ['app.example.com'], secretName: 'app-tls' }],
      rules: [
        {
          host: 'app.example.com',
          http: {
            paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }],
          },
        },
      ],
    },
  });
  await waitFor(
    'the web and browser pods to be Ready',
    60_000,
    async () => (await client.list('pods', { namespace: 'default' })).items.filter(ready).length === 2,
    200,
  );
  await waitFor(
    'the Ingress to answer over HTTPS',
    20_000,
    async () =>
      String((await curl('--cacert', caFile, 'https://app.example.com/api/')).stdout).startsWith(
        'nginx on pod default/web-',
      ),
    250,
  );
}, 120_000);

// a failed case leaves nothing broken for the next
afterEach(async () => {
  if (state) await fixLab(state);
});
afterAll(async () => {
  client?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (state) await stopLab(prefix);
}, 60_000);

describe('lab break: Ingress faults, seen from outside, found and fixed', () => {
  it('ingress-backend-missing: 503 with the reason; describe ingress, the Warning event and trace name the misspelled Service; fixed, answered', async () => {
    const broke = await podwire('lab', 'break', 'ingress-backend-missing', 'app');
    expect(broke.exitCode, String(broke.all)).toBe(0);
    expect(String(broke.all)).toMatch(/^broken: ingress-backend-missing on app — /);
    expect(brokenNow(state)).toEqual([{ scenario: 'ingress-backend-missing', target: 'app' }]);
    const r = await curl('-i', '--cacert', caFile, 'https://app.example.com/api/users');
    expect(String(r.stdout)).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(String(r.stdout)).toMatch(/^x-podwire-reason: Service default\/wbe not found\r$/m);
    expect(String((await podwire('describe', 'ingress', 'app')).stdout)).toMatch(
      /\/api {3}wbe:80 \(<error: endpoints "wbe" not found>\)/,
    );
    await waitFor(
      'the Warning on the Ingress',
      10_000,
      async () => (await warnings('ServiceNotFound')).some((m) => m.startsWith('Service default/wbe not found')),
      200,
    );
    const t = await podwire('trace', 'browser', 'https://app.example.com/api/users');
    expect(t.exitCode).toBe(1);
    expect(String(t.stdout).trim().split('\n').at(-1)).toMatch(
      /^ANSWERED-BY-INGRESS: 503 from ingress-nginx\/ingress-nginx-controller-\S+ at the route step \(Ingress default\/app, app\.example\.com\/api \(Prefix\)\): Service default\/wbe not found$/,
    );
    const fixed = await podwire('lab', 'fix');
    expect(fixed.all).toBe('fixed: ingress-backend-missing on app');
    expect((await client.get('ingresses', 'default', 'app')).spec.rules[0].http.paths[0].backend.service.name).toBe(
      'web',
    );
    expect(String((await curl('--cacert', caFile, 'https://app.example.com/api/users')).stdout)).toMatch(
      /^nginx on pod default\/web-/,
    );
  });

  it('ingress-tls-secret-missing: the default certificate (curl --cacert refuses it, exit 60), SecretNotFound; fixed, the same certificate verifies again', async () => {
    const broke = await podwire('lab', 'break', 'ingress-tls-secret-missing', 'app');
    expect(broke.exitCode, String(broke.all)).toBe(0);
    expect(await client.tryGet('secrets', 'default', 'app-tls')).toBeNull();
    const verified = await curl('--cacert', caFile, 'https://app.example.com/api/');
    expect(verified.exitCode).toBe(60);
    const seen = await curl('-kv', '-o', '/dev/null', 'https://app.example.com/api/');
    expect(String(seen.stderr)).toMatch(/^\* +subject: O=Acme Co; CN=Kubernetes Ingress Controller Fake Certificate$/m);
    await waitFor(
      'the Warning on the Ingress',
      10_000,
      async () =>
        (await warnings('SecretNotFound')).includes(
          'TLS Secret default/app-tls not found: app.example.com gets the default certificate',
        ),
      200,
    );
    const t = await podwire('trace', 'browser', 'https://app.example.com/api/');
    expect(String(t.stdout)).toContain(
      "tls: no Secret's certificate for SNI app.example.com: the controller presents its default (fake) certificate",
    );
    expect((await podwire('lab', 'fix')).all).toBe('fixed: ingress-tls-secret-missing on app');
    const again = await curl('--cacert', caFile, 'https://app.example.com/api/');
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(String(again.stdout)).toMatch(/^nginx on pod default\/web-/);
  });

  it('ingress-exact-not-prefix: /api answers, /api/users is a 404 with the reason; trace shows the path is Exact; fixed, /api/users answers', async () => {
    const broke = await podwire('lab', 'break', 'ingress-exact-not-prefix', 'app');
    expect(broke.exitCode, String(broke.all)).toBe(0);
    expect(String((await curl('--cacert', caFile, 'https://app.example.com/api')).stdout)).toMatch(
      /^nginx on pod default\/web-/,
    );
    const r = await curl('-i', '--cacert', caFile, 'https://app.example.com/api/users');
    expect(String(r.stdout)).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(String(r.stdout)).toMatch(
      /^x-podwire-reason: no Ingress rule matches host app\.example\.com path \/api\/users\r$/m,
    );
    const t = await podwire('trace', 'browser', 'https://app.example.com/api/users');
    expect(t.exitCode).toBe(1);
    expect(String(t.stdout)).toMatch(
      / route: 404 no Ingress rule matches host app\.example\.com path \/api\/users; what host app\.example\.com has: app\.example\.com: TLS on :443 \| app\.example\.com \/api \(Exact\) → default\/web:80 /,
    );
    expect(String((await podwire('get', 'ingress', 'app', '-o', 'yaml')).stdout)).toMatch(/^ {8}pathType: Exact$/m);
    expect((await podwire('lab', 'fix')).all).toBe('fixed: ingress-exact-not-prefix on app');
    expect(String((await curl('--cacert', caFile, 'https://app.example.com/api/users')).stdout)).toMatch(
      /^nginx on pod default\/web-/,
    );
  });

  it('break refuses an Ingress without what it needs, and records nothing', async () => {
    await client.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'plain', namespace: 'default' },
      spec: {
        rules: [
          {
            host: 'plain.example.com',
            http: {
              paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }],
            },
          },
        ],
      },
    });
    const tls = await podwire('lab', 'break', 'ingress-tls-secret-missing', 'plain');
    expect([tls.exitCode, String(tls.all)]).toEqual([
      1,
      'error: Ingress default/plain names no TLS Secret (spec.tls[].secretName with a host)',
    ]);
    const exact = await podwire('lab', 'break', 'ingress-exact-not-prefix', 'plain');
    expect(String(exact.all)).toBe('error: Ingress default/plain has no Prefix path other than /');
    expect(String((await podwire('lab', 'break', 'ingress-backend-missing', 'nope')).all)).toBe(
      'error: ingress default/nope not found',
    );
    expect(brokenNow(state)).toEqual([]);
  });
});
