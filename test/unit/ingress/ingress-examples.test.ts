import { describe, it, expect } from 'vitest';
import {
  CERTS,
  OPTS,
  compile,
  example,
  gatewayClass,
  ingress,
  ingressClass,
  namespace,
  p,
  req,
  rule,
  short,
  svc,
  tlsSecret,
} from '../support/ingress-cluster.js';
import type { Obj } from '../../../src/ingress/index.js';

// The seed articles' manifests from examples/, unchanged, with the objects
// they name but do not give (the IngressClass nginx and GatewayClass cilium
// the lab ships, the Services, the Secrets, the namespaces): the table they
// compile to, request by request, and describe() as text. Last, what route()
// costs with 1,000 Ingress paths (printed, not asserted).

const nginx = ingressClass('nginx', OPTS.ingressController, true);
const cilium = gatewayClass('cilium');
const article000 = example('000-ingress-tls-path-routing.yaml');
const article003 = example('003-ingress-path-routing-tls.yaml');
const gatewayArticle = example('000-gateway-httproute-canary.yaml');
const apiSvc = svc('default', 'api-service', '10.96.0.12');
const frontend = svc('default', 'frontend-service', '10.96.0.13');
const backend = svc('default', 'backend-service', '10.96.0.14', [{ port: 8080 }]);
const gatewayCompanions = [
  cilium,
  namespace('infra'),
  namespace('app-team'),
  tlsSecret('infra', 'wildcard-cert', CERTS.wild),
  svc('app-team', 'api-v2', '10.96.0.20'),
  svc('app-team', 'api-v3', '10.96.0.21'),
];

describe('examples/000-ingress-tls-path-routing.yaml', () => {
  const c = compile(nginx, apiSvc, frontend, tlsSecret('default', 'app-tls-cert', CERTS.app), ...article000);
  const go = (url: string) => c.table.route(req(url));

  it('/api → api-service, everything else → frontend-service (element-wise: /apix is not /api), over HTTPS', () => {
    expect(short(go('https://app.example.com/api'))).toBe('proxy default/api-service:80');
    expect(short(go('https://app.example.com/api/users/7'))).toBe('proxy default/api-service:80');
    expect(short(go('https://app.example.com/apix'))).toBe('proxy default/frontend-service:80');
    expect(short(go('https://app.example.com/'))).toBe('proxy default/frontend-service:80');
    expect(short(go('https://other.example.com/'))).toBe(
      'error 404 no Ingress rule matches host other.example.com path /',
    );
  });

  it('ssl-redirect: plain HTTP → 308 https; the article’s rate-limit: "10" becomes limit-rps 10, burst 50, with a Warning', () => {
    expect(short(go('http://app.example.com/api?x=1'))).toBe('redirect 308 https://app.example.com/api?x=1');
    const d = go('https://app.example.com/api');
    expect(d.kind === 'proxy' && [d.rateLimitRps, d.rateLimitBurst, d.rateLimitKey]).toEqual([
      10,
      50,
      'Ingress default/app-ingress',
    ]);
    expect(c.events).toEqual([
      {
        kind: 'Ingress',
        namespace: 'default',
        name: 'app-ingress',
        type: 'Warning',
        reason: 'NonStandardAnnotation',
        message:
          'nginx.ingress.kubernetes.io/rate-limit is not an ingress-nginx annotation (ingress-nginx ignores it); podwire applies it as nginx.ingress.kubernetes.io/limit-rps: "10" — write limit-rps',
      },
    ]);
  });

  it('SNI app.example.com gets the app-tls-cert Secret; anything else the default certificate', () => {
    expect(c.table.certificate('app.example.com', 443)).toEqual(CERTS.app);
    expect(c.table.certificate('nope.example.com', 443)).toEqual(OPTS.defaultCertificate);
  });

  it('describe(): every route in words', () => {
    expect(c.table.describe()).toEqual([
      'app.example.com: TLS on :443',
      'app.example.com / (Prefix) → default/frontend-service:80 (10.96.0.13:80) · Ingress default/app-ingress · ssl-redirect, limit-rps 10 (burst 50)',
      'app.example.com /api (Prefix) → default/api-service:80 (10.96.0.12:80) · Ingress default/app-ingress · ssl-redirect, limit-rps 10 (burst 50)',
    ]);
  });

  it('without the Services and the Secret (what the article leaves out): 503s that say why, the default certificate, Warning events', () => {
    const bare = compile(nginx, ...article000);
    expect(short(bare.table.route(req('https://app.example.com/api')))).toBe(
      'error 503 Service default/api-service not found',
    );
    expect(short(bare.table.route(req('http://app.example.com/api')))).toBe('redirect 308 https://app.example.com/api');
    expect(bare.table.certificate('app.example.com', 443)).toEqual(OPTS.defaultCertificate);
    expect(bare.events.map((e) => `${e.type} ${e.reason}: ${e.message}`)).toEqual([
      expect.stringMatching(/^Warning NonStandardAnnotation/),
      'Warning ServiceNotFound: Service default/api-service not found: app.example.com/api (Prefix) answers 503',
      'Warning ServiceNotFound: Service default/frontend-service not found: app.example.com/ (Prefix) answers 503',
      'Warning SecretNotFound: TLS Secret default/app-tls-cert not found: app.example.com gets the default certificate',
    ]);
    expect(bare.table.describe()[1]).toBe(
      'app.example.com / (Prefix) → default/frontend-service:80 ✗ Service default/frontend-service not found (503) · Ingress default/app-ingress · ssl-redirect, limit-rps 10 (burst 50)',
    );
  });
});

describe('examples/003-ingress-path-routing-tls.yaml', () => {
  const c = compile(nginx, frontend, backend, tlsSecret('default', 'tls-secret', CERTS.app), ...article003);
  const go = (url: string) => short(c.table.route(req(url)));

  it('no ingressClassName: ours through the default IngressClass; without one marked default, nobody’s', () => {
    expect(go('https://app.example.com/')).toBe('proxy default/frontend-service:80');
    expect(
      short(
        compile(ingressClass('nginx'), frontend, backend, ...article003).table.route(req('https://app.example.com/')),
      ),
    ).toBe('error 404 no Ingress rule matches host app.example.com path /');
  });

  it('rewrite-target: / — /api… goes upstream as / (query kept); the / path is not rewritten (its path equals the target)', () => {
    expect(go('https://app.example.com/api/users?id=7')).toBe('proxy default/backend-service:8080 /?id=7');
    expect(go('https://app.example.com/api')).toBe('proxy default/backend-service:8080 /');
    expect(go('https://app.example.com/about/team')).toBe('proxy default/frontend-service:80');
    expect(go('https://app.example.com/apix')).toBe('proxy default/backend-service:8080 /');
    expect(go('http://app.example.com/api')).toBe('redirect 308 https://app.example.com/api');
  });

  it('describe() says the host became regex paths', () => {
    expect(c.table.describe()).toEqual([
      'app.example.com: TLS on :443',
      'app.example.com: every path is a case-insensitive regular expression anchored at the start (use-regex or rewrite-target on this host, as ingress-nginx)',
      'app.example.com / (Prefix) → default/frontend-service:80 (10.96.0.13:80) · Ingress default/app-ingress · ssl-redirect, rewrite-target /',
      'app.example.com /api (Prefix) → default/backend-service:8080 (10.96.0.14:8080) · Ingress default/app-ingress · ssl-redirect, rewrite-target /',
    ]);
  });
});

describe('examples/000-gateway-httproute-canary.yaml', () => {
  const c = compile(...gatewayCompanions, ...gatewayArticle);

  it('api.example.com/v2 on the HTTPS listener → api-v2 weight 90, api-v3 weight 10, across namespaces infra → app-team', () => {
    expect(c.table.listeners).toEqual([
      { port: 80, tls: false },
      { port: 443, tls: true },
    ]);
    const d = c.table.route(req('https://api.example.com/v2/users'));
    expect(d).toEqual({
      kind: 'proxy',
      route: { kind: 'HTTPRoute', name: 'app-team/api-route', rule: 'rules[0].matches[0]' },
      backends: [
        { service: 'app-team/api-v2', port: 80, address: '10.96.0.20', weight: 90 },
        { service: 'app-team/api-v3', port: 80, address: '10.96.0.21', weight: 10 },
      ],
    });
    expect(short(c.table.route(req('https://api.example.com/v3')))).toBe(
      'error 404 no Ingress rule matches host api.example.com path /v3',
    );
    expect(short(c.table.route(req('https://www.example.com/v2')))).toBe(
      'error 404 no Ingress rule matches host www.example.com path /v2',
    );
    expect(c.table.certificate('api.example.com', 443)).toEqual(CERTS.wild);
    expect(c.events).toEqual([]);
  });

  it('status: GatewayClass Accepted, Gateway and its https listener Programmed with 1 attached route, the HTTPRoute Accepted and resolved', () => {
    const cond = (type: string, reason: string, message: string, status = 'True') => ({
      type,
      status,
      reason,
      message,
      lastTransitionTime: OPTS.nowIso,
    });
    expect(c.statuses).toEqual([
      {
        resource: 'gatewayclasses',
        name: 'cilium',
        status: {
          conditions: [
            { ...cond('Accepted', 'Accepted', 'GatewayClass is accepted by podwire'), observedGeneration: 1 },
          ],
        },
      },
      {
        resource: 'gateways',
        namespace: 'infra',
        name: 'main-gateway',
        status: {
          conditions: [
            cond('Accepted', 'Accepted', 'Gateway is accepted'),
            cond('Programmed', 'Programmed', 'Gateway is programmed'),
          ],
          listeners: [
            {
              name: 'https',
              supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
              attachedRoutes: 1,
              conditions: [
                cond('Accepted', 'Accepted', 'Listener is accepted'),
                cond('Programmed', 'Programmed', 'Listener is programmed'),
                cond('ResolvedRefs', 'ResolvedRefs', 'All references are resolved'),
                cond('Conflicted', 'NoConflicts', 'No conflicts', 'False'),
              ],
            },
          ],
        },
      },
      {
        resource: 'httproutes',
        namespace: 'app-team',
        name: 'api-route',
        status: {
          parents: [
            {
              parentRef: {
                group: 'gateway.networking.k8s.io',
                kind: 'Gateway',
                namespace: 'infra',
                name: 'main-gateway',
              },
              controllerName: OPTS.gatewayController,
              conditions: [
                cond('Accepted', 'Accepted', 'Route is accepted'),
                cond('ResolvedRefs', 'ResolvedRefs', 'All references are resolved'),
              ],
            },
          ],
        },
      },
    ]);
  });

  it('without the wildcard-cert Secret: the listener is not programmed (InvalidCertificateRef) and the canary is not served', () => {
    const bare = compile(...gatewayCompanions.filter((o) => o.kind !== 'Secret'), ...gatewayArticle);
    const gw = bare.statuses.find((s) => s.resource === 'gateways')!.status;
    expect(gw.conditions.map((x: Obj) => `${x.type}=${x.status}/${x.reason}`)).toEqual([
      'Accepted=True/Accepted',
      'Programmed=False/Invalid',
    ]);
    expect(gw.conditions[1].message).toBe(
      'no listener is programmed: listener https: Secret infra/wildcard-cert not found',
    );
    expect(gw.listeners[0].conditions.map((x: Obj) => `${x.type}=${x.status}/${x.reason}`)).toEqual([
      'Accepted=True/Accepted',
      'Programmed=False/Invalid',
      'ResolvedRefs=False/InvalidCertificateRef',
      'Conflicted=False/NoConflicts',
    ]);
    expect(short(bare.table.route(req('https://api.example.com/v2')))).toBe(
      'error 404 no Ingress rule matches host api.example.com path /v2',
    );
    expect(bare.table.describe()).toEqual([
      'infra/main-gateway listener https (HTTPS :443): not programmed — InvalidCertificateRef: Secret infra/wildcard-cert not found',
    ]);
  });

  it('beside the Ingress article on the shared port 443: each host goes where it belongs, each SNI gets its certificate', () => {
    const both = compile(
      nginx,
      apiSvc,
      frontend,
      tlsSecret('default', 'app-tls-cert', CERTS.app),
      ...article000,
      ...gatewayCompanions,
      ...gatewayArticle,
    );
    expect(short(both.table.route(req('https://api.example.com/v2')))).toBe(
      'proxy app-team/api-v2:80*90,app-team/api-v3:80*10',
    );
    expect(short(both.table.route(req('https://app.example.com/api')))).toBe('proxy default/api-service:80');
    expect(both.table.certificate('app.example.com', 443)).toEqual(CERTS.app);
    expect(both.table.certificate('api.example.com', 443)).toEqual(CERTS.wild);
    expect(both.table.describe().slice(-1)).toEqual([
      'api.example.com PathPrefix /v2 → app-team/api-v2:80 (10.96.0.20:80) weight 90, app-team/api-v3:80 (10.96.0.21:80) weight 10 · HTTPRoute app-team/api-route rules[0].matches[0] · Gateway infra/main-gateway listener https (HTTPS :443)',
    ]);
  });
});

describe('route() cost', () => {
  const timeRoute = (label: string, objs: Obj[], urls: string[], n = 200_000) => {
    const t0 = performance.now();
    const c = compile(...objs);
    const compileMs = performance.now() - t0;
    const reqs = urls.map((u) => req(u));
    for (const r of reqs) c.table.route(r); // warm up
    const t1 = performance.now();
    let proxied = 0;
    for (let i = 0; i < n; i++) if (c.table.route(reqs[i % reqs.length]).kind === 'proxy') proxied++;
    const perUs = ((performance.now() - t1) * 1000) / n;
    console.log(
      `route() ${label}: compile ${compileMs.toFixed(1)} ms, ${perUs.toFixed(2)} µs per request (${n} requests, ${proxied} proxied)`,
    );
    return proxied;
  };

  it('1,000 Ingress paths (10 Ingresses × 100 paths on one host; and the same host as regex paths): printed', () => {
    const svcs = Array.from({ length: 10 }, (_, i) => svc('default', `s${i}`, `10.96.4.${i + 1}`));
    const ings = (annotations?: Record<string, string>) =>
      Array.from({ length: 10 }, (_, i) =>
        ingress(
          'default',
          `i${i}`,
          {
            rules: [
              rule(
                'big.test',
                ...Array.from({ length: 100 }, (_, j) =>
                  p(`/team${i}/svc${j}`, j % 3 === 0 ? 'Exact' : 'Prefix', `s${i}`),
                ),
              ),
            ],
          },
          annotations,
        ),
      );
    const urls = [
      'http://big.test/team9/svc98/deep/path',
      'http://big.test/team0/svc1',
      'http://big.test/team5/svc50/x',
      'http://big.test/nothing/here',
    ];
    expect(timeRoute('1,000 plain paths', [ingressClass('nginx'), ...svcs, ...ings()], urls)).toBe(150_000);
    expect(
      timeRoute(
        '1,000 regex paths (rewrite-target)',
        [ingressClass('nginx'), ...svcs, ...ings({ 'nginx.ingress.kubernetes.io/rewrite-target': '/' })],
        urls,
        20_000,
      ),
    ).toBe(15_000);
  });
});
