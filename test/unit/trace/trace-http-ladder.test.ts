// `podwire trace <pod> http(s)://…`: the ladder composed from two packet
// legs and the L7 decision between them — the decision from the real
// routing model (compileRoutes), the legs as trace reports them — compared
// as exact text, for the way through and for each place it stops.

import { describe, expect, it } from 'vitest';
import {
  CERTS,
  OPTS,
  cluster,
  gateway,
  gatewayClass,
  httpRoute,
  ingress,
  ingressClass,
  p,
  req,
  rule,
  svc,
  tlsSecret,
} from '../support/ingress-cluster.js';
import {
  composeHttpTrace,
  parseHttpTarget,
  type HttpLadderInput,
  type PacketLeg,
} from '../../../src/trace/http-ladder.js';
import { certificateWords, explainRoute, followedBackend, type RouteStepInput } from '../../../src/trace/http-route.js';
import { compileRoutes, type Obj, type RequestInfo } from '../../../src/ingress/index.js';
import type { TraceResult } from '../../../src/trace/index.js';

const CTL = 'ingress-nginx/ingress-nginx-controller-6b9c-x2k4p';
/** the "where" column is as wide as its longest entry: the controller pod's name */
const W = CTL.length;
const SRC = { name: 'client', ip: '10.244.1.4', node: 'node1' };
const nginx = ingressClass('nginx');
const web = svc('default', 'web', '10.96.1.2');
const app = ingress('default', 'app', {
  rules: [rule('app.example.com', p('/api', 'Prefix', 'web'), p('/gone', 'Prefix', 'nope'))],
});

/** Leg 1 as trace reports it when the LoadBalancer address leads to the controller pod. */
const toController = (
  verdict: TraceResult['verdict'] = 'DELIVERED',
  tail: TraceResult['layers'] = [{ where: CTL, what: 'eth0: the probe arrived (TTL 62)' }],
  summary = `delivered to ${CTL} through Service ingress-nginx/ingress-nginx-controller`,
): PacketLeg => ({
  result: {
    layers: [
      {
        where: 'client',
        what: 'hosts: /etc/hosts line 11: 172.28.0.240 app.example.com (the files source comes before DNS: no query sent)',
      },
      { where: 'client', what: 'route: 172.28.0.240 via 10.244.1.1 dev eth0, MTU 1450' },
      {
        where: 'node1 agent',
        what: 'service: 172.28.0.240:80/TCP is LoadBalancer frontend 172.28.0.240:80/TCP of Service ingress-nginx/ingress-nginx-controller (port http)',
      },
      ...tail,
    ],
    verdict,
    summary,
    ...(verdict === 'DROPPED' ? { reason: 'policy-denied-egress' } : {}),
  },
  dnsLayers: 1,
  address: '172.28.0.240',
  ...(verdict === 'DELIVERED' ? { deliveredTo: CTL } : {}),
});
const frontend = {
  service: 'ingress-nginx/ingress-nginx-controller',
  type: 'LoadBalancer',
  address: '172.28.0.240',
  port: 80,
  targetPort: 80,
};

/** Leg 2: the controller pod to the backend Service, delivered or dropped by a policy. */
const toBackend = (dropped = false): PacketLeg => ({
  result: dropped
    ? {
        layers: [
          { where: CTL, what: 'route: 10.96.1.2 via 10.244.2.1 dev eth0, MTU 1450' },
          {
            where: 'node2 agent',
            what: 'drop: policy-denied-ingress (ingress to default/web-5d8f (10.244.2.7) from ingress-nginx/ingress-nginx-controller-6b9c-x2k4p (10.244.2.3) TCP/80 denied: isolated by default/web-deny-all; no rule allowed it)',
          },
        ],
        verdict: 'DROPPED',
        reason: 'policy-denied-ingress',
        summary:
          "stopped at node2's agent: policy-denied-ingress (… isolated by default/web-deny-all; no rule allowed it)",
      }
    : {
        layers: [
          { where: CTL, what: 'route: 10.96.1.2 via 10.244.2.1 dev eth0, MTU 1450' },
          {
            where: 'node2 agent',
            what: 'service: backend web-5d8f 10.244.2.7:80 on node2 — random: backend 1 of 1, uniformly (1/1 each)',
          },
          { where: 'web-5d8f', what: 'eth0: the probe arrived (TTL 63)' },
        ],
        verdict: 'DELIVERED',
        summary: 'delivered to web-5d8f through Service default/web',
      },
  dnsLayers: 0,
  ...(dropped ? {} : { deliveredTo: 'web-5d8f' }),
});

function step(objs: Obj[], url: string, over: Partial<RequestInfo> = {}, controller = CTL): RouteStepInput {
  // as the CLI compiles: without the controller's default certificate, so "none" means that one
  const t = compileRoutes(cluster(...objs), { ...OPTS, defaultCertificate: undefined }).table;
  const r = req(url, over);
  return {
    controller,
    method: 'GET',
    url,
    host: r.host,
    port: r.port,
    tls: r.tls,
    ...(r.tls ? { certificate: certificateWords(t.certificate(r.host, r.port)?.cert) } : {}),
    decision: t.route(r),
    routes: t.describe(),
  };
}

function ladder(over: Partial<HttpLadderInput> & { url?: string } = {}): string {
  const target = parseHttpTarget(over.url ?? 'http://app.example.com/api/users')!;
  const routeStep = over.routeStep ?? explainRoute(step([nginx, web, app], target.url));
  return composeHttpTrace({
    target,
    src: SRC,
    toController: toController(),
    frontend,
    controller: { name: CTL, ip: '10.244.2.3', node: 'node2' },
    claimedBy: ['Ingress default/app'],
    routeStep,
    ...(routeStep.next ? { toBackend: toBackend() } : {}),
    ...over,
  }).text;
}

describe('parseHttpTarget', () => {
  it('scheme, host (lowercase), default and explicit ports, path with dot-segments resolved as curl does, query', () => {
    expect(parseHttpTarget('http://App.Example.com/api/../v1/x?a=1')).toEqual({
      scheme: 'http',
      host: 'app.example.com',
      port: 80,
      path: '/v1/x',
      query: 'a=1',
      url: 'http://app.example.com/v1/x?a=1',
    });
    expect(parseHttpTarget('https://app.example.com')).toMatchObject({
      scheme: 'https',
      port: 443,
      path: '/',
      url: 'https://app.example.com/',
    });
    expect(parseHttpTarget('http://172.28.0.11:30086/api')).toMatchObject({ host: '172.28.0.11', port: 30086 });
    expect(parseHttpTarget('app.example.com:80')).toBeNull();
    expect(() => parseHttpTarget('http://')).toThrow(/not a URL/);
  });
});

describe('the ladder', () => {
  it('all the way: DNS, the LoadBalancer, the controller pod, the route, the Service, the backend pod', () => {
    expect(ladder()).toBe(
      [
        'trace client (10.244.1.4, node1) -> http://app.example.com/api/users',
        ` 1. ${'client'.padEnd(W)}  hosts: /etc/hosts line 11: 172.28.0.240 app.example.com (the files source comes before DNS: no query sent)`,
        ` 2. ${'client'.padEnd(W)}  ingress: 172.28.0.240:80 is the LoadBalancer address of Service ingress-nginx/ingress-nginx-controller: to the controller pods' :80`,
        ` 3. ${'client'.padEnd(W)}  route: 172.28.0.240 via 10.244.1.1 dev eth0, MTU 1450`,
        ` 4. ${'node1 agent'.padEnd(W)}  service: 172.28.0.240:80/TCP is LoadBalancer frontend 172.28.0.240:80/TCP of Service ingress-nginx/ingress-nginx-controller (port http)`,
        ` 5. ${CTL}  eth0: the probe arrived (TTL 62)`,
        ` 6. ${CTL}  listener: :80 (HTTP) GET http://app.example.com/api/users, Host app.example.com`,
        ` 7. ${CTL}  route: Ingress default/app, app.example.com/api (Prefix)`,
        ` 8. ${CTL}  backend: Service default/web:80 (ClusterIP 10.96.1.2:80)`,
        ` 9. ${CTL}  proxy: a new connection from 10.244.2.3 to Service default/web at 10.96.1.2:80:`,
        `10. ${CTL}  route: 10.96.1.2 via 10.244.2.1 dev eth0, MTU 1450`,
        `11. ${'node2 agent'.padEnd(W)}  service: backend web-5d8f 10.244.2.7:80 on node2 — random: backend 1 of 1, uniformly (1/1 each)`,
        `12. ${'web-5d8f'.padEnd(W)}  eth0: the probe arrived (TTL 63)`,
        `DELIVERED: delivered to web-5d8f through Service default/web, routed by Ingress default/app (app.example.com/api (Prefix)) in ${CTL}`,
      ].join('\n'),
    );
  });

  it('the backend Service missing: 503 at the route step, with the Ingress rule and the reason; no second leg', () => {
    const text = ladder({ url: 'http://app.example.com/gone/x' });
    expect(text.split('\n').slice(-3)).toEqual([
      ` 6. ${CTL}  listener: :80 (HTTP) GET http://app.example.com/gone/x, Host app.example.com`,
      ` 7. ${CTL}  route: Ingress default/app, app.example.com/gone (Prefix): 503 Service default/nope not found`,
      `ANSWERED-BY-INGRESS: 503 from ${CTL} at the route step (Ingress default/app, app.example.com/gone (Prefix)): Service default/nope not found`,
    ]);
  });

  it('no route: 404, and what the host does have', () => {
    expect(ladder({ url: 'http://app.example.com/other' }).split('\n').slice(-2)).toEqual([
      ` 7. ${CTL}  route: 404 no Ingress rule matches host app.example.com path /other; what host app.example.com has: app.example.com /api (Prefix) → default/web:80 (10.96.1.2:80) · Ingress default/app | app.example.com /gone (Prefix) → default/nope:80 ✗ Service default/nope not found (503) · Ingress default/app`,
      `ANSWERED-BY-INGRESS: 404 from ${CTL} at the route step: no Ingress rule matches host app.example.com path /other`,
    ]);
    expect(ladder({ url: 'http://other.example.com/' }).split('\n').at(-2)).toBe(
      ` 7. ${CTL}  route: 404 no Ingress rule matches host other.example.com path /; no Ingress or HTTPRoute names host other.example.com`,
    );
  });

  it('a NetworkPolicy denying the controller → backend leg: the policy drop, and what the client gets (504)', () => {
    const target = parseHttpTarget('http://app.example.com/api/users')!;
    const routeStep = explainRoute(step([nginx, web, app], target.url));
    const { result, text } = composeHttpTrace({
      target,
      src: SRC,
      toController: toController(),
      frontend,
      controller: { name: CTL, ip: '10.244.2.3', node: 'node2' },
      claimedBy: [],
      routeStep,
      toBackend: toBackend(true),
    });
    expect(result).toMatchObject({
      verdict: 'DROPPED',
      reason: 'policy-denied-ingress',
      backend: 'default/web:80',
      route: { kind: 'Ingress', name: 'default/app' },
    });
    expect(text.split('\n').at(-1)).toBe(
      `DROPPED: routed by Ingress default/app (app.example.com/api (Prefix)) in ${CTL} to Service default/web; then stopped at node2's agent: policy-denied-ingress (… isolated by default/web-deny-all; no rule allowed it): a policy drop is silent, so the controller's connect times out and it answers 504 Gateway Timeout`,
    );
  });

  it('leg 1 dropped before the controller: that leg’s verdict, said on the way to the controller', () => {
    const t = composeHttpTrace({
      target: parseHttpTarget('http://app.example.com/api')!,
      src: SRC,
      toController: toController(
        'DROPPED',
        [{ where: 'node1 agent', what: 'drop: policy-denied-egress (…)' }],
        "stopped at node1's agent: policy-denied-egress (…)",
      ),
      frontend,
      claimedBy: ['Ingress default/app'],
    });
    expect(t.result.verdict).toBe('DROPPED');
    expect(t.text.split('\n').at(-1)).toBe(
      "DROPPED: on the way to the ingress controller (Service ingress-nginx/ingress-nginx-controller): stopped at node1's agent: policy-denied-egress (…)",
    );
  });

  it('DNS leading elsewhere than the controller: traced where it goes, and said why no Ingress routes it', () => {
    const leg: PacketLeg = {
      result: {
        layers: [
          { where: 'client', what: 'dns: A app.example.com. @10.96.0.10 -> NOERROR 172.28.0.200' },
          { where: 'node1 agent', what: 'egress: out of eth0 to 172.28.0.200' },
        ],
        verdict: 'DELIVERED',
        summary: 'handed to the underlay for 172.28.0.200: outside the cluster, not seen arriving',
      },
      dnsLayers: 1,
      address: '172.28.0.200',
    };
    const t = composeHttpTrace({
      target: parseHttpTarget('http://app.example.com/api')!,
      src: SRC,
      toController: leg,
      claimedBy: ['Ingress default/app'],
    });
    expect(t.text.split('\n').slice(-2)).toEqual([
      ' 3. client       http: app.example.com leads to 172.28.0.200, not to an ingress controller: Ingress default/app route this host only for requests that reach the controller (point the name at its EXTERNAL-IP: DNS, or hostAliases in the pod)',
      'DELIVERED: handed to the underlay for 172.28.0.200: outside the cluster, not seen arriving; not through the ingress controller',
    ]);
  });

  it('a NodePort of another node with externalTrafficPolicy Local and no controller pod there: dropped, said not traced', () => {
    const leg: PacketLeg = {
      result: {
        layers: [{ where: 'node1 agent', what: 'egress: out of eth0 to 172.28.0.13' }],
        verdict: 'DELIVERED',
        summary: 'handed to the underlay for 172.28.0.13: outside the cluster, not seen arriving',
      },
      dnsLayers: 0,
      address: '172.28.0.13',
    };
    const np = { ...frontend, type: 'NodePort', address: '172.28.0.13', port: 30086 };
    const t = composeHttpTrace({
      target: parseHttpTarget('http://172.28.0.13:30086/api')!,
      src: SRC,
      toController: leg,
      frontend: np,
      claimedBy: [],
      nodePort: { node: 'node3', localOnly: true },
    });
    expect(t.text.split('\n').slice(1)).toEqual([
      " 1. client       ingress: 172.28.0.13:30086 is a NodePort of Service ingress-nginx/ingress-nginx-controller: to the controller pods' :80",
      ' 2. node1 agent  egress: out of eth0 to 172.28.0.13',
      ' 3. node3 agent  nodeport: 172.28.0.13:30086 (externalTrafficPolicy Local: only a controller pod on that node) to none: no controller pod runs there, so its agent drops the connection (etp-local-no-endpoint); not followed packet by packet past the masquerade',
      'DROPPED: NodePort 30086 of node3: Service ingress-nginx/ingress-nginx-controller has externalTrafficPolicy Local and no controller pod on node3',
    ]);
  });
});

describe('the route step', () => {
  it('HTTPS: the certificate chosen by SNI, the rewrite, the rate limit; the ssl-redirect of plain HTTP stops as REDIRECTED', () => {
    const tlsApp = ingress(
      'default',
      'app',
      {
        tls: [{ hosts: ['app.example.com'], secretName: 'app-tls' }],
        rules: [rule('app.example.com', p('/api', 'Prefix', 'web'))],
      },
      { 'nginx.ingress.kubernetes.io/rewrite-target': '/', 'nginx.ingress.kubernetes.io/limit-rps': '10' },
    );
    const objs = [nginx, web, tlsSecret('default', 'app-tls', CERTS.app), tlsApp];
    expect(explainRoute(step(objs, 'https://app.example.com/api/x')).layers.map((l) => l.what)).toEqual([
      'listener: :443 (HTTPS) GET https://app.example.com/api/x, Host app.example.com',
      'tls: SNI app.example.com -> certificate CN=app.example.com (DNS:app.example.com)',
      'route: Ingress default/app, app.example.com/api (Prefix)',
      'rewrite: path -> /',
      'rate limit: 10 requests/s per client (burst 50): over it, 429',
      'backend: Service default/web:80 (ClusterIP 10.96.1.2:80)',
    ]);
    const http = explainRoute(step(objs, 'http://app.example.com/api/x'));
    expect(http.stop).toEqual({ verdict: 'REDIRECTED', status: 308, reason: '308 to https://app.example.com/api/x' });
    expect(ladder({ routeStep: http }).split('\n').at(-1)).toBe(
      `REDIRECTED: ${CTL} redirects (Ingress default/app, app.example.com/api (Prefix)): 308 to https://app.example.com/api/x`,
    );
    const noCert = explainRoute(step([nginx, web, app], 'https://app.example.com/api'));
    expect(noCert.layers[1].what).toBe(
      "tls: no Secret's certificate for SNI app.example.com: the controller presents its default (fake) certificate, which a verifying client refuses",
    );
  });

  it('a Gateway API canary: the weights and shares, the heaviest followed; a weight 0 is never followed', () => {
    const objs = [
      gatewayClass('cilium'),
      gateway('infra', 'gw', [
        { name: 'http', port: 8080, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
      ]),
      svc('app', 'api-v2', '10.96.3.5'),
      svc('app', 'api-v3', '10.96.3.6'),
      httpRoute('app', 'canary', {
        parentRefs: [{ name: 'gw', namespace: 'infra' }],
        hostnames: ['api.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/v2' } }],
            backendRefs: [
              { name: 'api-v2', port: 80, weight: 90 },
              { name: 'api-v3', port: 80, weight: 10 },
            ],
          },
        ],
      }),
    ];
    const s = explainRoute(step(objs, 'http://api.example.com:8080/v2/users'));
    expect(s.layers.slice(1).map((l) => l.what)).toEqual([
      'route: HTTPRoute app/canary, rules[0].matches[0]',
      'backend: by weight, each request on its own: app/api-v2:80 weight 90 (90%), app/api-v3:80 weight 10 (10%); following the heaviest, Service app/api-v2:80 (ClusterIP 10.96.3.5:80)',
    ]);
    expect(s.next).toMatchObject({ service: 'app/api-v2', address: '10.96.3.5' });
    expect(
      followedBackend([
        { service: 'a/x', port: 80, address: '10.96.0.1', weight: 0 },
        { service: 'a/y', port: 80, address: '10.96.0.2', weight: 1 },
      ])?.service,
    ).toBe('a/y');
    expect(followedBackend([{ service: 'a/x', port: 80, address: '10.96.0.1', weight: 0 }])).toBeUndefined();
  });
});
