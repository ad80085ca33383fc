import { describe, it, expect } from 'vitest';
import {
  CERTS,
  OPTS,
  cluster,
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
import { compileRoutes, ingressStatus, ourIngresses, type Obj } from '../../../src/ingress/index.js';

// Ingress beyond paths: which Ingresses are ours, merging several Ingresses
// for one host (ingress-nginx: the oldest keeps a path), default backends,
// Service ports by number and name, what a missing Service, port or Secret
// does (503 with the reason, a Warning event), TLS certificates by SNI, and
// the status the controller writes.

const nginx = ingressClass('nginx');
const api = svc('default', 'api-service', '10.96.0.12', [
  { port: 80, name: 'http' },
  { port: 9090, name: 'metrics' },
]);
const web = svc('default', 'frontend-service', '10.96.0.13');
const warnings = (events: { type: string; reason: string; message: string }[]) =>
  events.map((e) => `${e.type} ${e.reason}: ${e.message}`);

describe('which Ingresses are ours', () => {
  const mine = (ing: Obj, ...classes: Obj[]) => ourIngresses(cluster(ing, ...classes), OPTS).length === 1;
  const other = ingressClass('traefik', 'traefik.io/ingress-controller');
  const base = (spec: Obj, annotations?: Record<string, string>) => {
    const i = ingress('default', 'x', spec, annotations);
    if (!('ingressClassName' in spec)) delete i.spec.ingressClassName;
    return i;
  };

  it('spec.ingressClassName naming an IngressClass whose controller is ours', () => {
    expect(mine(base({ ingressClassName: 'nginx' }), nginx)).toBe(true);
    expect(mine(base({ ingressClassName: 'traefik' }), nginx, other)).toBe(false);
    expect(mine(base({ ingressClassName: 'missing' }), nginx)).toBe(false);
  });

  it('no class: the IngressClass marked is-default-class, when it is ours', () => {
    expect(mine(base({}), ingressClass('nginx', OPTS.ingressController, true))).toBe(true);
    expect(mine(base({}), nginx)).toBe(false);
    expect(mine(base({}), nginx, ingressClass('traefik', 'traefik.io/ingress-controller', true))).toBe(false);
  });

  it('the legacy kubernetes.io/ingress.class annotation names the class, and goes before the field (as ingress-nginx reads it)', () => {
    expect(mine(base({}, { 'kubernetes.io/ingress.class': 'nginx' }), nginx)).toBe(true);
    expect(mine(base({ ingressClassName: 'nginx' }, { 'kubernetes.io/ingress.class': 'traefik' }), nginx, other)).toBe(
      false,
    );
  });

  it('an Ingress of another class adds no route', () => {
    const t = compile(
      nginx,
      web,
      ingress('default', 'theirs', {
        ingressClassName: 'traefik',
        rules: [rule('a.test', p('/', 'Prefix', 'frontend-service'))],
      }),
    ).table;
    expect(short(t.route(req('http://a.test/')))).toBe('error 404 no Ingress rule matches host a.test path /');
  });
});

describe('backends', () => {
  const route = (backendPort: number | string, ...objs: Obj[]) => {
    const c = compile(
      nginx,
      ...objs,
      ingress('default', 'b', { rules: [rule('b.test', p('/', 'Prefix', 'api-service', backendPort))] }),
    );
    return { d: c.table.route(req('http://b.test/x')), events: warnings(c.events) };
  };

  it('a Service port by number or by name → the Service’s ClusterIP and port', () => {
    for (const port of [80, 'http']) {
      const { d, events } = route(port, api);
      expect(d).toEqual({
        kind: 'proxy',
        route: { kind: 'Ingress', name: 'default/b', rule: 'b.test/ (Prefix)' },
        backends: [{ service: 'default/api-service', port: 80, address: '10.96.0.12', weight: 1 }],
      });
      expect(events).toEqual([]);
    }
    const byName = route('metrics', api).d;
    expect(byName.kind === 'proxy' && byName.backends[0].port).toBe(9090);
  });

  it('a missing Service: 503 with the reason, and a Warning event on the Ingress', () => {
    const { d, events } = route(80);
    expect(short(d)).toBe('error 503 Service default/api-service not found');
    expect(d.kind === 'error' && d.route?.name).toBe('default/b');
    expect(events).toEqual([
      'Warning ServiceNotFound: Service default/api-service not found: b.test/ (Prefix) answers 503',
    ]);
  });

  it('a missing port (number or name): 503 naming it', () => {
    expect(short(route(81, api).d)).toBe('error 503 Service default/api-service has no port 81');
    expect(short(route('grpc', api).d)).toBe('error 503 Service default/api-service has no port named "grpc"');
    expect(route(81, api).events).toEqual([
      'Warning PortNotFound: Service default/api-service has no port 81: b.test/ (Prefix) answers 503',
    ]);
  });

  it('a headless or ExternalName Service has no ClusterIP to proxy to: 503 with the reason', () => {
    expect(short(route(80, svc('default', 'api-service', 'None')).d)).toBe(
      'error 503 Service default/api-service is headless (clusterIP: None): there is no ClusterIP to proxy to',
    );
    const ext = svc('default', 'api-service', '', [{ port: 80 }], {
      type: 'ExternalName',
      externalName: 'api.example.net',
    });
    expect(short(route(80, ext).d)).toBe(
      'error 503 Service default/api-service is type ExternalName (api.example.net): podwire proxies only to a ClusterIP',
    );
  });
});

describe('several Ingresses for one host merge (ingress-nginx)', () => {
  it('paths from every Ingress serve the host; on the same path and type the oldest Ingress wins, and the newer one hears so', () => {
    const older = ingress('default', 'older', { rules: [rule('app.test', p('/api', 'Prefix', 'api-service'))] });
    const newer = ingress('default', 'newer', {
      rules: [
        rule(
          'app.test',
          p('/api/', 'Prefix', 'frontend-service'),
          p('/', 'Prefix', 'frontend-service'),
          p('/api', 'Exact', 'frontend-service'),
        ),
      ],
    });
    // listed newest first: the age decides, not the order
    const c = compile(nginx, api, web, newer, older);
    const to = (path: string) => short(c.table.route(req(`http://app.test${path}`)));
    expect(to('/api/x')).toBe('proxy default/api-service:80');
    expect(to('/api')).toBe('proxy default/frontend-service:80'); // Exact /api is another type: allowed, and Exact wins
    expect(to('/other')).toBe('proxy default/frontend-service:80');
    expect(warnings(c.events)).toEqual([
      'Warning PathConflict: app.test/api/ (Prefix) is already routed by Ingress default/older (the oldest Ingress wins); this one is ignored',
    ]);
    expect(c.events[0]).toMatchObject({ kind: 'Ingress', namespace: 'default', name: 'newer' });
    expect(c.table.describe()).toEqual([
      'app.test / (Prefix) → default/frontend-service:80 (10.96.0.13:80) · Ingress default/newer',
      'app.test /api (Exact) → default/frontend-service:80 (10.96.0.13:80) · Ingress default/newer',
      'app.test /api (Prefix) → default/api-service:80 (10.96.0.12:80) · Ingress default/older',
      'Ingress default/newer ignores app.test/api/ (Prefix): already routed by Ingress default/older, the older',
    ]);
  });

  it('equal creationTimestamps: ingress-nginx’s tie-break, namespace/name descending, keeps the path', () => {
    const a = ingress('default', 'a', { rules: [rule('app.test', p('/', 'Prefix', 'api-service'))] });
    const b = ingress('default', 'b', { rules: [rule('app.test', p('/', 'Prefix', 'frontend-service'))] });
    b.metadata.creationTimestamp = a.metadata.creationTimestamp;
    expect(short(compile(nginx, api, web, a, b).table.route(req('http://app.test/')))).toBe(
      'proxy default/frontend-service:80',
    );
  });

  it('Ingresses in other namespaces route to Services of their own namespace', () => {
    const c = compile(
      nginx,
      svc('shop', 'api-service', '10.96.7.7'),
      ingress('shop', 'api', { rules: [rule('shop.test', p('/', 'Prefix', 'api-service'))] }),
    );
    expect(short(c.table.route(req('http://shop.test/')))).toBe('proxy shop/api-service:80');
  });
});

describe('spec.defaultBackend', () => {
  it('serves what no path of the Ingress’s hosts matches; an Ingress with only a defaultBackend catches every other host', () => {
    const withRules = ingress('default', 'r', {
      defaultBackend: { service: { name: 'frontend-service', port: { number: 80 } } },
      rules: [rule('app.test', p('/api', 'Prefix', 'api-service'))],
    });
    const catchAll = ingress('default', 'all', {
      defaultBackend: { service: { name: 'api-service', port: { name: 'metrics' } } },
    });
    const t = compile(nginx, api, web, withRules, catchAll).table;
    expect(short(t.route(req('http://app.test/api')))).toBe('proxy default/api-service:80');
    expect(short(t.route(req('http://app.test/nothing')))).toBe('proxy default/frontend-service:80');
    const d = t.route(req('http://unknown.test/x'));
    expect(short(d)).toBe('proxy default/api-service:9090');
    expect(d.route).toEqual({ kind: 'Ingress', name: 'default/all', rule: 'default backend' });
  });
});

describe('TLS', () => {
  const tls = (secretName: string, hosts = ['app.example.com']) =>
    ingress('default', 'tls', {
      tls: [{ hosts, secretName }],
      rules: [rule('app.example.com', p('/', 'Prefix', 'frontend-service'))],
    });

  it('the Secret named in spec.tls is served to its hosts’ SNI on the HTTPS port; other names get the default certificate', () => {
    const c = compile(nginx, web, tlsSecret('default', 'app-tls', CERTS.app), tls('app-tls'));
    expect(c.table.certificate('app.example.com', 443)).toEqual(CERTS.app);
    expect(c.table.certificate('APP.example.com', 443)).toEqual(CERTS.app);
    expect(c.table.certificate('other.example.com', 443)).toEqual(OPTS.defaultCertificate);
    expect(c.table.certificate(undefined, 443)).toEqual(OPTS.defaultCertificate);
    expect(c.events).toEqual([]);
    expect(short(c.table.route(req('https://app.example.com/')))).toBe('proxy default/frontend-service:80');
  });

  it('stringData is read too; a wildcard TLS host covers one label', () => {
    const s = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: 'default', name: 'w' },
      stringData: { 'tls.crt': CERTS.wild.cert, 'tls.key': CERTS.wild.key },
    };
    const t = compile(
      nginx,
      web,
      s,
      ingress('default', 'w', {
        tls: [{ hosts: ['*.example.com'], secretName: 'w' }],
        rules: [rule('*.example.com', p('/', 'Prefix', 'frontend-service'))],
      }),
    ).table;
    expect(t.certificate('a.example.com', 443)).toEqual(CERTS.wild);
    expect(t.certificate('a.b.example.com', 443)).toEqual(OPTS.defaultCertificate);
  });

  it('a missing Secret: Warning event and the default certificate — the host still counts as TLS (ssl-redirect still redirects)', () => {
    const c = compile(nginx, web, tls('app-tls-cert'));
    expect(c.table.certificate('app.example.com', 443)).toEqual(OPTS.defaultCertificate);
    expect(warnings(c.events)).toEqual([
      'Warning SecretNotFound: TLS Secret default/app-tls-cert not found: app.example.com gets the default certificate',
    ]);
    expect(short(c.table.route(req('http://app.example.com/x')))).toBe('redirect 308 https://app.example.com/x');
  });

  it('a Secret that is not a certificate, or whose certificate does not name the host: the default certificate, with the reason', () => {
    const junk = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: 'default', name: 'junk' },
      data: { 'tls.crt': Buffer.from('nope').toString('base64'), 'tls.key': Buffer.from('nope').toString('base64') },
    };
    const c1 = compile(nginx, web, junk, tls('junk'));
    expect(warnings(c1.events)).toEqual([
      'Warning InvalidCertificate: Secret default/junk: tls.crt is not a PEM certificate: app.example.com gets the default certificate',
    ]);
    const c2 = compile(nginx, web, tlsSecret('default', 'other', CERTS.other), tls('other'));
    expect(c2.table.certificate('app.example.com', 443)).toEqual(OPTS.defaultCertificate);
    expect(warnings(c2.events)).toEqual([
      'Warning CertificateHostMismatch: the certificate in Secret default/other does not name app.example.com: app.example.com gets the default certificate',
    ]);
    const mixed = tlsSecret('default', 'mixed', { cert: CERTS.app.cert, key: CERTS.other.key });
    expect(warnings(compile(nginx, web, mixed, tls('mixed')).events)).toEqual([
      'Warning InvalidCertificate: Secret default/mixed: tls.key does not belong to tls.crt: app.example.com gets the default certificate',
    ]);
  });

  it('a tls entry without hosts serves the rule hosts its certificate names', () => {
    const t = compile(
      nginx,
      web,
      tlsSecret('default', 'app-tls', CERTS.app),
      ingress('default', 'h', {
        tls: [{ secretName: 'app-tls' }],
        rules: [rule('app.example.com', p('/', 'Prefix', 'frontend-service'))],
      }),
    ).table;
    expect(t.certificate('app.example.com', 443)).toEqual(CERTS.app);
  });
});

describe('status', () => {
  it('ingressStatus writes status.loadBalancer.ingress with the controller’s address', () => {
    const ing = ingress('default', 'app-ingress', { rules: [] });
    expect(ingressStatus(ing, [{ ip: '172.28.0.240' }])).toEqual({
      resource: 'ingresses',
      namespace: 'default',
      name: 'app-ingress',
      status: { loadBalancer: { ingress: [{ ip: '172.28.0.240' }] } },
    });
  });

  it('compileRoutes accepts partial objects and always lists the Ingress ports', () => {
    const c = compileRoutes({}, OPTS);
    expect(c.table.listeners).toEqual([
      { port: 80, tls: false },
      { port: 443, tls: true },
    ]);
    expect(c.statuses).toEqual([]);
    expect(short(c.table.route(req('http://a.test/')))).toBe('error 404 no Ingress rule matches host a.test path /');
    expect(short(c.table.route(req('http://a.test:8080/')))).toBe('error 404 nothing listens for HTTP on port 8080');
  });
});

describe('backends that are not Services', () => {
  it('a resource backend (spec allows it; podwire cannot proxy to it): 503 with the reason', () => {
    const ing = ingress('default', 'res', {
      rules: [
        rule('r.test', {
          path: '/',
          pathType: 'Prefix',
          backend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' } },
        }),
      ],
    });
    const c = compile(nginx, ing);
    expect(short(c.table.route(req('http://r.test/')))).toBe(
      'error 503 backend StorageBucket static-assets is not a Service: podwire proxies only to Services',
    );
    expect(c.events.map((e) => e.reason)).toEqual(['ServiceNotFound']);
  });
});
