import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RequestInfo, RouteDecision, RouteTable } from '../../../src/ingress/types.js';
import {
  closedPort,
  echoHandler,
  literalTable,
  rawExchange,
  request,
  ROUTE,
  startProxy,
  target,
  upstream,
  waitFor,
  wsFrame,
  wsEchoUpgrade,
  wsParse,
  type Upstream,
} from '../support/ingress-proxy.js';

// Weights, mirrors, rate limits, upstream failures, WebSocket and table
// swaps — each case with its own upstreams and proxy on 127.0.0.1.
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function up(
  handler: Parameters<typeof upstream>[0],
  onUpgrade?: Parameters<typeof upstream>[1],
): Promise<Upstream> {
  const u = await upstream(handler, onUpgrade);
  cleanup.push(() => u.close());
  return u;
}
async function proxyFor(table: RouteTable, opts: Parameters<typeof startProxy>[1] = {}) {
  const p = await startProxy(table, opts);
  cleanup.push(() => p.proxy.stop());
  return p;
}
const http80 = [{ port: 80, tls: false }];
const proxyTo =
  (...backends: ReturnType<typeof target>[]) =>
  (): RouteDecision => ({ kind: 'proxy', route: ROUTE, backends });

describe('ingress proxy: backends', () => {
  it('splits 1,000 requests 90/10 by weight, within 5 standard deviations', async () => {
    const stable = await up(echoHandler('stable'));
    const canary = await up(echoHandler('canary'));
    const zero = await up(echoHandler('zero'));
    const p = await proxyFor(
      literalTable(
        http80,
        proxyTo(
          target(stable.port, 90, 'default/stable'),
          target(canary.port, 10, 'default/canary'),
          target(zero.port, 0, 'default/zero'),
        ),
      ),
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => request(p.port(80), '/', { agent })));
      for (const r of batch)
        counts[String(r.headers['x-upstream'])] = (counts[String(r.headers['x-upstream'])] ?? 0) + 1;
    }
    agent.destroy();
    // binomial(1000, 0.1): mean 100, sd 9.5
    expect(counts.canary + counts.stable).toBe(1000);
    expect(counts.canary).toBeGreaterThan(100 - 5 * 9.5);
    expect(counts.canary).toBeLessThan(100 + 5 * 9.5);
    expect(counts.zero).toBeUndefined();
  });

  it('mirrors a copy (body included) without waiting for the mirror', async () => {
    const mirrored: { url?: string; body: number; host?: string }[] = [];
    const mirror = await up((req, res) => {
      const m = { url: req.url, body: 0, host: req.headers.host };
      mirrored.push(m);
      req.on('data', (c: Buffer) => (m.body += c.length));
      req.on('end', () => setTimeout(() => res.end('mirror'), 3000)); // a slow mirror
    });
    const main = await up(echoHandler('main'));
    const p = await proxyFor(
      literalTable(http80, () => ({
        kind: 'proxy',
        route: ROUTE,
        backends: [target(main.port)],
        mirror: [target(mirror.port, 1, 'default/shadow')],
      })),
    );
    const t0 = performance.now();
    const r = await request(p.port(80), '/orders?id=1', { method: 'POST', body: Buffer.alloc(100_000, 1) });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(JSON.parse(r.body)).toMatchObject({ name: 'main', bodyBytes: 100_000 });
    await waitFor(() => mirrored.length === 1 && mirrored[0].body === 100_000, 5000, 'the mirror copy');
    expect(mirrored[0]).toMatchObject({ url: '/orders?id=1', host: 'app.example.com' });
  });

  it('abandons a mirror that does not keep up with the body; the main request completes', async () => {
    const mirror = await up((req) => req.pause()); // reads nothing, answers nothing
    const main = await up(echoHandler('main'));
    const p = await proxyFor(
      literalTable(http80, () => ({
        kind: 'proxy',
        route: ROUTE,
        backends: [target(main.port)],
        mirror: [target(mirror.port)],
      })),
    );
    const r = await request(p.port(80), '/big', { method: 'PUT', body: Buffer.alloc(8 * 2 ** 20, 3) });
    expect(JSON.parse(r.body)).toMatchObject({ name: 'main', bodyBytes: 8 * 2 ** 20 });
    await waitFor(
      async () => /podwire_ingress_mirror_requests_total\{result="abandoned"\} 1/.test(await p.proxy.metrics.text()),
      5000,
      'the mirror to be abandoned',
    );
  });

  it('answers 429 with Retry-After over the rate limit, per client and per route key', async () => {
    const u = await up(echoHandler('u'));
    const p = await proxyFor(
      literalTable(http80, (r) => ({
        kind: 'proxy',
        route: ROUTE,
        backends: [target(u.port)],
        rateLimitRps: 2,
        rateLimitKey: r.path.startsWith('/a') ? 'ingress/a' : 'ingress/b',
      })),
    );
    // limit-rps 2 with ingress-nginx's burst multiplier 5 (burst 10): 11 at once as nginx, then 2 a second
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await request(p.port(80), '/a')).status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(11);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(12); // one token may refill meanwhile
    const limited = await request(p.port(80), '/a');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.headers['x-podwire-reason']).toBe('rate limit of 2 requests per second exceeded');
    expect((await request(p.port(80), '/b')).status).toBe(200); // another route's bucket
    expect(p.access.at(-2)!.status).toBe(429);
  });

  it('502 when the backend refuses, 502 when it resets, 503 for a headless Service, a failed backendRef its own status', async () => {
    const dead = await closedPort();
    const reset = await up((req) => req.socket.destroy());
    const failed = {
      service: 'other/api',
      port: 80,
      address: '',
      weight: 1,
      failure: { status: 500, reason: 'backendRef other/api not permitted by any ReferenceGrant' },
    };
    const backends: Record<string, ReturnType<typeof target>> = {
      '/refused': target(dead),
      '/reset': target(reset.port),
      '/headless': { service: 'default/db', port: 5432, address: '', weight: 1 },
      '/failed': failed,
    };
    const p = await proxyFor(
      literalTable(http80, (r) => ({ kind: 'proxy', route: ROUTE, backends: [backends[r.path]], mirror: [failed] })),
    );
    const refused = await request(p.port(80), '/refused');
    expect(refused.status).toBe(502);
    expect(refused.headers['x-podwire-reason']).toBe(`connection refused by 127.0.0.1:${dead}`);
    expect(refused.body).toBe(`502 Bad Gateway: connection refused by 127.0.0.1:${dead}\n`);
    const r = await request(p.port(80), '/reset');
    expect(r.status).toBe(502);
    expect(r.headers['x-podwire-reason']).toMatch(/reset or closed/);
    const headless = await request(p.port(80), '/headless');
    expect(headless.status).toBe(503);
    expect(headless.headers['x-podwire-reason']).toBe(
      'Service default/db has no ClusterIP (headless): nothing to connect to',
    );
    const f = await request(p.port(80), '/failed');
    expect(f.status).toBe(500);
    expect(f.body).toBe('500 Internal Server Error: backendRef other/api not permitted by any ReferenceGrant\n');
    const text = await p.proxy.metrics.text();
    expect(text).toContain(`podwire_ingress_upstream_errors_total{kind="refused",backend="default/app:${dead}"} 1`);
    expect(text).toContain(`podwire_ingress_upstream_errors_total{kind="reset",backend="default/app:${reset.port}"} 1`);
  });

  it('504 when the backend does not answer in time, and when it cannot be connected to in time', async () => {
    const silent = await up(() => {});
    // a listener whose accept queue is full: the kernel drops further SYNs, so connect() hangs
    const py = spawn(
      'python3',
      [
        '-c',
        'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanup.push(() => void py.kill());
    const fullPort = await firstLine(py);
    const fillers = [net.connect(fullPort, '127.0.0.1'), net.connect(fullPort, '127.0.0.1')];
    cleanup.push(() => fillers.forEach((s) => s.destroy()));
    const p = await proxyFor(
      literalTable(http80, (r) => ({
        kind: 'proxy',
        route: ROUTE,
        backends: [target(r.path === '/silent' ? silent.port : fullPort)],
      })),
      { upstreamReadTimeoutMs: 300, connectTimeoutMs: 300 },
    );
    const s = await request(p.port(80), '/silent');
    expect(s.status).toBe(504);
    expect(s.headers['x-podwire-reason']).toBe(`127.0.0.1:${silent.port} did not answer in time`);
    const t0 = performance.now();
    const c = await request(p.port(80), '/connect');
    expect(c.status).toBe(504);
    expect(c.headers['x-podwire-reason']).toBe(`timed out connecting to 127.0.0.1:${fullPort}`);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('aborts the upstream request when the client goes away', async () => {
    let upstreamReq: IncomingMessage | undefined;
    let upstreamClosed = false;
    const slow = await up((req) => {
      upstreamReq = req;
      req.socket.on('close', () => (upstreamClosed = true));
    });
    const p = await proxyFor(literalTable(http80, proxyTo(target(slow.port))));
    const client = net.connect(p.port(80), '127.0.0.1');
    client.write('GET /slow HTTP/1.1\r\nHost: app.example.com\r\n\r\n');
    await waitFor(() => upstreamReq !== undefined, 5000, 'the upstream request');
    client.destroy();
    await waitFor(() => upstreamClosed, 5000, 'the upstream connection to close');
    await waitFor(() => p.access.length === 1);
    expect(p.access[0].status).toBe(499);
  });
});

describe('ingress proxy: WebSocket and table swaps', () => {
  it('proxies a WebSocket upgrade and pipes frames both ways', async () => {
    const ws = await up(echoHandler('plain'), wsEchoUpgrade);
    const p = await proxyFor(
      literalTable(http80, () => ({
        kind: 'proxy',
        route: ROUTE,
        backends: [target(ws.port)],
        rewritePath: '/ws-backend',
      })),
      { requestTimeoutMs: 1000, timeoutCheckIntervalMs: 100 },
    );
    const c = net.connect(p.port(80), '127.0.0.1');
    cleanup.push(() => void c.destroy());
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    c.write(
      'GET /chat HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await waitFor(() => buf.includes('\r\n\r\n'), 5000, 'the 101');
    const headEnd = buf.indexOf('\r\n\r\n') + 4;
    const head = buf.subarray(0, headEnd).toString();
    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(head).toContain('X-Seen-Path: /ws-backend');
    buf = buf.subarray(headEnd);
    // the upgraded connection outlives requestTimeout (1 s): it is no longer a request
    for (const msg of ['hello', 'again']) {
      c.write(wsFrame(msg, true));
      await waitFor(() => wsParse(buf) !== undefined, 5000, 'an echo frame');
      const f = wsParse(buf)!;
      buf = buf.subarray(f.size);
      expect(f.text).toBe(`echo: ${msg}`);
      await new Promise((r) => setTimeout(r, 700));
    }
    c.destroy();
    await waitFor(() => p.access.length === 1, 5000, 'the access entry at close');
    expect(p.access[0]).toMatchObject({ status: 101, upgraded: true, upstreamStatus: 101 });
  });

  it('drops a pending upgrade when the client half-closes or leaves before the 101', async () => {
    let upstreamClosed = 0;
    // never answers; closes when the proxy closes
    const hung = await up(echoHandler('x'), (_req, socket) => socket.on('end', () => socket.end()).resume());
    // counted per connection: the proxy may close one before its request was even parsed
    hung.server.on('connection', (s: net.Socket) => s.on('close', () => upstreamClosed++));
    const p = await proxyFor(literalTable(http80, proxyTo(target(hung.port))));
    for (const leave of ['end', 'destroy'] as const) {
      const c = net.connect(p.port(80), '127.0.0.1');
      c.on('error', () => {});
      c.resume();
      c.write('GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      await waitFor(
        () => p.access.length > 0 || hung.connections > (leave === 'end' ? 0 : 1),
        5000,
        'the upstream connection',
      );
      c[leave]();
    }
    await waitFor(() => upstreamClosed === 2 && p.access.length === 2, 5000, 'both upstream connections closed');
    expect(p.access.map((e) => e.status)).toEqual([499, 499]);
  });

  it('relays a backend that declines the upgrade', async () => {
    const u = await up((_req, res) => res.writeHead(403, { 'x-why': 'no' }).end('forbidden'));
    const p = await proxyFor(literalTable(http80, proxyTo(target(u.port))));
    const r = await rawExchange(
      p.port(80),
      'GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(r.text).toContain('x-why: no');
    expect(r.text.endsWith('forbidden')).toBe(true);
  });

  it('setTable swaps routes at once and adds and removes listeners', async () => {
    const a = await up(echoHandler('a'));
    const b = await up(echoHandler('b'));
    const p = await proxyFor(literalTable(http80, proxyTo(target(a.port))));
    expect(JSON.parse((await request(p.port(80), '/')).body).name).toBe('a');
    const oldPort = p.port(80);
    await p.proxy.setTable(
      literalTable(
        [
          { port: 80, tls: false },
          { port: 8080, tls: false },
        ],
        proxyTo(target(b.port)),
      ),
    );
    expect(p.proxy.boundPort(80)).toBe(oldPort); // kept, not rebound
    expect(JSON.parse((await request(p.port(80), '/')).body).name).toBe('b');
    const seen: RequestInfo[] = [];
    await p.proxy.setTable(
      literalTable(
        [{ port: 8080, tls: false }],
        (r) => (seen.push(r), { kind: 'proxy', route: ROUTE, backends: [target(a.port)] }),
      ),
    );
    expect(p.proxy.boundPort(80)).toBeUndefined();
    await expect(request(oldPort, '/')).rejects.toThrow(/ECONNREFUSED/);
    expect(JSON.parse((await request(p.port(8080), '/')).body).name).toBe('a');
    expect(seen[0].port).toBe(8080);
  });

  it('a route() that throws is a 500 and an internal event; the proxy keeps serving', async () => {
    const events: string[] = [];
    const u = await up(echoHandler('u'));
    const p = await proxyFor(
      literalTable(http80, (r) => {
        if (r.path === '/boom') throw new Error('model bug');
        return { kind: 'proxy', route: ROUTE, backends: [target(u.port)] };
      }),
      { onError: (e) => events.push(`${e.kind}: ${e.message.split('\n')[0]}`) },
    );
    const r = await request(p.port(80), '/boom');
    expect(r.status).toBe(500);
    expect(r.headers['x-podwire-reason']).toBe('route lookup failed: model bug');
    expect(events[0]).toBe('internal: Error: model bug');
    expect((await request(p.port(80), '/fine')).status).toBe(200);
  });
});

function firstLine(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`python3 exited ${code}`)));
  });
}
