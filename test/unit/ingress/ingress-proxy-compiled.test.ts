import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRoutes } from '../../../src/ingress/compile.js';
import type { BackendTarget, RouteTable } from '../../../src/ingress/types.js';
import {
  CERTS,
  cluster,
  example,
  gatewayClass,
  ingressClass,
  namespace,
  OPTS,
  svc,
  tlsSecret,
} from '../support/ingress-cluster.js';
import { echoHandler, request, startProxy, upstream, type Upstream } from '../support/ingress-proxy.js';

// The real compiler (helper A's compileRoutes) in front of the engine: the
// seed articles' Ingress and Gateway manifests from examples/, unchanged,
// with their companion objects. In a cluster the agents carry a connection
// to ClusterIP:80 on to a pod; here `viaLoopback` stands in for that last
// hop, sending each Service's traffic to its upstream on 127.0.0.1 — every
// routing decision is the compiler's.
function viaLoopback(t: RouteTable, ports: Record<string, number>): RouteTable {
  const hop = (b: BackendTarget): BackendTarget =>
    b.address ? { ...b, address: '127.0.0.1', port: ports[b.service] ?? 9 } : b;
  return {
    listeners: t.listeners,
    certificate: (sni, port) => t.certificate(sni, port),
    describe: () => t.describe(),
    route(r) {
      const d = t.route(r);
      return d.kind === 'proxy' ? { ...d, backends: d.backends.map(hop), mirror: d.mirror?.map(hop) } : d;
    },
  };
}

const opts = { ...OPTS, defaultCertificate: CERTS.other };
const ups: Record<string, Upstream> = {};
let proxy: Awaited<ReturnType<typeof startProxy>>;
let agent: https.Agent;

beforeAll(async () => {
  for (const name of ['default/api-service', 'default/frontend-service', 'app-team/api-v2', 'app-team/api-v3'])
    ups[name] = await upstream(echoHandler(name));
  const objects = cluster(
    ingressClass('nginx', OPTS.ingressController, true),
    svc('default', 'api-service', '10.96.0.12'),
    svc('default', 'frontend-service', '10.96.0.13'),
    tlsSecret('default', 'app-tls-cert', CERTS.app),
    ...example('000-ingress-tls-path-routing.yaml'),
    gatewayClass('cilium'),
    namespace('infra'),
    namespace('app-team'),
    tlsSecret('infra', 'wildcard-cert', CERTS.wild),
    svc('app-team', 'api-v2', '10.96.0.20'),
    svc('app-team', 'api-v3', '10.96.0.21'),
    ...example('000-gateway-httproute-canary.yaml'),
  );
  const { table } = compileRoutes(objects, opts);
  const ports = Object.fromEntries(Object.entries(ups).map(([k, u]) => [k, u.port]));
  proxy = await startProxy(viaLoopback(table, ports));
  agent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });
});
afterAll(async () => {
  agent?.destroy();
  await proxy?.proxy.stop();
  await Promise.all(Object.values(ups).map((u) => u.close()));
});

function get(
  host: string,
  path: string,
): Promise<{ status: number; served: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: proxy.port(443), path, servername: host, headers: { host }, agent },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            served: res.statusCode === 200 ? JSON.parse(body).name : body,
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function certificateCN(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: proxy.port(443), servername, rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject.CN));
      s.end();
    });
    s.on('error', reject);
  });
}

describe('compiled routes through the engine: examples/000-ingress-tls-path-routing.yaml', () => {
  it('plain HTTP is redirected to https (ssl-redirect, 308)', async () => {
    const r = await request(proxy.port(80), '/api?x=1', { host: 'app.example.com' });
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://app.example.com/api?x=1');
  });

  it('HTTPS: the app-tls-cert for app.example.com, /api → api-service, /apix and / → frontend-service', async () => {
    expect(await certificateCN('app.example.com')).toBe('app.example.com');
    // the article's Gateway shares :443 with a listener without hostname: its wildcard-cert comes before the default
    expect(await certificateCN('unknown.test')).toBe('*.example.com');
    expect((await get('app.example.com', '/api/users/7')).served).toBe('default/api-service');
    expect((await get('app.example.com', '/apix')).served).toBe('default/frontend-service');
    expect((await get('app.example.com', '/')).served).toBe('default/frontend-service');
  });

  it('the article\'s rate-limit "10": limit-rps 10 with burst 50 → 429 past the burst', async () => {
    // the tests above took a few tokens from this client's bucket: refill it (51 tokens at 10 a second)
    await new Promise((r) => setTimeout(r, 600));
    const t0 = performance.now();
    let ok = 0;
    let limited: Awaited<ReturnType<typeof get>> | undefined;
    while (!limited && ok < 200) {
      const r = await get('app.example.com', '/');
      if (r.status === 429) limited = r;
      else ok++;
    }
    const seconds = (performance.now() - t0) / 1000;
    // nginx admits burst + 1 at once, then 10 a second
    expect(ok).toBeGreaterThanOrEqual(51);
    expect(ok).toBeLessThanOrEqual(51 + Math.ceil(10 * seconds));
    expect(limited!.headers['retry-after']).toBe('1');
  });
});

describe('compiled routes through the engine: examples/000-gateway-httproute-canary.yaml', () => {
  it('api.example.com/v2 splits 90/10 between api-v2 and api-v3 over 1,000 requests', async () => {
    expect(await certificateCN('api.example.com')).toBe('*.example.com');
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => get('api.example.com', '/v2/orders')));
      for (const r of batch) counts[r.served] = (counts[r.served] ?? 0) + 1;
    }
    expect(counts['app-team/api-v2'] + counts['app-team/api-v3']).toBe(1000);
    // binomial(1000, 0.1): mean 100, sd 9.5; 5 sd either way
    expect(counts['app-team/api-v3']).toBeGreaterThan(52);
    expect(counts['app-team/api-v3']).toBeLessThan(148);
  });
});
