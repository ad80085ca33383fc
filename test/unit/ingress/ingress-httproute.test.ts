import { describe, it, expect } from 'vitest';
import {
  CERTS,
  compile,
  gateway,
  gatewayClass,
  httpRoute,
  referenceGrant,
  req,
  short,
  svc,
  tlsSecret,
} from '../support/ingress-cluster.js';
import type { Obj, RequestInfo, StatusUpdate } from '../../../src/ingress/index.js';

// HTTPRoute rules: matches (path, headers, query params, method), the
// spec's precedence across rules and Routes, weighted backendRefs and their
// failures (500 for an invalid backend's share), and the filters. Gateway
// `gw` in `infra` has an HTTP listener on 8080 that takes Routes from every
// namespace; each test adds Routes in `app`.

const base = [
  gatewayClass('cilium'),
  gateway('infra', 'gw', [
    { name: 'http', protocol: 'HTTP', port: 8080, allowedRoutes: { namespaces: { from: 'All' } } },
  ]),
  ...['a', 'b', 'c', 'd', 'v2', 'v3', 'mirror'].map((n, i) => svc('app', n, `10.96.3.${i + 1}`)),
];
const parentRefs = [{ name: 'gw', namespace: 'infra' }];
const route = (name: string, rules: Obj[], extra: Obj = {}) => httpRoute('app', name, { parentRefs, rules, ...extra });
const to = (...names: string[]) => names.map((name) => ({ name, port: 80 }));
const at = (url: string, over: Partial<RequestInfo> = {}) =>
  req(url.replace('//', '//').replace(/^http:\/\/([^/:]+)/, 'http://$1:8080'), over);
const routed = (objs: Obj[], url: string, over: Partial<RequestInfo> = {}) =>
  short(compile(...base, ...objs).table.route(at(url, over)));
const routeStatus = (s: StatusUpdate[], name: string) =>
  (s.find((x) => x.resource === 'httproutes' && x.name === name)?.status.parents as Obj[])[0];
const conds = (p: Obj) => p.conditions.map((c: Obj) => `${c.type}=${c.status}/${c.reason}`);

describe('matches', () => {
  const r = route('m', [
    { matches: [{ path: { type: 'Exact', value: '/exact' } }], backendRefs: to('a') },
    { matches: [{ path: { type: 'PathPrefix', value: '/prefix' } }], backendRefs: to('b') },
    { matches: [{ path: { type: 'RegularExpression', value: '/re/[0-9]+' } }], backendRefs: to('c') },
    {
      matches: [
        {
          headers: [
            { name: 'X-Version', value: 'v2' },
            { name: 'x-version', value: 'ignored' },
          ],
          path: { type: 'PathPrefix', value: '/h' },
        },
      ],
      backendRefs: to('v2'),
    },
    {
      matches: [
        {
          headers: [{ type: 'RegularExpression', name: 'user-agent', value: '.*curl.*' }],
          path: { type: 'PathPrefix', value: '/ua' },
        },
      ],
      backendRefs: to('v3'),
    },
    {
      matches: [{ queryParams: [{ name: 'v', value: '2' }], path: { type: 'PathPrefix', value: '/q' } }],
      backendRefs: to('v2'),
    },
    {
      matches: [
        { method: 'POST', path: { type: 'PathPrefix', value: '/m' } },
        { path: { type: 'Exact', value: '/or' } },
      ],
      backendRefs: to('d'),
    },
  ]);
  const rows: [string, Partial<RequestInfo>, string][] = [
    ['http://x.test/exact', {}, 'proxy app/a:80'],
    ['http://x.test/exact/', {}, 'error 404'],
    ['http://x.test/prefix', {}, 'proxy app/b:80'],
    ['http://x.test/prefix/deeper', {}, 'proxy app/b:80'],
    ['http://x.test/prefixes', {}, 'error 404'],
    ['http://x.test/re/42', {}, 'proxy app/c:80'],
    ['http://x.test/re/42x', {}, 'error 404'], // the whole path must match
    ['http://x.test/h', { headers: { 'x-version': 'v2' } }, 'proxy app/v2:80'],
    ['http://x.test/h', { headers: { 'x-version': 'ignored' } }, 'error 404'], // only the first of equivalent names counts
    ['http://x.test/h', {}, 'error 404'],
    ['http://x.test/ua', { headers: { 'user-agent': 'curl/8.5.0' } }, 'proxy app/v3:80'],
    ['http://x.test/q?v=2', {}, 'proxy app/v2:80'],
    ['http://x.test/q?v=3&v=2', {}, 'error 404'], // the first value of a repeated param
    ['http://x.test/q?w=1&v=%32', {}, 'proxy app/v2:80'],
    ['http://x.test/m', { method: 'POST' }, 'proxy app/d:80'],
    ['http://x.test/m', { method: 'GET' }, 'error 404'],
    ['http://x.test/or', { method: 'GET' }, 'proxy app/d:80'], // matches are ORed
  ];
  for (const [url, over, want] of rows) {
    it(`${over.method ?? 'GET'} ${url.replace('http://x.test', '')} ${JSON.stringify(over.headers ?? {})} → ${want}`, () => {
      expect(
        routed([r], url, over)
          .split(' ')
          .slice(0, want.startsWith('error') ? 2 : 3)
          .join(' '),
      ).toBe(want);
    });
  }
});

describe('precedence (the spec’s order, across Routes)', () => {
  it('Exact over PathPrefix; the longest prefix; a method match; more headers; more query params', () => {
    const r = route('p', [
      { matches: [{ path: { type: 'PathPrefix', value: '/foo' } }], backendRefs: to('a') },
      { matches: [{ path: { type: 'Exact', value: '/foo' } }], backendRefs: to('b') },
      { matches: [{ path: { type: 'PathPrefix', value: '/foo/bar' } }], backendRefs: to('c') },
      { matches: [{ path: { type: 'PathPrefix', value: '/foo/bar' }, method: 'GET' }], backendRefs: to('d') },
      {
        matches: [
          { path: { type: 'PathPrefix', value: '/foo/bar' }, method: 'GET', headers: [{ name: 'a', value: '1' }] },
        ],
        backendRefs: to('v2'),
      },
      {
        matches: [
          {
            path: { type: 'PathPrefix', value: '/foo/bar' },
            method: 'GET',
            headers: [{ name: 'a', value: '1' }],
            queryParams: [{ name: 'q', value: '1' }],
          },
        ],
        backendRefs: to('v3'),
      },
    ]);
    expect(routed([r], 'http://x.test/foo')).toBe('proxy app/b:80');
    expect(routed([r], 'http://x.test/foo/x')).toBe('proxy app/a:80');
    expect(routed([r], 'http://x.test/foo/bar', { method: 'PUT' })).toBe('proxy app/c:80');
    expect(routed([r], 'http://x.test/foo/bar')).toBe('proxy app/d:80');
    expect(routed([r], 'http://x.test/foo/bar', { headers: { a: '1' } })).toBe('proxy app/v2:80');
    expect(routed([r], 'http://x.test/foo/bar?q=1', { headers: { a: '1' } })).toBe('proxy app/v3:80');
  });

  it('on a tie: the oldest Route, then namespace/name alphabetically, then the first rule', () => {
    const older = route('zz-older', [{ backendRefs: to('a') }]);
    const newer = route('aa-newer', [{ backendRefs: to('b') }]);
    expect(routed([newer, older], 'http://x.test/')).toBe('proxy app/a:80');
    const same = route('bb', [{ backendRefs: to('c') }]);
    same.metadata.creationTimestamp = newer.metadata.creationTimestamp;
    expect(routed([same, newer], 'http://x.test/')).toBe('proxy app/b:80');
    expect(routed([route('two', [{ backendRefs: to('c') }, { backendRefs: to('d') }])], 'http://x.test/')).toBe(
      'proxy app/c:80',
    );
  });

  it('hostnames first: an exact hostname’s rules before a wildcard’s, even against a longer match; no match there falls to the wildcard Route', () => {
    const exact = route('exact', [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to('a') }], {
      hostnames: ['api.example.com'],
    });
    const wild = route(
      'wild',
      [
        {
          matches: [{ path: { type: 'Exact', value: '/x' } }, { path: { type: 'PathPrefix', value: '/only-wild' } }],
          backendRefs: to('b'),
        },
      ],
      { hostnames: ['*.example.com'] },
    );
    const exactOnlyApi = route(
      'exact',
      [{ matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: to('a') }],
      { hostnames: ['api.example.com'] },
    );
    expect(routed([exact, wild], 'http://api.example.com/x')).toBe('proxy app/a:80');
    expect(routed([exact, wild], 'http://www.example.com/x')).toBe('proxy app/b:80');
    expect(routed([exactOnlyApi, wild], 'http://api.example.com/only-wild')).toBe('proxy app/b:80');
    expect(routed([exact, wild], 'http://example.com/x')).toBe(
      'error 404 no HTTPRoute rule matches host example.com path /x on infra/gw listener http (HTTP :8080)',
    );
  });
});

describe('backendRefs', () => {
  const objsOf = (backendRefs: Obj[], ...more: Obj[]) => [route('w', [{ backendRefs }]), ...more];
  const decide = (objs: Obj[]) => compile(...base, ...objs).table.route(at('http://x.test/'));

  it('weights as written (the article’s 90/10), weight 1 by default, 0 kept but never chosen; every weight 0 → 500', () => {
    const d = decide(
      objsOf([
        { name: 'v2', port: 80, weight: 90 },
        { name: 'v3', port: 80, weight: 10 },
        { name: 'a', port: 80, weight: 0 },
        { name: 'b', port: 80 },
      ]),
    );
    expect(d.kind === 'proxy' && d.backends.map((b) => `${b.service}=${b.weight}@${b.address}`)).toEqual([
      'app/v2=90@10.96.3.5',
      'app/v3=10@10.96.3.6',
      'app/a=0@10.96.3.1',
      'app/b=1@10.96.3.2',
    ]);
    expect(short(decide(objsOf([{ name: 'a', port: 80, weight: 0 }])))).toBe(
      'error 500 HTTPRoute app/w rules[0].matches[0]: every backendRef has weight 0',
    );
    expect(short(decide([route('w', [{}])]))).toBe('error 500 HTTPRoute app/w rules[0].matches[0] has no backendRefs');
  });

  it('another namespace’s Service needs a ReferenceGrant: else ResolvedRefs=False RefNotPermitted and 500 for its share', () => {
    const other = svc('shared', 'api', '10.96.9.9');
    const cross = { name: 'api', namespace: 'shared', port: 80, weight: 50 };
    const c = compile(...base, other, ...objsOf([cross, { name: 'a', port: 80, weight: 50 }]));
    const d = c.table.route(at('http://x.test/'));
    expect(d.kind === 'proxy' && d.backends[0]).toEqual({
      service: 'shared/api',
      port: 80,
      address: '',
      weight: 50,
      failure: {
        status: 500,
        reason:
          'backendRef Service shared/api is in another namespace and no ReferenceGrant in shared allows HTTPRoutes from app',
      },
    });
    expect(conds(routeStatus(c.statuses, 'w'))).toEqual([
      'Accepted=True/Accepted',
      'ResolvedRefs=False/RefNotPermitted',
    ]);
    expect(short(compile(...base, other, ...objsOf([cross])).table.route(at('http://x.test/')))).toMatch(
      /^error 500 backendRef Service shared\/api is in another namespace/,
    );
    const grant = referenceGrant(
      'shared',
      'g',
      [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'app' }],
      [{ group: '', kind: 'Service' }],
    );
    const ok = compile(...base, other, grant, ...objsOf([cross]));
    expect(short(ok.table.route(at('http://x.test/')))).toBe('proxy shared/api:80');
    expect(conds(routeStatus(ok.statuses, 'w'))).toEqual(['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  it('a missing Service or port: BackendNotFound; another kind: InvalidKind; a headless Service resolves but answers 503', () => {
    const reasons = (refs: Obj[], ...more: Obj[]) => {
      const c = compile(...base, ...more, ...objsOf(refs));
      return [short(c.table.route(at('http://x.test/'))), conds(routeStatus(c.statuses, 'w'))[1]];
    };
    expect(reasons([{ name: 'nope', port: 80 }])).toEqual([
      'error 500 Service app/nope not found',
      'ResolvedRefs=False/BackendNotFound',
    ]);
    expect(reasons([{ name: 'a', port: 81 }])).toEqual([
      'error 500 Service app/a has no port 81',
      'ResolvedRefs=False/BackendNotFound',
    ]);
    expect(reasons([{ group: 'example.com', kind: 'Bucket', name: 'a' }])).toEqual([
      'error 500 backendRef example.com/Bucket app/a: only core Services are supported',
      'ResolvedRefs=False/InvalidKind',
    ]);
    expect(reasons([{ name: 'hl', port: 80 }], svc('app', 'hl', 'None'))).toEqual([
      'error 503 Service app/hl is headless (clusterIP: None): there is no ClusterIP to proxy to',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
  });
});

describe('filters', () => {
  const f = (
    filters: Obj[],
    matches: Obj[] = [{ path: { type: 'PathPrefix', value: '/v1' } }],
    backendRefs = to('a'),
  ) => route('f', [{ matches, filters, backendRefs }]);
  const redirect = (r: Obj, url = 'http://x.test/v1/users?id=1', over: Partial<RequestInfo> = {}) =>
    routed([f([{ type: 'RequestRedirect', requestRedirect: r }])], url, over);

  it('RequestRedirect: 302 by default; scheme https → port 443, left out of Location; no scheme → the listener’s port', () => {
    expect(redirect({})).toBe('redirect 302 http://x.test:8080/v1/users?id=1');
    expect(redirect({ scheme: 'https', statusCode: 301 })).toBe('redirect 301 https://x.test/v1/users?id=1');
    expect(redirect({ scheme: 'https', port: 8443 })).toBe('redirect 302 https://x.test:8443/v1/users?id=1');
    expect(redirect({ hostname: 'new.test', port: 80 })).toBe('redirect 302 http://new.test/v1/users?id=1');
    expect(redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/moved' } })).toBe(
      'redirect 302 http://x.test:8080/moved?id=1',
    );
    expect(redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' }, statusCode: 308 })).toBe(
      'redirect 308 http://x.test:8080/v2/users?id=1',
    );
  });

  it('URLRewrite: the path (ReplaceFullPath, ReplacePrefixMatch) with the query, and the Host', () => {
    const c = compile(
      ...base,
      f([
        {
          type: 'URLRewrite',
          urlRewrite: {
            hostname: 'internal.test',
            path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/api/v1' },
          },
        },
      ]),
    );
    const d = c.table.route(at('http://x.test/v1/users?id=1'));
    expect(d.kind === 'proxy' && [d.rewritePath, d.rewriteHost]).toEqual(['/api/v1/users?id=1', 'internal.test']);
    expect(
      routed(
        [f([{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/' } } }])],
        'http://x.test/v1/x',
      ),
    ).toBe('proxy app/a:80 /');
  });

  it('header modifiers and RequestMirror go into the decision', () => {
    const c = compile(
      ...base,
      f([
        {
          type: 'RequestHeaderModifier',
          requestHeaderModifier: {
            set: [{ name: 'X-Env', value: 'prod' }],
            add: [{ name: 'X-Tag', value: 'a' }],
            remove: ['X-Debug'],
          },
        },
        {
          type: 'ResponseHeaderModifier',
          responseHeaderModifier: { add: [{ name: 'X-Served-By', value: 'podwire' }] },
        },
        { type: 'RequestMirror', requestMirror: { backendRef: { name: 'mirror', port: 80 } } },
      ]),
    );
    const d = c.table.route(at('http://x.test/v1'));
    expect(d).toMatchObject({
      kind: 'proxy',
      requestHeaders: { set: [['X-Env', 'prod']], add: [['X-Tag', 'a']], remove: ['X-Debug'] },
      responseHeaders: { add: [['X-Served-By', 'podwire']] },
      mirror: [{ service: 'app/mirror', port: 80, address: '10.96.3.7', weight: 1 }],
    });
  });

  it('a mirror to a missing Service is dropped and reported (ResolvedRefs=False)', () => {
    const c = compile(
      ...base,
      f([{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'gone', port: 80 } } }]),
    );
    const d = c.table.route(at('http://x.test/v1'));
    expect(d.kind === 'proxy' && d.mirror).toBeUndefined();
    expect(conds(routeStatus(c.statuses, 'f'))).toEqual([
      'Accepted=True/Accepted',
      'ResolvedRefs=False/BackendNotFound',
    ]);
  });

  it('invalid rules are dropped: URLRewrite with RequestRedirect (IncompatibleFilters), ReplacePrefixMatch on an Exact match (UnsupportedValue)', () => {
    const bad = { type: 'URLRewrite', urlRewrite: {} };
    const c = compile(...base, f([bad, { type: 'RequestRedirect', requestRedirect: {} }]));
    expect(conds(routeStatus(c.statuses, 'f'))).toEqual([
      'Accepted=False/IncompatibleFilters',
      'ResolvedRefs=True/ResolvedRefs',
    ]);
    expect(short(c.table.route(at('http://x.test/v1')))).toMatch(/^error 404/);
    const exactPrefix = route('f', [
      {
        matches: [{ path: { type: 'Exact', value: '/v1' } }],
        filters: [
          { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } },
        ],
        backendRefs: to('a'),
      },
      { backendRefs: to('b') },
    ]);
    const c2 = compile(...base, exactPrefix);
    const p = routeStatus(c2.statuses, 'f');
    expect(conds(p)).toEqual([
      'Accepted=True/Accepted',
      'ResolvedRefs=True/ResolvedRefs',
      'PartiallyInvalid=True/UnsupportedValue',
    ]);
    expect(p.conditions[2].message).toBe(
      'Dropped Rule(s): rules[0]: ReplacePrefixMatch needs every match of the rule to be a PathPrefix match',
    );
    expect(short(c2.table.route(at('http://x.test/v1')))).toBe('proxy app/b:80');
  });

  it('a filter podwire does not implement is not skipped: the rule answers 500', () => {
    expect(
      routed(
        [f([{ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'Auth', name: 'a' } }])],
        'http://x.test/v1',
      ),
    ).toBe('error 500 filter ExtensionRef is not supported by podwire');
  });
});

describe('HTTPS listeners by hostname', () => {
  it('the Host picks the listener; an SNI that picked another listener is a 421 Misdirected Request', () => {
    const gw = gateway('infra', 'tls', [
      {
        name: 'a',
        protocol: 'HTTPS',
        port: 8443,
        hostname: 'a.example.com',
        tls: { certificateRefs: [{ name: 'cert' }] },
        allowedRoutes: { namespaces: { from: 'All' } },
      },
      {
        name: 'b',
        protocol: 'HTTPS',
        port: 8443,
        hostname: 'b.example.com',
        tls: { certificateRefs: [{ name: 'cert' }] },
        allowedRoutes: { namespaces: { from: 'All' } },
      },
    ]);
    const r = httpRoute('app', 'r', {
      parentRefs: [{ name: 'tls', namespace: 'infra' }],
      rules: [{ backendRefs: to('a') }],
    });
    const t = compile(...base, gw, r, tlsSecret('infra', 'cert', CERTS.wild)).table;
    expect(short(t.route(req('https://a.example.com:8443/')))).toBe('proxy app/a:80');
    expect(short(t.route(req('https://b.example.com:8443/', { sni: 'a.example.com' })))).toBe(
      'error 421 Misdirected Request: TLS SNI a.example.com chose infra/tls listener a (HTTPS :8443 a.example.com), Host b.example.com belongs to infra/tls listener b (HTTPS :8443 b.example.com)',
    );
    expect(t.certificate('a.example.com', 8443)).toEqual(CERTS.wild);
  });
});
