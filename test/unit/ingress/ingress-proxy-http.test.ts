import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestInfo, RouteDecision } from '../../../src/ingress/types.js';
import { formatAccessLine } from '../../../src/ingress/proxy/index.js';
import {
  echoHandler,
  literalTable,
  request,
  ROUTE,
  startProxy,
  target,
  upstream,
  waitFor,
  type Upstream,
} from '../support/ingress-proxy.js';

// The engine against real sockets on 127.0.0.1: real upstream servers, a
// RouteTable written as a literal object; the proxy's listener port 80 is
// bound to an ephemeral port (bindPort), requests still route as port 80.
let api: Upstream;
let web: Upstream;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let seen: RequestInfo[] = [];

function route(r: RequestInfo): RouteDecision {
  seen.push(r);
  if (r.host !== 'app.example.com') return { kind: 'error', status: 404, reason: `no rule for host ${r.host}` };
  if (r.path === '/old')
    return { kind: 'redirect', route: ROUTE, status: 308, location: 'https://app.example.com/new' };
  if (r.path.startsWith('/api')) {
    return {
      kind: 'proxy',
      route: { ...ROUTE, rule: 'rules[1]' },
      backends: [target(api.port, 1, 'default/api')],
      rewritePath: r.path.startsWith('/api/v1')
        ? `/v1${r.path.slice('/api/v1'.length)}${r.query ? `?${r.query}` : ''}`
        : undefined,
      rewriteHost: r.path.startsWith('/api/v1') ? 'api.internal' : undefined,
      requestHeaders: { set: [['X-Env', 'lab']], add: [['X-Tag', 'b']], remove: ['x-secret'] },
      responseHeaders: { set: [['X-Served-By', 'podwire']], remove: ['x-upstream'] },
    };
  }
  return { kind: 'proxy', route: ROUTE, backends: [target(web.port)] };
}

beforeAll(async () => {
  api = await upstream(echoHandler('api'));
  web = await upstream(echoHandler('web'));
  proxy = await startProxy(literalTable([{ port: 80, tls: false }], route));
});
afterAll(async () => {
  await proxy.proxy.stop();
  await Promise.all([api.close(), web.close()]);
});

describe('ingress proxy: routing and rewriting', () => {
  it('routes by path to each backend and streams the answer back', async () => {
    const a = await request(proxy.port(80), '/api/items?x=1');
    const w = await request(proxy.port(80), '/index.html');
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toMatchObject({ name: 'api', url: '/api/items?x=1' });
    expect(JSON.parse(w.body)).toMatchObject({ name: 'web', url: '/index.html' });
    const info = seen.at(-2)!;
    expect(info).toMatchObject({
      port: 80,
      tls: false,
      host: 'app.example.com',
      method: 'GET',
      path: '/api/items',
      query: 'x=1',
      clientIp: '127.0.0.1',
    });
  });

  it('removes dot-segments before routing: /api/../admin is /admin, not an /api request', async () => {
    const r = await request(proxy.port(80), '/api/../admin');
    expect(JSON.parse(r.body)).toMatchObject({ name: 'web', url: '/admin' });
  });

  it('rewrites the path and Host, changes request and response headers', async () => {
    const r = await request(proxy.port(80), '/api/v1/users?id=7', { headers: { 'x-secret': 'no', 'x-tag': 'a' } });
    const got = JSON.parse(r.body);
    expect(got.url).toBe('/v1/users?id=7');
    expect(got.headers.host).toBe('api.internal');
    expect(got.headers['x-env']).toBe('lab');
    expect(got.headers['x-tag']).toBe('a,b');
    expect(got.headers['x-secret']).toBeUndefined();
    expect(r.headers['x-served-by']).toBe('podwire');
    expect(r.headers['x-upstream']).toBeUndefined();
  });

  it('sends X-Forwarded-For (appended), -Proto, -Host, -Port and X-Real-IP; no hop-by-hop headers', async () => {
    const r = await request(proxy.port(80), '/', {
      host: 'App.Example.com:8080',
      headers: {
        'x-forwarded-for': '203.0.113.9',
        'keep-alive': 'timeout=9',
        connection: 'keep-alive, x-hop',
        'x-hop': '1',
      },
    });
    expect(seen.at(-1)!.host).toBe('app.example.com');
    const h = JSON.parse(r.body).headers;
    expect(h['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('App.Example.com:8080');
    expect(h['x-forwarded-port']).toBe('80');
    expect(h['x-real-ip']).toBe('127.0.0.1');
    expect(h.host).toBe('App.Example.com:8080');
    expect(h['keep-alive']).toBeUndefined();
    expect(h['x-hop']).toBeUndefined();
  });

  it('answers an error decision with its status, reason in the body and X-Podwire-Reason', async () => {
    const r = await request(proxy.port(80), '/', { host: 'other.example.com' });
    expect(r.status).toBe(404);
    expect(r.body).toBe('404 Not Found: no rule for host other.example.com\n');
    expect(r.headers['x-podwire-reason']).toBe('no rule for host other.example.com');
  });

  it('answers a redirect decision with its status and Location', async () => {
    const r = await request(proxy.port(80), '/old');
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe('https://app.example.com/new');
  });

  it('streams request bodies upstream (POST with a chunked body)', async () => {
    const r = await request(proxy.port(80), '/upload', { method: 'POST', body: Buffer.alloc(300_000, 7) });
    expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', bodyBytes: 300_000 });
  });

  it('passes HEAD, 204 and 304 through without a body', async () => {
    const head = await request(proxy.port(80), '/h', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['x-upstream']).toBe('web');
    expect(head.headers['content-type']).toBe('application/json');
    for (const status of [204, 304]) {
      const r = await request(proxy.port(80), `/api/status/${status}`);
      expect(r.status).toBe(status);
      expect(r.body).toBe('');
    }
  });

  it('keeps client and upstream connections alive across requests', async () => {
    const before = web.connections;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const clientSockets = new Set<unknown>();
    agent.on('free', (s) => clientSockets.add(s));
    for (let i = 0; i < 20; i++) expect((await request(proxy.port(80), `/k${i}`, { agent })).status).toBe(200);
    agent.destroy();
    expect(clientSockets.size).toBe(1);
    expect(web.connections - before).toBeLessThanOrEqual(1);
  });

  it('reports each request to onAccess and in the metrics', async () => {
    proxy.access.length = 0;
    await request(proxy.port(80), '/api/x', { headers: { 'user-agent': 'curl/8.5.0', referer: 'http://r/' } });
    await waitFor(() => proxy.access.length === 1);
    const e = proxy.access[0];
    expect(e).toMatchObject({
      clientIp: '127.0.0.1',
      method: 'GET',
      host: 'app.example.com',
      uri: '/api/x',
      protocol: 'HTTP/1.1',
      status: 200,
      upstream: `127.0.0.1:${api.port}`,
      upstreamStatus: 200,
      backend: `default/api:${api.port}`,
      route: { kind: 'HTTPRoute', name: 'default/app', rule: 'rules[1]' },
      userAgent: 'curl/8.5.0',
      port: 80,
      tls: false,
    });
    expect(e.bytes).toBeGreaterThan(100);
    expect(e.latencyMs).toBeGreaterThan(0);
    expect(formatAccessLine(e)).toMatch(
      new RegExp(
        `^127\\.0\\.0\\.1 - - \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d \\+0000\\] "GET /api/x HTTP/1\\.1" 200 ${e.bytes} "http://r/" "curl/8\\.5\\.0" \\d+\\.\\d{3} \\[default-api-${api.port}\\] 127\\.0\\.0\\.1:${api.port} 200 HTTPRoute/default/app$`,
      ),
    );
    const text = await proxy.proxy.metrics.text();
    expect(text).toMatch(
      new RegExp(
        `podwire_ingress_requests_total\\{route="HTTPRoute/default/app",backend="default/api:${api.port}",status_class="2xx"\\} [1-9]`,
      ),
    );
    expect(text).toMatch(/podwire_ingress_requests_total\{route="-",backend="-",status_class="4xx"\} [1-9]/);
    expect(text).toMatch(/podwire_ingress_request_duration_seconds_count\{route="HTTPRoute\/default\/app"\} [1-9]/);
    expect(text).toMatch(/podwire_ingress_active_connections\{port="80"\} \d/);
  });
});
