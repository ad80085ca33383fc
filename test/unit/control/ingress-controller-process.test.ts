import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { FileStore } from '../../../src/control/store/index.js';
import { ApiServer } from '../../../src/control/api/index.js';
import { ApiClient, type KubeObject } from '../../../src/control/client/index.js';
import { waitFor } from '../../../src/lab/wait.js';
import { parseControllerArgs } from '../../../src/ingress/controller/args.js';
import { runIngressController, type ControllerHandle } from '../../../src/ingress/controller/run.js';
import { ingressAddon } from '../../../src/ingress/addon.js';

// The controller process against a real API server (Unix socket, durable
// store), its listeners on ephemeral loopback ports: the statuses and
// events it writes as leader, the Gateway's Service, /healthz, /metrics,
// the L7 event stream and the access log. Routing to real backends
// through Services is the lab's test (test/integration/ingress-lab.test.ts).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwicp-'));
const sock = path.join(dir, 'api.sock');
let store: FileStore;
let api: ApiServer;
let client: ApiClient;
let ctl: ControllerHandle;
const lines: string[] = [];

function get(
  port: number,
  p: string,
  host = 'localhost',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, headers: { host } }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (d) => (body += d))
        .on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  store = FileStore.open(path.join(dir, 'store'));
  api = new ApiServer(store);
  await api.bootstrap();
  await api.listenUnix(sock);
  client = new ApiClient(`unix:${sock}`);
  for (const o of ingressAddon()) if (o.kind !== 'Deployment') await client.create(o);
  // the cloud load balancer's part: the publish Service's EXTERNAL-IP
  const svc = await client.get('services', 'ingress-nginx', 'ingress-nginx-controller');
  await client.updateStatus({
    ...svc,
    apiVersion: 'v1',
    kind: 'Service',
    status: { loadBalancer: { ingress: [{ ip: '172.28.0.240', ipMode: 'VIP' }] } },
  });
  await client.create({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'app', namespace: 'default' },
    spec: {
      rules: [
        {
          host: 'app.example.com',
          http: {
            paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'missing', port: { number: 80 } } } }],
          },
        },
      ],
    },
  });
  const args = {
    ...parseControllerArgs([
      '--publish-service=ingress-nginx/ingress-nginx-controller',
      `--apiserver-host=unix:${sock}`,
    ]),
    healthzPort: 0,
  };
  ctl = await runIngressController(args, { out: (l) => lines.push(l), env: {}, bindPort: () => 0 });
}, 30_000);

afterAll(async () => {
  await ctl?.stop();
  client?.close();
  await api?.close();
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const httpPort = () => ctl.syncer.proxy!.boundPort(80)!;

describe('the controller process', () => {
  it('prints ingress-nginx’s banner, then serves /healthz 200 once the routes serve', async () => {
    expect(lines.slice(0, 3)).toEqual([
      '-------------------------------------------------------------------------------',
      'NGINX Ingress controller',
      '  Release:       v1.11.3 (podwire)',
    ]);
    await waitFor('healthz 200', 10_000, async () => (await get(ctl.healthzPort, '/healthz')).status === 200);
    expect((await get(ctl.healthzPort, '/nope')).status).toBe(404);
  });

  it('writes the publish Service’s EXTERNAL-IP into the Ingress status, and a Warning event for the missing Service', async () => {
    await waitFor(
      'the Ingress address',
      10_000,
      async () =>
        (await client.get('ingresses', 'default', 'app')).status?.loadBalancer?.ingress?.[0]?.ip === '172.28.0.240',
    );
    let ev: KubeObject | undefined;
    await waitFor('a Warning event on the Ingress', 10_000, async () => {
      ev = (await client.list('events', { namespace: 'default' })).items.find(
        (e) => e.involvedObject?.kind === 'Ingress' && e.involvedObject?.name === 'app' && e.type === 'Warning',
      );
      return !!ev;
    });
    expect(ev!.message).toContain('Service default/missing not found');
    expect(ev!.source.component).toBe('nginx-ingress-controller');
    expect(ev!.involvedObject.apiVersion).toBe('networking.k8s.io/v1');
  });

  it('answers a request for it 503 with the reason, prints the access log line, counts it, and streams the L7 event', async () => {
    const events: string[] = [];
    const stream = http.get({ host: '127.0.0.1', port: ctl.healthzPort, path: '/podwire/events' }, (res) =>
      res.setEncoding('utf8').on('data', (d) => events.push(d)),
    );
    await waitFor('the event stream subscribed', 5000, () => ctl.hub.subscribers === 1);
    const r = await get(httpPort(), '/x?y=1', 'app.example.com');
    expect(r.status).toBe(503);
    expect(r.body).toContain('Service default/missing not found');
    await waitFor('the access log line', 5000, () => lines.some((l) => l.includes('"GET /x?y=1 HTTP/1.1" 503')));
    expect(lines.find((l) => l.includes('"GET /x?y=1 HTTP/1.1" 503'))).toMatch(
      /^127\.0\.0\.1 - - \[.+\] "GET \/x\?y=1 HTTP\/1\.1" 503 \d+ /,
    );
    await waitFor('the http event', 5000, () => events.join('').includes('"type":"http"'));
    stream.destroy();
    const ev = events
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'http');
    expect(ev).toMatchObject({
      type: 'http',
      client: '127.0.0.1',
      method: 'GET',
      host: 'app.example.com',
      uri: '/x?y=1',
      status: 503,
      route: { kind: 'Ingress', name: 'default/app' },
    });
    const m = (await get(ctl.healthzPort, '/metrics')).body;
    expect(m).toMatch(
      /nginx_ingress_controller_requests\{[^}]*ingress="app"[^}]*namespace="default"[^}]*status="503"[^}]*\} 1/,
    );
    expect(m).toContain('nginx_ingress_controller_config_last_reload_successful{');
    expect(m).toContain('podwire_ingress_requests_total{');
    expect((await get(ctl.healthzPort, '/podwire/routes')).body).toContain('app.example.com');
  });

  it('gives a Gateway of class cilium its LoadBalancer Service and EndpointSlice, then its address and Programmed in status', async () => {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'infra' } });
    await client.create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'main-gateway', namespace: 'infra' },
      spec: { gatewayClassName: 'cilium', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
    });
    let svc: KubeObject | null = null;
    await waitFor(
      'Service cilium-gateway-main-gateway',
      10_000,
      async () => !!(svc = await client.tryGet('services', 'infra', 'cilium-gateway-main-gateway')),
    );
    expect(svc!.spec).toMatchObject({
      type: 'LoadBalancer',
      ports: [{ name: 'port-8080', port: 8080, protocol: 'TCP' }],
    });
    expect(svc!.spec.selector).toBeUndefined();
    const slice = await waitForValue(() => client.tryGet('endpointslices', 'infra', 'cilium-gateway-main-gateway'));
    expect(slice.endpoints).toEqual([]); // outside a pod: no controller pods to list
    const gw1 = await client.get('gateways', 'infra', 'main-gateway');
    await waitFor('Programmed False while the Service has no address', 10_000, async () => {
      const g = await client.get('gateways', 'infra', 'main-gateway');
      return g.status?.conditions?.find((c: KubeObject) => c.type === 'Programmed')?.reason === 'AddressNotAssigned';
    });
    await client.updateStatus({
      ...svc!,
      apiVersion: 'v1',
      kind: 'Service',
      status: { loadBalancer: { ingress: [{ ip: '172.28.0.241', ipMode: 'VIP' }] } },
    });
    await waitFor('the Gateway address and Programmed True', 10_000, async () => {
      const g = await client.get('gateways', 'infra', 'main-gateway');
      return (
        g.status?.addresses?.[0]?.value === '172.28.0.241' &&
        g.status.conditions.find((c: KubeObject) => c.type === 'Programmed')?.status === 'True'
      );
    });
    const g = await client.get('gateways', 'infra', 'main-gateway');
    expect(g.status.conditions.every((c: KubeObject) => c.observedGeneration === gw1.metadata.generation)).toBe(true);
    await waitFor(
      'GatewayClass cilium Accepted',
      10_000,
      async () =>
        (await client.get('gatewayclasses', undefined, 'cilium')).status?.conditions?.find(
          (c: KubeObject) => c.type === 'Accepted',
        )?.status === 'True',
    );
    // the listener port is served
    await waitFor('the Gateway listener bound', 10_000, () => !!ctl.syncer.proxy!.boundPort(8080));
    // the Gateway is deleted: its Service goes
    await client.delete('gateways', 'infra', 'main-gateway');
    await waitFor(
      'Service cilium-gateway-main-gateway deleted',
      10_000,
      async () => !(await client.tryGet('services', 'infra', 'cilium-gateway-main-gateway')),
    );
  });

  it('writes a status only when it changes', async () => {
    const before = (await client.get('ingresses', 'default', 'app')).metadata.resourceVersion;
    // a change elsewhere makes the controller recompile; the Ingress status it computes is the one stored
    await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'poke', namespace: 'default' },
      data: {},
    });
    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'other', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
    const reloads = () =>
      get(ctl.healthzPort, '/metrics').then((r) =>
        Number(/^nginx_ingress_controller_success\{[^}]*\} (\d+)/m.exec(r.body)?.[1] ?? 0),
      );
    const n = await reloads();
    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'other2', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
    await waitFor('a recompile', 5000, async () => (await reloads()) > n);
    expect((await client.get('ingresses', 'default', 'app')).metadata.resourceVersion).toBe(before);
  });
});

async function waitForValue<T>(f: () => Promise<T | null>): Promise<T> {
  let v: T | null = null;
  await waitFor('a value', 10_000, async () => !!(v = await f()));
  return v!;
}
