import { describe, expect, it } from 'vitest';
import { formatAccessLine, nginxTime } from '../../../src/ingress/proxy/access-log.js';
import {
  applyHeaderChanges,
  downstreamResponseHeaders,
  upstreamRequestHeaders,
  upstreamUpgradeHeaders,
} from '../../../src/ingress/proxy/headers.js';
import { pickBackend } from '../../../src/ingress/proxy/pick.js';
import { RateLimiter } from '../../../src/ingress/proxy/rate-limit.js';
import { clientAddress, hostOnly, parseTarget, removeDotSegments } from '../../../src/ingress/proxy/request-info.js';
import { classifyUpstreamError } from '../../../src/ingress/proxy/upstream-errors.js';

// The engine's pure parts: each decision it makes without a socket.
const b = (service: string, weight: number) => ({ service, port: 80, address: '10.96.0.5', weight });

describe('pickBackend', () => {
  it('maps the draw onto the weights in order, never choosing weight 0', () => {
    const set = [b('stable', 90), b('off', 0), b('canary', 10)];
    expect(pickBackend(set, () => 0)!.service).toBe('stable');
    expect(pickBackend(set, () => 0.8999)!.service).toBe('stable');
    expect(pickBackend(set, () => 0.9)!.service).toBe('canary');
    expect(pickBackend(set, () => 0.99999999)!.service).toBe('canary');
    expect(pickBackend([b('off', 0)], () => 0.5)).toBeUndefined();
    expect(pickBackend([b('off', 0), b('none', 0)], () => 0.5)).toBeUndefined();
    expect(pickBackend([], () => 0.5)).toBeUndefined();
  });
});

describe('RateLimiter', () => {
  it('allows burst + 1 at once (nginx counts the first request as no excess), then rps a second; Retry-After in whole seconds', () => {
    let t = 0;
    const rl = new RateLimiter({ burstMultiplier: 5, now: () => t });
    const take = () => rl.take('ingress/a', '10.0.0.1', 2);
    for (let i = 0; i < 11; i++) expect(take().allowed).toBe(true);
    expect(take()).toEqual({ allowed: false, retryAfterSeconds: 1 });
    t += 499;
    expect(take().allowed).toBe(false);
    t += 1; // half a second: one token back
    expect(take().allowed).toBe(true);
    expect(take().allowed).toBe(false);
    // another client and another route have buckets of their own
    expect(rl.take('ingress/a', '10.0.0.2', 2).allowed).toBe(true);
    expect(rl.take('ingress/b', '10.0.0.1', 2).allowed).toBe(true);
    t += 60_000;
    for (let i = 0; i < 11; i++) expect(take().allowed).toBe(true); // refilled to the burst, not beyond
    expect(take().allowed).toBe(false);
    // the route's own burst (the annotation's limit-burst-multiplier, computed by the model)
    expect(Array.from({ length: 5 }, () => rl.take('ingress/c', '10.0.0.1', 2, 3).allowed)).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('a slow rate waits longer: 0.2 rps → Retry-After 5', () => {
    const rl = new RateLimiter({ now: () => 0 });
    expect(rl.take('k', 'c', 0.2, 0).allowed).toBe(true);
    expect(rl.take('k', 'c', 0.2, 0)).toEqual({ allowed: false, retryAfterSeconds: 5 });
  });

  it('stays within maxKeys, forgetting idle clients first', () => {
    let t = 0;
    const rl = new RateLimiter({ maxKeys: 100, now: () => t });
    for (let i = 0; i < 100; i++) rl.take('k', `idle-${i}`, 1);
    t += 10_000;
    rl.take('k', 'busy', 1);
    rl.take('k', 'busy', 1);
    expect(rl.size).toBe(1);
    for (let i = 0; i < 500; i++) rl.take('k', `c-${i}`, 1);
    expect(rl.size).toBeLessThanOrEqual(100);
  });
});

describe('request targets', () => {
  it('splits path and query, reads absolute-form, drops the fragment', () => {
    expect(parseTarget('/api/x?a=1&b=2')).toEqual({ path: '/api/x', query: 'a=1&b=2', authority: undefined });
    expect(parseTarget('/')).toEqual({ path: '/', query: '', authority: undefined });
    expect(parseTarget('http://App.example.com:8080/p?q#frag')).toEqual({
      path: '/p',
      query: 'q',
      authority: 'App.example.com:8080',
    });
    expect(parseTarget('http://example.com')).toEqual({ path: '/', query: '', authority: 'example.com' });
    expect(parseTarget('*')).toEqual({ path: '*', query: '', authority: undefined });
  });

  it('removes dot-segments as RFC 3986 §5.2.4 does', () => {
    expect(removeDotSegments('/a/b/c/./../../g')).toBe('/a/g');
    expect(removeDotSegments('/api/../admin')).toBe('/admin');
    expect(removeDotSegments('/../../etc/passwd')).toBe('/etc/passwd');
    expect(removeDotSegments('/a/b/..')).toBe('/a/');
    expect(removeDotSegments('/a/./')).toBe('/a/');
    expect(removeDotSegments('/a/.hidden/..x')).toBe('/a/.hidden/..x');
    expect(parseTarget('/api/./v1/../items?x=../y').path).toBe('/api/items');
  });

  it('reads the host: lowercase, no port, no trailing dot; IPv6 unbracketed; IPv4-mapped clients plain', () => {
    expect(hostOnly('App.Example.COM.:8080')).toBe('app.example.com');
    expect(hostOnly('[::1]:80')).toBe('::1');
    expect(hostOnly('user@host:1')).toBe('host');
    expect(hostOnly(undefined)).toBe('');
    expect(clientAddress('::ffff:172.28.0.100')).toBe('172.28.0.100');
    expect(clientAddress('fd00::1')).toBe('fd00::1');
  });
});

describe('headers', () => {
  const facts = { clientIp: '172.28.0.100', proto: 'https', port: 443, hostHeader: 'app.example.com' };

  it('upstream: end-to-end headers kept, hop-by-hop and Expect dropped, X-Forwarded-* set, route changes last', () => {
    const h = upstreamRequestHeaders(
      {
        host: 'app.example.com',
        connection: 'keep-alive, X-Private',
        'x-private': 'p',
        'keep-alive': 't',
        te: 'trailers',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        expect: '100-continue',
        accept: '*/*',
        'x-forwarded-for': '1.1.1.1, 2.2.2.2',
        cookie: 'a=1; b=2',
      },
      { ...facts, rewriteHost: 'internal.svc' },
      { set: [['X-Forwarded-Proto', 'http']], remove: ['Cookie'] },
    );
    expect(h).toEqual({
      host: 'internal.svc',
      accept: '*/*',
      'x-forwarded-for': '1.1.1.1, 2.2.2.2, 172.28.0.100',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'app.example.com',
      'x-forwarded-port': '443',
      'x-real-ip': '172.28.0.100',
    });
  });

  it('upgrade requests carry Connection: Upgrade and the Upgrade header through', () => {
    const h = upstreamUpgradeHeaders(
      { host: 'a', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' },
      facts,
    );
    expect(h).toMatchObject({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
  });

  it('Gateway API header changes: set replaces, add appends (Set-Cookie as lines), remove deletes', () => {
    const h: Record<string, string | string[]> = { 'x-a': 'foo', 'set-cookie': 's=1', 'x-gone': '1' };
    applyHeaderChanges(h, {
      set: [['X-New', 'n']],
      add: [
        ['X-A', 'bar'],
        ['Set-Cookie', 't=2'],
        ['X-B', 'b'],
      ],
      remove: ['X-Gone'],
    });
    expect(h).toEqual({ 'x-a': 'foo,bar', 'set-cookie': ['s=1', 't=2'], 'x-new': 'n', 'x-b': 'b' });
  });

  it('downstream: hop-by-hop dropped, response changes applied', () => {
    const h = downstreamResponseHeaders(
      { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', connection: 'close', 'x-powered-by': 'x' },
      { set: [['Strict-Transport-Security', 'max-age=1']], remove: ['X-Powered-By'] },
    );
    expect(h).toEqual({ 'content-type': 'text/plain', 'strict-transport-security': 'max-age=1' });
  });
});

describe('classifyUpstreamError', () => {
  const sys = (code: string) => Object.assign(new Error(code), { code });
  it('names the kind and the status NGINX would answer', () => {
    expect(classifyUpstreamError(sys('ECONNREFUSED'), '10.96.0.5:80')).toEqual({
      kind: 'refused',
      status: 502,
      reason: 'connection refused by 10.96.0.5:80',
    });
    expect(
      classifyUpstreamError(
        Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', cause: sys('ECONNRESET') }),
        'u',
      ).kind,
    ).toBe('reset');
    expect(classifyUpstreamError(sys('UND_ERR_CONNECT_TIMEOUT'), 'u')).toMatchObject({
      kind: 'connect-timeout',
      status: 504,
    });
    expect(classifyUpstreamError(sys('UND_ERR_HEADERS_TIMEOUT'), 'u')).toMatchObject({ kind: 'timeout', status: 504 });
    expect(classifyUpstreamError(sys('EHOSTUNREACH'), 'u')).toMatchObject({ kind: 'unreachable', status: 502 });
    expect(classifyUpstreamError(sys('HPE_INVALID_STATUS'), 'u')).toMatchObject({ kind: 'protocol', status: 502 });
    expect(classifyUpstreamError(new Error('weird'), 'u')).toEqual({
      kind: 'other',
      status: 502,
      reason: 'upstream u failed: weird',
    });
  });
});

describe('access log line', () => {
  it("is ingress-nginx's format with podwire's route and reason", () => {
    const time = new Date(Date.UTC(2025, 0, 5, 7, 8, 9));
    expect(nginxTime(time)).toBe('05/Jan/2025:07:08:09 +0000');
    const base = {
      time,
      clientIp: '172.28.0.100',
      method: 'GET',
      host: 'app.example.com',
      uri: '/api/x?y=1',
      protocol: 'HTTP/1.1',
      latencyMs: 12.3456,
      userAgent: 'curl/8.5.0',
      referer: '',
      port: 443,
      tls: true,
    };
    expect(
      formatAccessLine({
        ...base,
        status: 200,
        bytes: 42,
        upstream: '10.96.1.2:8080',
        upstreamStatus: 200,
        backend: 'default/api:8080',
        route: { kind: 'Ingress', name: 'default/app', rule: 'r' },
      }),
    ).toBe(
      '172.28.0.100 - - [05/Jan/2025:07:08:09 +0000] "GET /api/x?y=1 HTTP/1.1" 200 42 "-" "curl/8.5.0" 0.012 [default-api-8080] 10.96.1.2:8080 200 Ingress/default/app',
    );
    expect(
      formatAccessLine({ ...base, userAgent: 'evil "quoted"\n', status: 404, bytes: 30, reason: 'no rule for host x' }),
    ).toBe(
      '172.28.0.100 - - [05/Jan/2025:07:08:09 +0000] "GET /api/x?y=1 HTTP/1.1" 404 30 "-" "evil \\"quoted\\"?" 0.012 [] - - - "no rule for host x"',
    );
  });
});
