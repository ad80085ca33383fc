import { describe, it, expect } from 'vitest';
import {
  CERTS,
  compile,
  ingress,
  ingressClass,
  p,
  req,
  rule,
  short,
  svc,
  tlsSecret,
} from '../support/ingress-cluster.js';
import { nginxRewrite, type Obj } from '../../../src/ingress/index.js';

// The NGINX annotations as ingress-nginx implements them (its Lua
// redirect_to_https, the nginx.tmpl rewrite "(?i)<path>" <target> break;, the
// regex locations of a host with use-regex or rewrite-target, limit_req), as
// truth tables. Each expectation is written from those sources, not computed.

const A = 'nginx.ingress.kubernetes.io/';
const nginx = ingressClass('nginx');
const services = [
  'frontend-service',
  'backend-service',
  'service1',
  'service2',
  'service3',
  'http-svc',
  'test',
  'test-re',
].map((n, i) => svc('default', n, `10.96.1.${i + 1}`));
const app = (annotations: Record<string, string>, spec: Obj = {}) =>
  ingress(
    'default',
    'app',
    { rules: [rule('app.example.com', p('/', 'Prefix', 'frontend-service'))], ...spec },
    Object.fromEntries(Object.entries(annotations).map(([k, v]) => [A + k, v])),
  );
const withTls = { tls: [{ hosts: ['app.example.com'], secretName: 'app-tls' }] };
const secret = tlsSecret('default', 'app-tls', CERTS.app);
const go = (objs: Obj[], url: string) => short(compile(nginx, secret, ...services, ...objs).table.route(req(url)));

describe('ssl-redirect and force-ssl-redirect', () => {
  it('default true when the host has TLS: plain HTTP → 308 to https, the query kept, one trailing slash dropped (ingress-nginx’s Lua)', () => {
    expect(go([app({}, withTls)], 'http://app.example.com/a/b?x=1')).toBe(
      'redirect 308 https://app.example.com/a/b?x=1',
    );
    expect(go([app({}, withTls)], 'http://app.example.com/')).toBe('redirect 308 https://app.example.com');
    expect(go([app({}, withTls)], 'http://app.example.com/dir/')).toBe('redirect 308 https://app.example.com/dir');
    expect(go([app({ 'preserve-trailing-slash': 'true' }, withTls)], 'http://app.example.com/dir/')).toBe(
      'redirect 308 https://app.example.com/dir/',
    );
  });

  it('HTTPS requests are proxied; "false" turns the redirect off; without TLS there is none', () => {
    expect(go([app({}, withTls)], 'https://app.example.com/a')).toBe('proxy default/frontend-service:80');
    expect(go([app({ 'ssl-redirect': 'false' }, withTls)], 'http://app.example.com/a')).toBe(
      'proxy default/frontend-service:80',
    );
    expect(go([app({})], 'http://app.example.com/a')).toBe('proxy default/frontend-service:80');
  });

  it('force-ssl-redirect redirects even without TLS', () => {
    expect(go([app({ 'force-ssl-redirect': 'true' })], 'http://app.example.com/a')).toBe(
      'redirect 308 https://app.example.com/a',
    );
  });

  it('the setting is the matched path’s Ingress’s; the TLS is the host’s, whichever Ingress gave it; an unmatched path follows the Ingress that made the host', () => {
    const tlsOnly = ingress('default', 'a-tls', {
      ...withTls,
      rules: [rule('app.example.com', p('/secure', 'Prefix', 'backend-service'))],
    });
    const plain = ingress(
      'default',
      'b-plain',
      { rules: [rule('app.example.com', p('/open', 'Prefix', 'frontend-service'))] },
      { [`${A}ssl-redirect`]: 'false' },
    );
    expect(go([tlsOnly, plain], 'http://app.example.com/secure')).toBe('redirect 308 https://app.example.com/secure');
    expect(go([tlsOnly, plain], 'http://app.example.com/open')).toBe('proxy default/frontend-service:80');
    expect(go([tlsOnly, plain], 'http://app.example.com/none')).toBe('redirect 308 https://app.example.com/none');
    const d = compile(nginx, secret, ...services, tlsOnly, plain).table.route(req('http://app.example.com/none'));
    expect(d.route).toEqual({ kind: 'Ingress', name: 'default/a-tls', rule: 'app.example.com/none (no rule matches)' });
    expect(go([tlsOnly, plain], 'https://app.example.com/none')).toBe(
      'error 404 no Ingress rule matches host app.example.com path /none',
    );
  });

  it('an annotation value that is not a boolean is ignored with a Warning (the default stays)', () => {
    const c = compile(nginx, secret, ...services, app({ 'ssl-redirect': 'maybe' }, withTls));
    expect(short(c.table.route(req('http://app.example.com/x')))).toBe('redirect 308 https://app.example.com/x');
    expect(c.events.map((e) => `${e.reason}: ${e.message}`)).toEqual([
      `InvalidAnnotation: ${A}ssl-redirect: "maybe" is not a boolean; ignored`,
    ]);
  });
});

describe('rewrite-target', () => {
  it('with capture groups (the ingress-nginx docs’ rewrite example): /something(/|$)(.*) → /$2', () => {
    const ing = ingress(
      'default',
      'rewrite',
      { rules: [rule('rewrite.bar.com', p('/something(/|$)(.*)', 'ImplementationSpecific', 'http-svc'))] },
      { [`${A}use-regex`]: 'true', [`${A}rewrite-target`]: '/$2' },
    );
    const rows: [string, string][] = [
      ['/something', 'proxy default/http-svc:80 /'],
      ['/something/', 'proxy default/http-svc:80 /'],
      ['/something/new', 'proxy default/http-svc:80 /new'],
      ['/something/new?q=1', 'proxy default/http-svc:80 /new?q=1'],
      ['/SOMETHING/Case', 'proxy default/http-svc:80 /Case'],
      ['/other', 'error 404 no Ingress rule matches host rewrite.bar.com path /other'],
    ];
    for (const [path, want] of rows) expect(go([ing], `http://rewrite.bar.com${path}`), path).toBe(want);
  });

  it('the older docs form /something/?(.*) → /$1, without use-regex: rewrite-target alone makes the host’s paths regexes', () => {
    const ing = ingress(
      'default',
      'rewrite',
      { rules: [rule('rewrite.bar.com', p('/something/?(.*)', 'ImplementationSpecific', 'http-svc'))] },
      { [`${A}rewrite-target`]: '/$1' },
    );
    expect(go([ing], 'http://rewrite.bar.com/something')).toBe('proxy default/http-svc:80 /');
    expect(go([ing], 'http://rewrite.bar.com/something/')).toBe('proxy default/http-svc:80 /');
    expect(go([ing], 'http://rewrite.bar.com/something/new')).toBe('proxy default/http-svc:80 /new');
  });

  it('without a capture group the whole URI becomes the target (nginx rewrite), the query kept — except on the path equal to the target, which ingress-nginx does not rewrite', () => {
    // examples/003-ingress-path-routing-tls.yaml: rewrite-target: / on paths / and /api
    const ing = ingress(
      'default',
      'app-ingress',
      {
        rules: [
          rule('app.example.com', p('/', 'Prefix', 'frontend-service'), p('/api', 'Prefix', 'backend-service', 80)),
        ],
      },
      { [`${A}rewrite-target`]: '/' },
    );
    const rows: [string, string][] = [
      ['/', 'proxy default/frontend-service:80'],
      ['/about', 'proxy default/frontend-service:80'],
      ['/api', 'proxy default/backend-service:80 /'],
      ['/api/users?id=7', 'proxy default/backend-service:80 /?id=7'],
      ['/api/v1/users/7', 'proxy default/backend-service:80 /'],
      // the regex location ~* "^/api" is a string prefix, case-insensitive: ingress-nginx routes these to /api too
      ['/apix', 'proxy default/backend-service:80 /'],
      ['/API/x', 'proxy default/backend-service:80 /'],
    ];
    for (const [path, want] of rows) expect(go([ing], `http://app.example.com${path}`), path).toBe(want);
  });

  it('a regex host takes every Ingress’s paths for that host: the docs’ Path Priority example (longest first, first match)', () => {
    const one = ingress('default', 'test-ingress-1', {
      rules: [
        rule(
          'test.com',
          p('/foo/bar', 'ImplementationSpecific', 'service1'),
          p('/foo/bar/', 'ImplementationSpecific', 'service2'),
        ),
      ],
    });
    const two = ingress(
      'default',
      'test-ingress-2',
      { rules: [rule('test.com', p('/foo/bar/(.+)', 'ImplementationSpecific', 'service3'))] },
      { [`${A}rewrite-target`]: '/$1' },
    );
    expect(go([one, two], 'http://test.com/foo/bar/1')).toBe('proxy default/service3:80 /1');
    expect(go([one, two], 'http://test.com/foo/bar/')).toBe('proxy default/service2:80');
    expect(go([one, two], 'http://test.com/foo/bar')).toBe('proxy default/service1:80');
  });

  it('the docs’ warning: a longer regex is tried first even where a shorter path is the exact one', () => {
    const ing = ingress(
      'default',
      'test-ingress-3',
      {
        rules: [
          rule(
            'test.com',
            p('/foo/bar/bar', 'ImplementationSpecific', 'test'),
            p('/foo/bar/[A-Z0-9]{3}', 'ImplementationSpecific', 'test-re'),
          ),
        ],
      },
      { [`${A}use-regex`]: 'true' },
    );
    expect(go([ing], 'http://test.com/foo/bar/bar')).toBe('proxy default/test-re:80');
  });

  it('a path that is not a regular expression on a regex host is dropped with a Warning', () => {
    const ing = ingress(
      'default',
      'bad',
      {
        rules: [
          rule('test.com', p('/a(b', 'ImplementationSpecific', 'test'), p('/ok', 'ImplementationSpecific', 'test-re')),
        ],
      },
      { [`${A}use-regex`]: 'true' },
    );
    const c = compile(nginx, ...services, ing);
    expect(short(c.table.route(req('http://test.com/ok')))).toBe('proxy default/test-re:80');
    expect(c.events.map((e) => e.reason)).toEqual(['InvalidPath']);
  });

  it('nginx rewrite: $n from the groups (missing → empty), a target with its own ? gets the query after &', () => {
    expect(nginxRewrite(/\/a\/(.*)/i, '/b/$1$2', '/a/x', '')).toBe('/b/x');
    expect(nginxRewrite(/\/a/i, '/b?z=1', '/a', 'q=2')).toBe('/b?z=1&q=2');
    expect(nginxRewrite(/\/a/i, '/b', '/c', '')).toBeUndefined();
  });

  it('a target starting with http(s):// is a 302 redirect, as in nginx', () => {
    const ing = ingress(
      'default',
      'away',
      { rules: [rule('app.example.com', p('/old(.*)', 'ImplementationSpecific', 'frontend-service'))] },
      { [`${A}rewrite-target`]: 'https://new.example.com$1' },
    );
    expect(go([ing], 'http://app.example.com/old/page')).toBe('redirect 302 https://new.example.com/page');
  });
});

describe('limit-rps and the article’s rate-limit', () => {
  const limit = (annotations: Record<string, string>) => {
    const c = compile(nginx, ...services, app(annotations));
    const d = c.table.route(req('http://app.example.com/'));
    return {
      d: d.kind === 'proxy' ? [d.rateLimitRps, d.rateLimitBurst, d.rateLimitKey] : d,
      events: c.events.map((e) => `${e.type} ${e.reason}`),
      lines: c.table.describe(),
    };
  };

  it('limit-rps per client IP, burst limit-rps × limit-burst-multiplier (default 5), one bucket per Ingress', () => {
    expect(limit({ 'limit-rps': '10' }).d).toEqual([10, 50, 'Ingress default/app']);
    expect(limit({ 'limit-rps': '10', 'limit-burst-multiplier': '2' }).d).toEqual([10, 20, 'Ingress default/app']);
    expect(limit({}).d).toEqual([undefined, undefined, undefined]);
    expect(limit({ 'limit-rps': '0' }).d).toEqual([undefined, undefined, undefined]);
  });

  it('rate-limit is not an ingress-nginx annotation: applied as limit-rps with a Warning naming the real one', () => {
    const r = limit({ 'rate-limit': '10' });
    expect(r.d).toEqual([10, 50, 'Ingress default/app']);
    expect(r.events).toEqual(['Warning NonStandardAnnotation']);
    expect(r.lines).toContain(
      'app.example.com / (Prefix) → default/frontend-service:80 (10.96.1.1:80) · Ingress default/app · limit-rps 10 (burst 50)',
    );
  });

  it('with limit-rps also set, limit-rps wins and rate-limit is listed as ignored', () => {
    const r = limit({ 'rate-limit': '10', 'limit-rps': '3' });
    expect(r.d).toEqual([3, 15, 'Ingress default/app']);
    expect(r.events).toEqual([]);
    expect(r.lines).toContain(
      `Ingress default/app ignores ${A}rate-limit: "10" (not an ingress-nginx annotation; limit-rps is set)`,
    );
  });
});

describe('other annotations are ignored, and describe() lists them', () => {
  it('an ingress-nginx annotation podwire does not implement vs one that does not exist', () => {
    const c = compile(nginx, ...services, app({ 'proxy-body-size': '8m', 'rewrite-targe': '/' }));
    expect(short(c.table.route(req('http://app.example.com/x')))).toBe('proxy default/frontend-service:80');
    expect(c.table.describe().filter((l) => l.includes('ignores'))).toEqual([
      `Ingress default/app ignores ${A}proxy-body-size: "8m" (not implemented by podwire)`,
      `Ingress default/app ignores ${A}rewrite-targe: "/" (not an ingress-nginx annotation)`,
    ]);
  });
});
