import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState, adminKubeconfigPath } from '../../src/lab/index.js';
import { applyIngressAddon } from '../../src/lab/cluster-ingress.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// The ingress controller's L7 hop made visible, in a 2-node lab with the
// add-on (one controller pod behind the LoadBalancer Service): a request
// from the outside client shows up in `podwire observe --http` with its
// route and backend and is counted per route and backend on the
// controller's :10254/metrics; `podwire trace client http://app.example.com/api`
// (the client pod resolves the name to the EXTERNAL-IP through hostAliases)
// climbs the ladder to the backend pod, and stops at the route step with
// the reason when the backend Service is missing — as the controller itself
// answers; `describe ingress` prints what the real kubectl prints.
const prefix = testPrefix('vis');
let state: LabState;
let client: ApiClient;
let lbIp = '';
const tag = randomBytes(3).toString('hex');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pwvis-'));
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
const curl = (...args: string[]) =>
  inNs(state.plan.outside.client.ns, [
    'curl',
    '-sS',
    '--max-time',
    '5',
    '--resolve',
    `app.example.com:80:${lbIp}`,
    ...args,
  ]);
const ready = (p: KubeObject) =>
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
const controller = async () =>
  (await client.list('pods', { namespace: 'ingress-nginx', labelSelector: 'app.kubernetes.io/name=ingress-nginx' }))
    .items[0];

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
  // the client pod resolves app.example.com to the EXTERNAL-IP as a learner would point it there (no DNS record for it in the lab)
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: 'default' },
    spec: {
      hostAliases: [{ ip: lbIp, hostnames: ['app.example.com'] }],
      containers: [{ name: 'c', image: 'curlimages/curl:8.8.0', command: ['sleep', 'infinity'] }],
    },
  });
  await client.create({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'app', namespace: 'default' },
    spec: {
      ingressClassName: 'nginx',
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
  });
  await waitFor(
    'the web and client pods to be Ready',
    60_000,
    async () => (await client.list('pods', { namespace: 'default' })).items.filter(ready).length === 2,
    200,
  );
  await waitFor(
    'the route to answer',
    20_000,
    async () => String((await curl('http://app.example.com/api/')).stdout).startsWith('nginx on pod default/web-'),
    250,
  );
}, 120_000);

afterAll(async () => {
  client?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (state) await stopLab(prefix);
}, 60_000);

describe('the ingress controller, visible', () => {
  it('observe --http shows a request from the outside client (route, backend, status) and one the controller answered itself; :10254/metrics counts them per route and backend', async () => {
    const obs: ResultPromise = execa(process.execPath, [CLI_ENTRY, '--lab', prefix, 'observe', '--http'], {
      env,
      reject: false,
      timeout: 60_000,
    });
    let out = '';
    let err = '';
    obs.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    obs.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await waitFor('observe to subscribe', 15_000, () => err.includes('observing HTTP requests'));
      expect((await curl(`http://app.example.com/api/${tag}`)).exitCode).toBe(0);
      expect(String((await curl(`http://app.example.com/gone/${tag}`)).stdout)).toContain(
        'Service default/nope not found',
      );
      await waitFor('both requests in observe', 10_000, () => out.includes(`/gone/${tag})) `));
    } finally {
      obs.kill('SIGTERM');
      await obs;
    }
    const ctl = await controller();
    const who = `ingress-nginx/${ctl.metadata.name}:80 \\(${ctl.status.podIP.replace(/\./g, '\\.')}\\)`;
    const lines = out.split('\n').filter((l) => l.includes(tag));
    expect(lines, out).toHaveLength(4);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${ctl.spec.nodeName}  172\\.28\\.0\\.100 -> ${who}  http-request FORWARDED \\(HTTP/1\\.1 GET http://app\\.example\\.com/api/${tag}\\)  Ingress/default/app app\\.example\\.com/api \\(Prefix\\) => default/web:80 \\(10\\.96\\.\\d+\\.\\d+:80\\)$`,
      ),
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `  172\\.28\\.0\\.100 <- ${who}  http-response FORWARDED \\(HTTP/1\\.1 200 [\\d.]+ms \\(GET http://app\\.example\\.com/api/${tag}\\)\\)  from default/web:80 \\(10\\.96\\.\\d+\\.\\d+:80\\), \\d+ B$`,
      ),
    );
    expect(lines[2]).toContain(
      `http-request DROPPED (HTTP/1.1 GET http://app.example.com/gone/${tag})  Ingress/default/app app.example.com/gone (Prefix): Service default/nope not found`,
    );
    expect(lines[3]).toMatch(
      /http-response DROPPED \(HTTP\/1\.1 503 [\d.]+ms \(GET .*\)\)  answered by the controller: Service default\/nope not found$/,
    );
    // Prometheus, scraped from the controller pod's node as a node-level scraper would
    const node = state.plan.nodes.find((n) => n.name === ctl.spec.nodeName)!;
    const metrics = String(
      (await inNs(node.ns, ['curl', '-sS', '--max-time', '5', `http://${ctl.status.podIP}:10254/metrics`])).stdout,
    );
    const count = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? 0);
    expect(
      count(
        /^podwire_ingress_requests_total\{route="Ingress\/default\/app",backend="default\/web:80",status_class="2xx"\} (\d+)$/m,
      ),
    ).toBeGreaterThanOrEqual(2);
    expect(
      count(/^podwire_ingress_requests_total\{route="Ingress\/default\/app",backend="-",status_class="5xx"\} (\d+)$/m),
    ).toBe(1);
    expect(
      count(/^podwire_ingress_request_duration_seconds_count\{route="Ingress\/default\/app"\} (\d+)$/m),
    ).toBeGreaterThanOrEqual(3);
  });

  it('trace client http://app.example.com/api climbs DNS → LoadBalancer → controller pod → route → Service → backend pod and is DELIVERED', async () => {
    const r = await podwire('trace', 'client', 'http://app.example.com/api');
    expect(r.exitCode, String(r.all)).toBe(0);
    const ctl = (await controller()).metadata.name;
    const text = String(r.stdout);
    const steps = [
      `hosts: /etc/hosts line`,
      `ingress: ${lbIp}:80 is the LoadBalancer address of Service ingress-nginx/ingress-nginx-controller: to the controller pods' :80`,
      `service: ${lbIp}:80/TCP is LoadBalancer frontend`,
      `ingress-nginx/${ctl}`,
      'eth0: the probe arrived',
      'listener: :80 (HTTP) GET http://app.example.com/api, Host app.example.com',
      'route: Ingress default/app, app.example.com/api (Prefix)',
      'backend: Service default/web:80 (ClusterIP 10.96.',
      `proxy: a new connection from `,
      'service: 10.96.',
      'web-',
      'eth0: the probe arrived',
    ];
    let at = 0;
    for (const s of steps) {
      const i = text.indexOf(s, at);
      expect(i, `"${s}" after offset ${at} in:\n${text}`).toBeGreaterThanOrEqual(0);
      at = i + s.length;
    }
    expect(text.split('\n').at(-1)).toMatch(
      new RegExp(
        `^DELIVERED: delivered to web-[a-z0-9]+-[a-z0-9]+ through Service default/web, routed by Ingress default/app \\(app\\.example\\.com/api \\(Prefix\\)\\) in ingress-nginx/${ctl}$`,
      ),
    );
  });

  it('the backend Service missing: the trace stops at the route step with 503 and the reason, as the controller answers', async () => {
    const r = await podwire('trace', 'client', 'http://app.example.com/gone/x');
    expect(r.exitCode).toBe(1);
    const ctl = (await controller()).metadata.name;
    const lines = String(r.stdout).split('\n');
    expect(lines.at(-2)).toMatch(
      / route: Ingress default\/app, app\.example\.com\/gone \(Prefix\): 503 Service default\/nope not found$/,
    );
    expect(lines.at(-1)).toBe(
      `ANSWERED-BY-INGRESS: 503 from ingress-nginx/${ctl} at the route step (Ingress default/app, app.example.com/gone (Prefix)): Service default/nope not found`,
    );
    expect(String(r.stdout)).not.toContain('proxy: a new connection');
    const answered = await inNs(state.plan.outside.client.ns, [
      'curl',
      '-sS',
      '-i',
      '--max-time',
      '5',
      '--resolve',
      `app.example.com:80:${lbIp}`,
      'http://app.example.com/gone/x',
    ]);
    expect(String(answered.stdout)).toMatch(/^HTTP\/1\.1 503 [\s\S]*Service default\/nope not found/);
  });

  it('describe ingress prints rules and backends (endpoints, the missing Service) as the real kubectl does', async () => {
    const ours = await podwire('describe', 'ingress', 'app');
    const theirs = await kubectl('describe', 'ingress', 'app');
    expect(theirs.exitCode, String(theirs.stderr)).toBe(0);
    // event ages may differ by a second between the two runs: compare the events without them
    const split = (t: string) => {
      const [head, events = ''] = t.split('\nEvents:');
      return {
        head,
        events: events.split('\n').map((l) =>
          l
            .trim()
            .replace(/\s+/g, ' ')
            .replace(/^(Warning|Normal) (\S+) \S+ /, '$1 $2 '),
        ),
      };
    };
    const a = split(String(ours.stdout));
    const b = split(String(theirs.stdout));
    expect(a.head).toBe(b.head);
    expect(a.events).toEqual(b.events);
    expect(a.head).toMatch(
      /\n {19}\/api {4}web:80 \(10\.244\.\d+\.\d+:80\)\n {19}\/gone {3}nope:80 \(<error: endpoints "nope" not found>\)\n/,
    );
  });
});
