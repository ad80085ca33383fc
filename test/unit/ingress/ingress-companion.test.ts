import { describe, it, expect } from 'vitest';
import {
  CERTS,
  compile,
  example,
  gatewayClass,
  ingressClass,
  req,
  short,
  tlsSecret,
  OPTS,
} from '../support/ingress-cluster.js';
import type { Obj } from '../../../src/ingress/index.js';

// examples/companions/ingress-and-gateway.yaml: what the articles' Ingress
// and Gateway manifests name but do not give. Checked here without a lab:
// every Deployment is selected by its Service on a port it declares, and
// with the file (and the Secrets `podwire tls-secret` makes) the articles'
// manifests compile to routes with no Warning but the rate-limit one.
// test/integration/ingress-show.test.ts sends the traffic.

const companion = example('companions/ingress-and-gateway.yaml');
const kinds = (k: string) => companion.filter((o) => o.kind === k);
let ip = 10;
/** The companion's Services as the API server serves them: namespaced, with a cluster IP. */
const served = (o: Obj): Obj =>
  o.kind === 'Service'
    ? { ...o, metadata: { namespace: 'default', ...o.metadata }, spec: { ...o.spec, clusterIP: `10.96.0.${ip++}` } }
    : o;
const objects = companion.map(served);
const lab = [ingressClass('nginx', OPTS.ingressController, true), gatewayClass('cilium')];
const secrets = [
  tlsSecret('default', 'app-tls-cert', CERTS.app),
  tlsSecret('default', 'tls-secret', CERTS.app),
  tlsSecret('infra', 'wildcard-cert', CERTS.wild),
];

describe('examples/companions/ingress-and-gateway.yaml', () => {
  it('gives the namespaces and Services the articles name, each Service selecting its Deployment’s pods on a declared port', () => {
    expect(kinds('Namespace').map((n) => n.metadata.name)).toEqual(['infra', 'app-team']);
    const at = (o: Obj) => `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
    expect(kinds('Service').map((s) => `${at(s)}:${s.spec.ports[0].port}`)).toEqual([
      'default/api-service:80',
      'default/frontend-service:80',
      'default/backend-service:8080',
      'app-team/api-v2:80',
      'app-team/api-v3:80',
    ]);
    for (const s of kinds('Service')) {
      const d = kinds('Deployment').find((x) => at(x) === at(s))!;
      expect(d.spec.selector.matchLabels, at(s)).toEqual(s.spec.selector);
      expect(d.spec.template.metadata.labels, at(s)).toEqual(s.spec.selector);
      const ports = d.spec.template.spec.containers.flatMap((c: Obj) => c.ports.map((p: Obj) => p.name));
      expect(ports, at(s)).toContain(s.spec.ports[0].targetPort);
    }
    // no two Services select the same pods
    const selectors = kinds('Service').map(
      (s) => `${s.metadata.namespace ?? 'default'} ${JSON.stringify(s.spec.selector)}`,
    );
    expect(new Set(selectors).size).toBe(selectors.length);
  });

  it('with it, 000’s Ingress routes both paths and warns only about rate-limit', () => {
    const c = compile(...lab, ...objects, ...secrets, ...example('000-ingress-tls-path-routing.yaml'));
    expect(short(c.table.route(req('https://app.example.com/api/x')))).toBe('proxy default/api-service:80');
    expect(short(c.table.route(req('https://app.example.com/')))).toBe('proxy default/frontend-service:80');
    expect(c.table.certificate('app.example.com', 443)).toEqual(CERTS.app);
    expect(c.events.map((e) => e.reason)).toEqual(['NonStandardAnnotation']);
  });

  it('with it, 003’s Ingress routes /api to backend-service:8080; 003’s own backend-service (port 80 only) applied over it leaves /api a 503 that says why', () => {
    const article = example('003-ingress-path-routing-tls.yaml');
    const c = compile(...lab, ...objects, ...secrets, ...article);
    expect(short(c.table.route(req('https://app.example.com/api/users?id=7')))).toBe(
      'proxy default/backend-service:8080 /?id=7',
    );
    expect(c.events).toEqual([]);
    const articleSvc = served(example('003-service-clusterip.yaml')[0]);
    const replaced = compile(
      ...lab,
      ...objects.filter((o) => !(o.kind === 'Service' && o.metadata.name === 'backend-service')),
      articleSvc,
      ...secrets,
      ...article,
    );
    const d = replaced.table.route(req('https://app.example.com/api'));
    expect(d.kind === 'error' && [d.status, d.reason]).toEqual([
      503,
      'Service default/backend-service has no port 8080',
    ]);
  });

  it('with it, the Gateway’s canary has both backends and no unresolved reference', () => {
    const c = compile(...lab, ...objects, ...secrets, ...example('000-gateway-httproute-canary.yaml'));
    const d = c.table.route(req('https://api.example.com/v2/x'));
    expect(d.kind === 'proxy' && d.backends.map((b) => `${b.service} ${b.weight}`)).toEqual([
      'app-team/api-v2 90',
      'app-team/api-v3 10',
    ]);
    expect(c.events).toEqual([]);
  });
});
