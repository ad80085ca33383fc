import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState, adminKubeconfigPath } from '../../src/lab/index.js';
import { applyIngressAddon } from '../../src/lab/cluster-ingress.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// The ingress add-on in a 3-node lab, as `podwire lab up` applies it: two
// controller pods (podwire's controller for the ingress-nginx image) behind
// the LoadBalancer Service the lab's cloud LB gives an EXTERNAL-IP. An
// Ingress routes a host and path to a Service; the outside client
// (172.28.0.100) reaches it through the EXTERNAL-IP over HTTP and over
// HTTPS with SNI (the certificate checked against the Secret's), the access
// log line shows in `kubectl logs -l`, the Ingress gets the address, and a
// path whose Service is missing answers 503 with the reason and a Warning.
const prefix = testPrefix('ing');
let state: LabState;
let client: ApiClient;
let lbIp = '';
const tag = randomBytes(3).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pwing-'));
const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000, all: true });
const kubectl = (...args: string[]) =>
  inNs(state.plan.controlPlane.ns, [
    'kubectl',
    '--kubeconfig',
    adminKubeconfigPath(state.plan),
    '--cache-dir',
    path.join(tmp, 'kube'),
    ...args,
  ]);
const curl = (...args: string[]) => inNs(state.plan.outside.client.ns, ['curl', '-sS', '--max-time', '5', ...args]);
const ready = (p: KubeObject) =>
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

const ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'app', namespace: 'default', annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' } },
  spec: {
    ingressClassName: 'nginx',
    tls: [{ hosts: ['app.example.com'], secretName: 'app-tls' }],
    rules: [
      {
        host: 'app.example.com',
        http: {
          paths: [
            { path: '/api', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
            { path: '/gone', pathType: 'Prefix', backend: { service: { name: 'nope', port: { number: 80 } } } },
          ],
        },
      },
    ],
  },
};

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 3, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
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
  const addon = await applyIngressAddon(state, { ready: true });
  lbIp = addon.externalIp ?? '';
  const secret = await podwire('tls-secret', 'app-tls', '--host', 'app.example.com');
  expect(secret.all).toBe('secret/app-tls created (kubernetes.io/tls, self-signed for app.example.com)');
  await client.create(ingress);
  await waitFor(
    'the web pod to be Ready',
    60_000,
    async () => (await client.list('pods', { namespace: 'default', labelSelector: 'app=web' })).items.some(ready),
    200,
  );
}, 120_000);

afterAll(async () => {
  client?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (state) await stopLab(prefix);
}, 60_000);

describe('the ingress add-on in the lab', () => {
  it('runs two Ready controller pods behind a LoadBalancer Service with an EXTERNAL-IP; `kubectl logs -l` reads both', async () => {
    expect(lbIp).toMatch(/^172\.28\.0\.(24\d|25[0-4])$/);
    const pods = (
      await client.list('pods', { namespace: 'ingress-nginx', labelSelector: 'app.kubernetes.io/name=ingress-nginx' })
    ).items;
    expect(pods.filter(ready)).toHaveLength(2);
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(2);
    // the articles' command as typed (kubectl shows the last 10 lines of each pod for a selector)
    const logs = await kubectl('logs', '-n', 'ingress-nginx', '-l', 'app.kubernetes.io/name=ingress-nginx');
    expect(logs.exitCode, String(logs.stderr)).toBe(0);
    expect(String(logs.stdout)).toMatch(/ controller\.go\] /);
    const all = String(
      (
        await kubectl(
          'logs',
          '-n',
          'ingress-nginx',
          '-l',
          'app.kubernetes.io/name=ingress-nginx',
          '--prefix',
          '--tail=-1',
        )
      ).stdout,
    );
    const banners = all
      .split('\n')
      .filter((l) => l.endsWith('] NGINX Ingress controller'))
      .map((l) => l.slice(0, l.indexOf(']')));
    expect(banners.sort()).toEqual(pods.map((p) => `[pod/${p.metadata.name}/controller`).sort());
    const classes = await kubectl('get', 'gatewayclass,ingressclass');
    expect(String(classes.stdout)).toMatch(
      /gatewayclass\.gateway\.networking\.k8s\.io\/cilium\s+io\.cilium\/gateway-controller\s+True/,
    );
    expect(String(classes.stdout)).toMatch(/ingressclass\.networking\.k8s\.io\/nginx\s+k8s\.io\/ingress-nginx/);
  });

  it('routes host + path to the Service from the outside client over HTTP, and its access log line appears', async () => {
    const url = `http://app.example.com/api/${tag}`;
    let out = '';
    await waitFor(
      'the route to answer over HTTP',
      20_000,
      async () => {
        out = String((await curl('--resolve', `app.example.com:80:${lbIp}`, url)).stdout);
        return out.startsWith('nginx on pod default/web-');
      },
      250,
    );
    // the backend saw the controller pod (the proxy's own connection through the cluster network)
    expect(out).toMatch(/you came from 10\.244\.\d+\.\d+:\d+/);
    const logs = () =>
      kubectl('logs', '-n', 'ingress-nginx', '-l', 'app.kubernetes.io/name=ingress-nginx', '--tail=-1').then((r) =>
        String(r.stdout),
      );
    await waitFor(
      'the access log line',
      10_000,
      async () => (await logs()).includes(`"GET /api/${tag} HTTP/1.1" 200`),
      500,
    );
    const line = (await logs()).split('\n').find((l) => l.includes(`/api/${tag} `))!;
    // externalTrafficPolicy Local: the client's own address reaches the log
    expect(line).toMatch(
      new RegExp(
        `^172\\.28\\.0\\.100 - - \\[.+\\] "GET /api/${tag} HTTP/1\\.1" 200 \\d+ "-" "curl/[^"]+" [\\d.]+ \\[default-web-80\\] 10\\.96\\.\\d+\\.\\d+:80 200 Ingress/default/app$`,
      ),
    );
  });

  it('serves HTTPS with SNI: the Secret’s certificate verifies for app.example.com', async () => {
    const secret = await client.get('secrets', 'default', 'app-tls');
    const ca = path.join(tmp, 'app.crt');
    fs.writeFileSync(ca, Buffer.from(secret.data['tls.crt'], 'base64'));
    const r = await curl(
      '--cacert',
      ca,
      '--resolve',
      `app.example.com:443:${lbIp}`,
      `https://app.example.com/api/${tag}-tls`,
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/^nginx on pod default\/web-/);
    // another name gets the controller's fake certificate, which that CA does not verify
    const other = await curl(
      '--cacert',
      ca,
      '--resolve',
      `other.example.com:443:${lbIp}`,
      'https://other.example.com/',
    );
    expect(other.exitCode).toBe(60);
  });

  it('writes the EXTERNAL-IP into the Ingress status', async () => {
    await waitFor(
      'the Ingress address',
      10_000,
      async () => (await client.get('ingresses', 'default', 'app')).status?.loadBalancer?.ingress?.[0]?.ip === lbIp,
      250,
    );
    const get = await kubectl('get', 'ingress', 'app');
    expect(String(get.stdout)).toMatch(
      new RegExp(`^app\\s+nginx\\s+app\\.example\\.com\\s+${lbIp.replace(/\./g, '\\.')}\\s+80, 443\\s+`, 'm'),
    );
  });

  it('answers 503 with the reason for a path whose Service is missing, and records a Warning event on the Ingress', async () => {
    const r = await curl('-i', '--resolve', `app.example.com:80:${lbIp}`, 'http://app.example.com/gone/x');
    expect(String(r.stdout)).toMatch(/^HTTP\/1\.1 503 /);
    expect(String(r.stdout)).toContain('Service default/nope not found');
    let ev: KubeObject | undefined;
    await waitFor(
      'the Warning event',
      10_000,
      async () => {
        ev = (await client.list('events', { namespace: 'default' })).items.find(
          (e) =>
            e.involvedObject?.kind === 'Ingress' &&
            e.involvedObject?.name === 'app' &&
            e.type === 'Warning' &&
            String(e.message).includes('default/nope'),
        );
        return !!ev;
      },
      250,
    );
    expect(ev!.source.component).toBe('nginx-ingress-controller');
    // one leader records it, once
    const same = (await client.list('events', { namespace: 'default' })).items.filter(
      (e) => e.involvedObject?.name === 'app' && e.reason === ev!.reason,
    );
    expect(same).toHaveLength(1);
  });
});
