import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { H1Pool, type H1Exchange } from '../../../src/ingress/proxy/h1-pool.js';
import { FastCounter, FastHistogram } from '../../../src/ingress/proxy/series.js';
import { downstreamRawHeaders, requestHead } from '../../../src/ingress/proxy/headers.js';
import { literalTable, request, ROUTE, startProxy, target, upstream, waitFor } from '../support/ingress-proxy.js';

// The proxy's fast path (bodyless requests on h1-pool.ts, not undici) against
// backends that answer in the ways a keep-alive client must handle, and the
// per-request series (series.ts) against prom-client's own text.
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A backend that answers each request with raw bytes of its own choosing. */
async function rawBackend(answer: (head: string, n: number, s: net.Socket) => void) {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, i);
        buf = buf.slice(i + 4);
        answer(head, ++n, s);
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(
    () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
  );
  return { port: (server.address() as AddressInfo).port, connections: () => sockets.size, count: () => n };
}

async function proxyTo(port: number, opts: Parameters<typeof startProxy>[1] = {}) {
  const p = await startProxy(
    literalTable([{ port: 80, tls: false }], () => ({ kind: 'proxy', route: ROUTE, backends: [target(port)] })),
    opts,
  );
  cleanup.push(() => p.proxy.stop());
  return p;
}

function exchange(head: string, method = 'GET') {
  const got = { status: 0, message: '', headers: [] as string[], body: '', error: undefined as Error | undefined };
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const ex: H1Exchange = {
    head,
    noResponseBody: method === 'HEAD',
    retryable: method === 'GET',
    onHeaders: (s, m, h) => Object.assign(got, { status: s, message: m, headers: h }),
    onData: (c) => ((got.body += c.toString()), true),
    onReadDone: () => true,
    onEnd: () => resolve(),
    onError: (e) => ((got.error = e), resolve()),
  };
  return { ex, got, done };
}

describe('ingress proxy fast path: h1-pool against real sockets', () => {
  it('keeps one connection for sequential requests, and a new one after Connection: close or HTTP/1.0', async () => {
    const b = await rawBackend((head, n, s) => {
      const close = head.includes('/close') ? 'Connection: close\r\n' : '';
      const v = head.includes('/old') ? '1.0' : '1.1';
      s.write(`HTTP/${v} 200 OK\r\nContent-Length: 2\r\n${close}\r\nok`);
      if (close || v === '1.0') s.end();
    });
    const pool = new H1Pool({
      host: '127.0.0.1',
      port: b.port,
      connections: 4,
      connectTimeoutMs: 1000,
      readTimeoutMs: 1000,
      keepAliveTimeoutMs: 5000,
    });
    cleanup.push(() => pool.close());
    for (const path of ['/a', '/b', '/close', '/c', '/old', '/d']) {
      const x = exchange(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
      pool.request(x.ex);
      await x.done;
      expect(x.got.error).toBeUndefined();
      expect(x.got.body).toBe('ok');
    }
    // /a /b /close on the first connection, /c /old on the second, /d on a third
    expect(b.count()).toBe(6);
    expect(pool.stats).toMatchObject({ connected: 1, free: 1, running: 0, pending: 0 });
  });

  it('queues over the connection cap and serves the queue as connections free up', async () => {
    const held: net.Socket[] = [];
    const b = await rawBackend((_h, _n, s) => held.push(s));
    const pool = new H1Pool({
      host: '127.0.0.1',
      port: b.port,
      connections: 2,
      connectTimeoutMs: 1000,
      readTimeoutMs: 5000,
      keepAliveTimeoutMs: 5000,
    });
    cleanup.push(() => pool.close());
    const xs = [1, 2, 3, 4, 5].map((i) => exchange(`GET /${i} HTTP/1.1\r\nhost: x\r\n\r\n`));
    for (const x of xs) pool.request(x.ex);
    await waitFor(() => held.length === 2, 5000, 'two requests at the backend');
    expect(pool.stats.pending).toBe(3);
    for (let answered = 0; answered < 5; answered++) {
      await waitFor(() => held.length > 0, 5000, 'a request at the backend');
      held.shift()!.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
    }
    await Promise.all(xs.map((x) => x.done));
    expect(xs.every((x) => x.got.status === 200 && x.got.body === 'x')).toBe(true);
    expect(b.connections()).toBe(2);
  });

  it('sends a GET again on a new connection when a reused one was closed by the backend; a POST it does not', async () => {
    const b = await rawBackend((_h, n, s) => {
      // the 2nd request meets a connection the backend closes without answering
      if (n === 2) return void s.destroy();
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const pool = new H1Pool({
      host: '127.0.0.1',
      port: b.port,
      connections: 4,
      connectTimeoutMs: 1000,
      readTimeoutMs: 1000,
      keepAliveTimeoutMs: 5000,
    });
    cleanup.push(() => pool.close());
    const first = exchange('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    pool.request(first.ex);
    await first.done;
    const again = exchange('GET /again HTTP/1.1\r\nhost: x\r\n\r\n');
    pool.request(again.ex);
    await again.done;
    expect(again.got.error).toBeUndefined();
    expect(again.got.body).toBe('ok');
    expect(b.count()).toBe(3);

    const b2 = await rawBackend((_h, n, s) => {
      if (n === 2) return void s.destroy();
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const pool2 = new H1Pool({ ...pool.opts, port: b2.port });
    cleanup.push(() => pool2.close());
    const a = exchange('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    pool2.request(a.ex);
    await a.done;
    const post = exchange('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n', 'POST');
    pool2.request(post.ex);
    await post.done;
    expect((post.got.error as { code?: string }).code).toBe('EUPSTREAM_CLOSED');
  });

  it('skips 1xx answers, reads a body delimited by the close, many headers, HEAD without a body', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: v${i}\r\n`).join('');
    const b = await rawBackend((head, _n, s) => {
      if (head.startsWith('GET /early'))
        s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate');
      else if (head.startsWith('GET /eof')) s.end('HTTP/1.1 200 OK\r\n\r\nuntil the close');
      else if (head.startsWith('GET /many')) s.write(`HTTP/1.1 200 OK\r\n${many}Content-Length: 0\r\n\r\n`);
      else if (head.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
    });
    const p = await proxyTo(b.port);
    const early = await request(p.port(80), '/early');
    expect([early.status, early.body]).toEqual([200, 'late']);
    const eof = await request(p.port(80), '/eof');
    expect([eof.status, eof.body]).toEqual([200, 'until the close']);
    const m = await request(p.port(80), '/many');
    expect(m.headers['x-h0']).toBe('v0');
    expect(m.headers['x-h39']).toBe('v39');
    const head = await request(p.port(80), '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('1000');
    // the connection is still good after the HEAD: the next answer is not read as its body
    const after = await request(p.port(80), '/early');
    expect(after.body).toBe('late');
  });

  it('answers 502 to a response it cannot relay (101 unasked, garbage) and 504 when the backend stalls', async () => {
    const b = await rawBackend((head, _n, s) => {
      if (head.startsWith('GET /switch')) s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n');
      else if (head.startsWith('GET /garbage')) s.write('HTTP/9 what\r\n\r\n');
      // /stall: nothing
    });
    const p = await proxyTo(b.port, { upstreamReadTimeoutMs: 300 });
    const sw = await request(p.port(80), '/switch');
    expect(sw.status).toBe(502);
    expect(sw.headers['x-podwire-reason']).toBe(`invalid HTTP response from 127.0.0.1:${b.port}`);
    const g = await request(p.port(80), '/garbage');
    expect(g.status).toBe(502);
    expect(g.headers['x-podwire-reason']).toBe(`invalid HTTP response from 127.0.0.1:${b.port}`);
    const st = await request(p.port(80), '/stall');
    expect(st.status).toBe(504);
    const text = await p.proxy.metrics.text();
    expect(text).toContain(`podwire_ingress_upstream_errors_total{kind="protocol",backend="default/app:${b.port}"} 2`);
    expect(text).toContain(`podwire_ingress_upstream_errors_total{kind="timeout",backend="default/app:${b.port}"} 1`);
  });

  it('answers 502 when a route sets a header value that would split the request', async () => {
    const u = await upstream((_req, res) => res.end('ok'));
    cleanup.push(() => u.close());
    const p = await startProxy(
      literalTable([{ port: 80, tls: false }], () => ({
        kind: 'proxy',
        route: ROUTE,
        backends: [target(u.port)],
        requestHeaders: { set: [['x-evil', 'a\r\nx-injected: 1']] },
      })),
    );
    cleanup.push(() => p.proxy.stop());
    const r = await request(p.port(80), '/');
    expect(r.status).toBe(502);
    expect(r.headers['x-podwire-reason']).toMatch(
      /^cannot send the request to 127\.0\.0\.1:\d+: invalid value for header x-evil$/,
    );
  });

  it('drops hop-by-hop response headers and those Connection names; keeps repeated Set-Cookie', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'Connection',
      'keep-alive, X-Secret',
      'X-Secret',
      's',
      'Keep-Alive',
      'timeout=5',
    ];
    expect(downstreamRawHeaders([...raw, 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'])).toEqual([
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
    ]);
    const plain = ['Content-Length', '2'];
    expect(downstreamRawHeaders(plain)).toBe(plain);
    expect(downstreamRawHeaders(raw, { add: [['x-a', '1']] })).toEqual({ 'content-type': 'text/plain', 'x-a': '1' });
    expect(requestHead('GET', '/p?q', { host: 'h', 'x-l': ['1', '2'] })).toBe(
      'GET /p?q HTTP/1.1\r\nhost: h\r\nx-l: 1\r\nx-l: 2\r\n\r\n',
    );
    expect(() => requestHead('GET', '/a b', {})).toThrow(/invalid request target/);
  });

  it('keeps the client connection alive through the fast path and streams a large answer in order', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
    const u = await upstream((_req, res) => {
      res.setHeader('content-length', big.length);
      res.end(big);
    });
    cleanup.push(() => u.close());
    const p = await proxyTo(u.port);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    for (let i = 0; i < 3; i++) {
      const r = await request(p.port(80), '/', { agent });
      expect(r.body.length).toBe(big.length);
      expect(r.body === big.toString()).toBe(true);
    }
    expect(u.connections).toBe(1);
  });
});

describe('series.ts: the same exposition as prom-client', () => {
  it('counters and histograms print as prom-client prints them', async () => {
    const a = new Registry();
    const b = new Registry();
    const pc = new Counter({ name: 'c_total', help: 'h', labelNames: ['route', 'code'], registers: [a] });
    const ph = new Histogram({
      name: 'd_seconds',
      help: 'h',
      labelNames: ['route'],
      buckets: [0.1, 1],
      registers: [a],
    });
    const fc = new FastCounter({ name: 'c_total', help: 'h', labelNames: ['route', 'code'], registers: [b] });
    const fh = new FastHistogram({
      name: 'd_seconds',
      help: 'h',
      labelNames: ['route'],
      buckets: [0.1, 1],
      registers: [b],
    });
    for (const [route, code, v] of [
      ['x', '2xx', 0.05],
      ['x', '2xx', 0.5],
      ['y "q"\\', '5xx', 3],
    ] as const) {
      pc.inc({ route, code });
      fc.child({ route, code }).inc();
      ph.observe({ route }, v);
      fh.child({ route }).observe(v);
    }
    expect(await b.metrics()).toBe(await a.metrics());
    expect(await b.getMetricsAsJSON()).toEqual(await a.getMetricsAsJSON());
    expect(await Registry.merge([b, new Registry()]).metrics()).toBe(await a.metrics());
    expect(() => fc.child({ route: 'x', code: '1', other: 'z' } as never)).toThrow(/not included/);
  });
});
