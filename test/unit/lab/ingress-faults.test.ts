// The Ingress faults as data: registered with their targets, each edit
// picking the path or Secret its summary names, and the broken Ingress run
// through the project's own routing model (compileRoutes, as the controller
// compiles it) — so each fault does what its summary says without a lab
// (test/integration/ingress-faults.test.ts then shows it on real requests).

import { describe, expect, it } from 'vitest';
import { SCENARIOS, scenarioHelpLines } from '../../../src/lab/faults.js';
import {
  backendMissingPath,
  exactNotPrefixPath,
  firstCertificate,
  ingressPaths,
  misspell,
  routeLineFor,
  secretCertificate,
  tlsSecretOf,
  withPath,
  INGRESS_DEFAULT_TARGET,
} from '../../../src/lab/ingress-faults.js';
import type { Obj } from '../../../src/ingress/index.js';
import {
  CERTS,
  OPTS,
  compile,
  example,
  ingress,
  ingressClass,
  p,
  req,
  rule,
  short,
  svc,
  tlsSecret,
} from '../support/ingress-cluster.js';

const article = example('000-ingress-tls-path-routing.yaml')[0]; // /api → api-service, / → frontend-service, TLS app-tls-cert
const served: Obj = {
  ...article,
  metadata: { ...article.metadata, namespace: 'default', creationTimestamp: '2025-01-01T00:00:00Z' },
};
const lab = [
  ingressClass('nginx', OPTS.ingressController, true),
  svc('default', 'api-service', '10.96.0.20'),
  svc('default', 'frontend-service', '10.96.0.21'),
  svc('default', 'web', '10.96.0.80'),
];
const appSecret = tlsSecret('default', 'app-tls-cert', CERTS.app);
// an Ingress with no catch-all: what is not under /api is nobody's
const webOnly = ingress('default', 'web', { rules: [rule('web.example.com', p('/api', 'Prefix', 'web'))] });

describe('Ingress scenarios', () => {
  it('are registered last, on an Ingress, the articles’ app-ingress by default', () => {
    const ours = SCENARIOS.slice(-3);
    expect(ours.map((s) => [s.name, s.target, s.defaultTarget])).toEqual([
      ['ingress-backend-missing', 'ingress', INGRESS_DEFAULT_TARGET],
      ['ingress-exact-not-prefix', 'ingress', INGRESS_DEFAULT_TARGET],
      ['ingress-tls-secret-missing', 'ingress', INGRESS_DEFAULT_TARGET],
    ]);
    expect(INGRESS_DEFAULT_TARGET).toBe(article.metadata.name);
    for (const s of ours) expect(s.findWith).toMatch(/podwire (describe|trace|get)/);
  });

  it('lab break --help lines up every scenario, the longest name included', () => {
    const lines = scenarioHelpLines();
    expect(lines).toHaveLength(SCENARIOS.length);
    const at = (l: string) => l.indexOf('<');
    expect(new Set(lines.map(at)).size).toBe(1);
    expect(lines.find((l) => l.includes('ingress-tls-secret-missing'))).toMatch(
      /^ {2}ingress-tls-secret-missing {2}<ingress> {5}delete the TLS Secret/,
    );
    const summaries = lines.map((l) => l.indexOf(SCENARIOS[lines.indexOf(l)].summary));
    expect(new Set(summaries).size).toBe(1);
  });

  it('misspell swaps two letters past the middle, or appends an x', () => {
    expect(misspell('api-service')).toBe('api-srevice');
    expect(misspell('web')).toBe('wbe');
    expect(misspell('backend-service')).toBe('backend-esrvice');
    expect(misspell('aa')).toBe('aax');
    for (const n of ['frontend-service', 'x', 'api-v2', 'ab-11']) expect(misspell(n)).not.toBe(n);
  });

  it('ingress-backend-missing: the first path’s Service, misspelled, is a 503 naming it, and a Warning', () => {
    const at = backendMissingPath(served);
    expect([at.host, at.path, at.service]).toEqual(['app.example.com', '/api', 'api-service']);
    const broken = withPath(served, at, (x) => (x.backend.service.name = misspell(at.service!)));
    expect(served.spec.rules[0].http.paths[0].backend.service.name).toBe('api-service'); // a copy was changed
    const c = compile(...lab, appSecret, broken);
    expect(short(c.table.route(req('https://app.example.com/api/users')))).toBe(
      'error 503 Service default/api-srevice not found',
    );
    expect(short(c.table.route(req('https://app.example.com/')))).toBe('proxy default/frontend-service:80');
    expect(
      c.events
        .filter((e) => e.type === 'Warning' && e.reason === 'ServiceNotFound')
        .map((e) => `${e.kind} ${e.name}: ${e.message}`),
    ).toEqual(['Ingress app-ingress: Service default/api-srevice not found: app.example.com/api (Prefix) answers 503']);
    // the line break waits for in the controller's /podwire/routes
    const line = routeLineFor(c.table.describe(), 'default/app-ingress', at, 'Prefix');
    expect(line).toContain('→ default/api-srevice:');
    expect(
      routeLineFor(compile(...lab, appSecret, served).table.describe(), 'default/app-ingress', at, 'Prefix'),
    ).not.toContain('api-srevice');
  });

  it('ingress-exact-not-prefix: /api still matches, /api/users is a 404 — or, with a / path, goes to its backend', () => {
    const at = exactNotPrefixPath(webOnly);
    expect([at.path, at.pathType]).toEqual(['/api', 'Prefix']);
    const broken = withPath(webOnly, at, (x) => (x.pathType = 'Exact'));
    const c = compile(...lab, broken);
    expect(short(c.table.route(req('http://web.example.com/api')))).toBe('proxy default/web:80');
    expect(short(c.table.route(req('http://web.example.com/api/users')))).toBe(
      'error 404 no Ingress rule matches host web.example.com path /api/users',
    );
    expect(routeLineFor(c.table.describe(), 'default/web', at, 'Exact')).toMatch(
      /^web\.example\.com \/api \(Exact\) → default\/web:80/,
    );
    expect(routeLineFor(compile(...lab, webOnly).table.describe(), 'default/web', at, 'Exact')).toBeUndefined();
    // the article's Ingress: / catches what /api no longer does
    const a = exactNotPrefixPath(served);
    const c2 = compile(
      ...lab,
      appSecret,
      withPath(served, a, (x) => (x.pathType = 'Exact')),
    );
    expect(short(c2.table.route(req('https://app.example.com/api/users')))).toBe('proxy default/frontend-service:80');
  });

  it('ingress-exact-not-prefix skips /, which Exact would not change for other paths; an Ingress with nothing else says so', () => {
    const rootFirst = ingress('default', 'r', {
      rules: [rule('a.example.com', p('/', 'Prefix', 'web'), p('/shop', 'Prefix', 'web'))],
    });
    expect(exactNotPrefixPath(rootFirst).path).toBe('/shop');
    expect(() =>
      exactNotPrefixPath(ingress('default', 'only-root', { rules: [rule('a.example.com', p('/', 'Prefix', 'web'))] })),
    ).toThrow('Ingress default/only-root has no Prefix path other than /');
    expect(() => backendMissingPath(ingress('default', 'empty', { rules: [] }))).toThrow(
      'has no path with a Service backend',
    );
  });

  it('ingress-tls-secret-missing: the first tls entry’s Secret and host; without it the host gets the default certificate and a Warning', () => {
    expect(tlsSecretOf(served)).toEqual({ secret: 'app-tls-cert', host: 'app.example.com' });
    expect(() => tlsSecretOf(webOnly)).toThrow('names no TLS Secret');
    const c = compile(...lab, served);
    expect(c.table.certificate('app.example.com', 443)).toEqual(OPTS.defaultCertificate);
    expect(compile(...lab, appSecret, served).table.certificate('app.example.com', 443)).toEqual(CERTS.app);
    expect(c.events.filter((e) => e.reason === 'SecretNotFound').map((e) => e.message)).toEqual([
      'TLS Secret default/app-tls-cert not found: app.example.com gets the default certificate',
    ]);
  });

  it('compares certificates by their PEM body: the Secret’s tls.crt and what openssl s_client prints', () => {
    const body = firstCertificate(CERTS.app.cert);
    expect(body).toMatch(/^[A-Za-z0-9+/=]{100,}$/);
    expect(secretCertificate(appSecret)).toBe(body);
    const sClient = `CONNECTED(00000003)\n---\nServer certificate\n${CERTS.app.cert}\nsubject=CN = app.example.com\n---\n`;
    expect(firstCertificate(sClient)).toBe(body);
    expect(firstCertificate('no certificate')).toBe('');
    expect(firstCertificate(CERTS.wild.cert)).not.toBe(body);
  });

  it('ingressPaths lists every path in order with where it sits', () => {
    expect(
      ingressPaths(served).map((x) => `${x.rule}.${x.index} ${x.host}${x.path} ${x.pathType} ${x.service}`),
    ).toEqual(['0.0 app.example.com/api Prefix api-service', '0.1 app.example.com/ Prefix frontend-service']);
  });
});
