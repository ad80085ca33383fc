import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { OPTS, req } from '../support/ingress-cluster.js';
import { compileRoutes, type ClusterObjects } from '../../../src/ingress/index.js';

// compileRoutes takes whatever the API server holds: a malformed object must
// read as "missing" (a 404, a 503, a condition), never throw — a throw would
// leave the controller serving stale routes. Random objects shaped roughly
// like the real ones, in every list, then requests of every kind.

const LISTS: (keyof ClusterObjects)[] = [
  'ingresses',
  'ingressClasses',
  'gatewayClasses',
  'gateways',
  'httpRoutes',
  'referenceGrants',
  'services',
  'secrets',
  'namespaces',
];
const junk = fc.oneof(
  fc.anything(),
  fc.constant(null),
  fc.string(),
  fc.integer(),
  fc.array(fc.anything(), { maxLength: 3 }),
);
const shaped = fc.record({
  kind: fc.constantFrom('Ingress', 'Gateway', 'HTTPRoute', 'Service', 'Secret'),
  metadata: fc.oneof(
    junk,
    fc.record({
      name: fc.oneof(fc.string(), junk),
      namespace: fc.oneof(fc.constantFrom('default', 'app'), junk),
      annotations: fc.oneof(
        junk,
        fc.dictionary(
          fc.constantFrom(
            'nginx.ingress.kubernetes.io/rewrite-target',
            'nginx.ingress.kubernetes.io/use-regex',
            'nginx.ingress.kubernetes.io/limit-rps',
            'kubernetes.io/ingress.class',
          ),
          fc.oneof(fc.string(), junk),
        ),
      ),
    }),
  ),
  spec: fc.oneof(
    junk,
    fc.record({
      ingressClassName: fc.oneof(fc.constant('nginx'), junk),
      gatewayClassName: fc.oneof(fc.constant('cilium'), junk),
      controller: fc.oneof(fc.constant(OPTS.ingressController), junk),
      controllerName: fc.oneof(fc.constant(OPTS.gatewayController), junk),
      rules: fc.oneof(
        junk,
        fc.array(
          fc.record({
            host: fc.oneof(fc.constantFrom('a.test', '*.test', ''), junk),
            http: fc.oneof(
              junk,
              fc.record({
                paths: fc.oneof(
                  junk,
                  fc.array(
                    fc.record({
                      path: fc.oneof(fc.constantFrom('/', '/a(', '/x/'), junk),
                      pathType: fc.oneof(fc.constantFrom('Exact', 'Prefix', 'ImplementationSpecific'), junk),
                      backend: junk,
                    }),
                    { maxLength: 3 },
                  ),
                ),
              }),
            ),
            matches: junk,
            backendRefs: junk,
            filters: junk,
          }),
          { maxLength: 3 },
        ),
      ),
      listeners: fc.oneof(
        junk,
        fc.array(
          fc.record({
            name: junk,
            protocol: fc.oneof(fc.constantFrom('HTTP', 'HTTPS'), junk),
            port: fc.oneof(fc.constantFrom(80, 443, 8080), junk),
            hostname: junk,
            tls: junk,
            allowedRoutes: junk,
          }),
          { maxLength: 3 },
        ),
      ),
      parentRefs: fc.oneof(
        junk,
        fc.array(
          fc.record({ name: fc.oneof(fc.constant('gw'), junk), namespace: junk, sectionName: junk, port: junk }),
          { maxLength: 2 },
        ),
      ),
      hostnames: junk,
      tls: junk,
      defaultBackend: junk,
      ports: junk,
      clusterIP: junk,
    }),
  ),
  data: junk,
});

describe('compileRoutes on malformed objects', () => {
  it('never throws, and route()/certificate()/describe() answer for any request', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...LISTS), fc.oneof(shaped, junk)), { maxLength: 12 }), (items) => {
        const objects: Partial<ClusterObjects> = {};
        for (const [list, o] of items) ((objects[list] ??= []) as unknown[]).push(o);
        const c = compileRoutes(objects, OPTS);
        for (const url of [
          'http://a.test/',
          'https://b.test/x/y?z=1',
          'http://a.test:8080/a(',
          'https://x.test:443/',
        ]) {
          const d = c.table.route(req(url));
          expect(['proxy', 'redirect', 'error']).toContain(d.kind);
          c.table.certificate('a.test', 443);
        }
        expect(Array.isArray(c.table.describe())).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
