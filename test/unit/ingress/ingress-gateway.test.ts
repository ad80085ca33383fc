import { describe, it, expect } from 'vitest';
import {
  CERTS,
  OPTS,
  compile,
  gateway,
  gatewayClass,
  httpRoute,
  namespace,
  referenceGrant,
  req,
  short,
  svc,
  tlsSecret,
} from '../support/ingress-cluster.js';
import { withGatewayAddresses, type Obj, type StatusUpdate } from '../../../src/ingress/index.js';

// Gateway API: GatewayClass, Gateway, listeners and HTTPRoute attachment,
// with the status conditions and reasons the spec (apis/v1 *_types.go) and
// its conformance tests expect.

const cls = gatewayClass('cilium');
const web = svc('web', 'web', '10.96.2.1');
const infraCert = tlsSecret('infra', 'cert', CERTS.wild);
const http = (name = 'http', port = 80, extra: Obj = {}) => ({ name, protocol: 'HTTP', port, ...extra });
const https = (name = 'https', port = 443, secret = 'cert', extra: Obj = {}) => ({
  name,
  protocol: 'HTTPS',
  port,
  tls: { mode: 'Terminate', certificateRefs: [{ name: secret, ...(extra.refExtra ?? {}) }] },
  ...extra.listener,
});
const all = { allowedRoutes: { namespaces: { from: 'All' } } };
const toWeb = (parentRef: Obj = { name: 'gw', namespace: 'infra' }, spec: Obj = {}) =>
  httpRoute('web', 'route', {
    parentRefs: [parentRef],
    rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
    ...spec,
  });

const statusOf = (s: StatusUpdate[], resource: string, name: string) =>
  s.find((x) => x.resource === resource && x.name === name)?.status;
/** "Type=Status/Reason" for each condition */
const conds = (cs: Obj[] | undefined) => (cs ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
const listener = (s: StatusUpdate[], gw: string, name: string) =>
  (statusOf(s, 'gateways', gw)?.listeners as Obj[]).find((l) => l.name === name);
const parent = (s: StatusUpdate[], route = 'route') => (statusOf(s, 'httproutes', route)?.parents as Obj[])?.[0];

describe('GatewayClass and Gateway', () => {
  it('a GatewayClass whose controllerName is ours is Accepted; others get no status', () => {
    const c = compile(cls, gatewayClass('other', 'example.com/other'));
    expect(c.statuses).toEqual([
      {
        resource: 'gatewayclasses',
        name: 'cilium',
        status: {
          conditions: [
            {
              type: 'Accepted',
              status: 'True',
              reason: 'Accepted',
              message: 'GatewayClass is accepted by podwire',
              observedGeneration: 1,
              lastTransitionTime: '2025-01-01T00:00:00Z',
            },
          ],
        },
      },
    ]);
  });

  it('a Gateway of another class is not ours: no status, no listener', () => {
    const c = compile(
      cls,
      gatewayClass('other', 'example.com/other'),
      gateway('infra', 'gw', [http('h', 8080)], 'other'),
    );
    expect(c.statuses.map((s) => s.resource)).toEqual(['gatewayclasses']);
    expect(c.table.listeners.map((l) => l.port)).toEqual([80, 443]);
  });

  it('HTTP and HTTPS listeners: Accepted, Programmed, ResolvedRefs, NoConflicts, supportedKinds HTTPRoute; their ports join the table', () => {
    const c = compile(cls, infraCert, gateway('infra', 'gw', [http('h', 8080), https('s', 8443)]));
    const s = statusOf(c.statuses, 'gateways', 'gw')!;
    expect(conds(s.conditions)).toEqual(['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    for (const name of ['h', 's']) {
      const l = listener(c.statuses, 'gw', name)!;
      expect(conds(l.conditions)).toEqual([
        'Accepted=True/Accepted',
        'Programmed=True/Programmed',
        'ResolvedRefs=True/ResolvedRefs',
        'Conflicted=False/NoConflicts',
      ]);
      expect(l.supportedKinds).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
      expect(l.attachedRoutes).toBe(0);
    }
    expect(c.table.listeners).toEqual([
      { port: 80, tls: false },
      { port: 443, tls: true },
      { port: 8080, tls: false },
      { port: 8443, tls: true },
    ]);
    expect(c.table.certificate('anything.example.com', 8443)).toEqual(CERTS.wild);
  });

  it('unsupported protocol: the listener is not Accepted; with no other listener neither is the Gateway', () => {
    const c = compile(cls, gateway('infra', 'gw', [{ name: 'tcp', protocol: 'TCP', port: 9000 }]));
    expect(conds(listener(c.statuses, 'gw', 'tcp')!.conditions).slice(0, 2)).toEqual([
      'Accepted=False/UnsupportedProtocol',
      'Programmed=False/Invalid',
    ]);
    expect(conds(statusOf(c.statuses, 'gateways', 'gw')!.conditions)).toEqual([
      'Accepted=False/ListenersNotValid',
      'Programmed=False/Invalid',
    ]);
    const c2 = compile(cls, gateway('infra', 'gw', [http('h', 8080), { name: 'tcp', protocol: 'TCP', port: 9000 }]));
    expect(conds(statusOf(c2.statuses, 'gateways', 'gw')!.conditions)).toEqual([
      'Accepted=True/ListenersNotValid',
      'Programmed=True/Programmed',
    ]);
  });
});

describe('listener certificateRefs', () => {
  const resolved = (...objs: Obj[]) => {
    const c = compile(cls, ...objs);
    const l = listener(c.statuses, 'gw', 's')!;
    return { conds: conds(l.conditions), message: l.conditions.find((x: Obj) => x.type === 'ResolvedRefs').message, c };
  };

  it('a Secret of the Gateway’s namespace: resolved and served', () => {
    expect(resolved(infraCert, gateway('infra', 'gw', [https('s', 8443)])).conds[2]).toBe(
      'ResolvedRefs=True/ResolvedRefs',
    );
  });

  it('missing, malformed, or not a Secret: ResolvedRefs=False InvalidCertificateRef, not Programmed, nothing served on the port', () => {
    const missing = resolved(gateway('infra', 'gw', [https('s', 8443, 'nope')]));
    expect(missing.conds).toEqual([
      'Accepted=True/Accepted',
      'Programmed=False/Invalid',
      'ResolvedRefs=False/InvalidCertificateRef',
      'Conflicted=False/NoConflicts',
    ]);
    expect(missing.message).toBe('Secret infra/nope not found');
    expect(missing.c.table.listeners.map((l) => l.port)).toEqual([80, 443]);
    expect(missing.c.events.map((e) => `${e.kind} ${e.name} ${e.type} ${e.reason}: ${e.message}`)).toEqual([
      'Gateway gw Warning InvalidCertificateRef: listener s: Secret infra/nope not found',
    ]);
    const junk = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: 'infra', name: 'junk' },
      data: { 'tls.crt': 'bm9wZQ==' },
    };
    expect(resolved(junk, gateway('infra', 'gw', [https('s', 8443, 'junk')])).message).toBe(
      'Secret infra/junk has no tls.key',
    );
    const cm = resolved(gateway('infra', 'gw', [https('s', 8443, 'cert', { refExtra: { kind: 'ConfigMap' } })]));
    expect([cm.conds[2], cm.message]).toEqual([
      'ResolvedRefs=False/InvalidCertificateRef',
      'certificateRef core/ConfigMap infra/cert: only core Secrets are supported',
    ]);
  });

  it('a Secret in another namespace needs a ReferenceGrant there for Gateways of this namespace (RefNotPermitted)', () => {
    const certs = tlsSecret('certs', 'cert', CERTS.wild);
    const gw = gateway('infra', 'gw', [https('s', 8443, 'cert', { refExtra: { namespace: 'certs' } })]);
    const denied = resolved(certs, gw);
    expect([denied.conds[2], denied.message]).toEqual([
      'ResolvedRefs=False/RefNotPermitted',
      'Secret certs/cert is in another namespace and no ReferenceGrant in certs allows Gateways from infra',
    ]);
    const wrongFrom = referenceGrant(
      'certs',
      'g',
      [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'infra' }],
      [{ group: '', kind: 'Secret' }],
    );
    expect(resolved(certs, gw, wrongFrom).conds[2]).toBe('ResolvedRefs=False/RefNotPermitted');
    const grant = referenceGrant(
      'certs',
      'g',
      [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra' }],
      [{ group: '', kind: 'Secret', name: 'cert' }],
    );
    const ok = resolved(certs, gw, grant);
    expect(ok.conds[2]).toBe('ResolvedRefs=True/ResolvedRefs');
    expect(ok.c.table.certificate('x.example.com', 8443)).toEqual(CERTS.wild);
  });
});

describe('listener conflicts across our Gateways (one controller, shared ports)', () => {
  it('same port and hostname: HostnameConflict for the newer; another protocol on a port: ProtocolConflict; the Ingress ports keep their protocol', () => {
    const a = gateway('infra', 'a', [http('h', 8080, { hostname: 'x.test' }), https('s', 8443)]);
    const b = gateway('infra', 'b', [
      http('h', 8080, { hostname: 'x.test' }),
      http('plain', 8443),
      https('tls80', 80),
      http('y', 8080, { hostname: 'y.test' }),
    ]);
    const c = compile(cls, infraCert, a, b);
    const row = (gw: string, l: string) =>
      conds(listener(c.statuses, gw, l)!.conditions)
        .filter((x) => !x.startsWith('ResolvedRefs'))
        .join(' ');
    expect(row('a', 'h')).toBe('Accepted=True/Accepted Programmed=True/Programmed Conflicted=False/NoConflicts');
    expect(row('b', 'h')).toBe(
      'Accepted=False/HostnameConflict Programmed=False/HostnameConflict Conflicted=True/HostnameConflict',
    );
    expect(row('b', 'plain')).toBe(
      'Accepted=False/ProtocolConflict Programmed=False/ProtocolConflict Conflicted=True/ProtocolConflict',
    );
    expect(row('b', 'tls80')).toBe(
      'Accepted=False/PortUnavailable Programmed=False/Invalid Conflicted=False/NoConflicts',
    );
    expect(row('b', 'y')).toBe('Accepted=True/Accepted Programmed=True/Programmed Conflicted=False/NoConflicts');
  });
});

describe('HTTPRoute attachment', () => {
  const attach = (gwListeners: Obj[], route: Obj, ...objs: Obj[]) => {
    const c = compile(cls, web, infraCert, gateway('infra', 'gw', gwListeners), route, ...objs);
    return { p: parent(c.statuses), c };
  };

  it('Accepted on a listener that allows the Route’s namespace; status echoes the parentRef with its defaults and our controllerName', () => {
    const { p, c } = attach([http('h', 8080, all)], toWeb());
    expect(p).toEqual({
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'gw' },
      controllerName: OPTS.gatewayController,
      conditions: [
        {
          type: 'Accepted',
          status: 'True',
          reason: 'Accepted',
          message: 'Route is accepted',
          observedGeneration: 1,
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
        {
          type: 'ResolvedRefs',
          status: 'True',
          reason: 'ResolvedRefs',
          message: 'All references are resolved',
          observedGeneration: 1,
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
    });
    expect(listener(c.statuses, 'gw', 'h')!.attachedRoutes).toBe(1);
    expect(short(c.table.route(req('http://any.test:8080/x')))).toBe('proxy web/web:80');
  });

  it('allowedRoutes Same (the default) refuses other namespaces: NotAllowedByListeners, attachedRoutes 0, no route', () => {
    const { p, c } = attach([http('h', 8080)], toWeb());
    expect(conds(p.conditions)).toEqual(['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs']);
    expect(p.conditions[0].message).toBe('no listener of Gateway infra/gw allows HTTPRoutes from namespace web');
    expect(listener(c.statuses, 'gw', 'h')!.attachedRoutes).toBe(0);
    expect(short(c.table.route(req('http://any.test:8080/x')))).toBe(
      'error 404 no HTTPRoute rule matches host any.test path /x on infra/gw listener h (HTTP :8080)',
    );
    expect(c.events.map((e) => `${e.kind} ${e.reason}`)).toEqual(['HTTPRoute NotAllowedByListeners']);
  });

  it('allowedRoutes Selector: namespaces by their labels (kubernetes.io/metadata.name included)', () => {
    const sel = (selector: Obj) => ({ allowedRoutes: { namespaces: { from: 'Selector', selector } } });
    expect(
      conds(
        attach([http('h', 8080, sel({ matchLabels: { team: 'web' } }))], toWeb(), namespace('web', { team: 'web' })).p
          .conditions,
      )[0],
    ).toBe('Accepted=True/Accepted');
    expect(
      conds(
        attach([http('h', 8080, sel({ matchLabels: { team: 'web' } }))], toWeb(), namespace('web', { team: 'ops' })).p
          .conditions,
      )[0],
    ).toBe('Accepted=False/NotAllowedByListeners');
    expect(
      conds(
        attach([http('h', 8080, sel({ matchLabels: { 'kubernetes.io/metadata.name': 'web' } }))], toWeb()).p.conditions,
      )[0],
    ).toBe('Accepted=True/Accepted');
    expect(
      conds(attach([http('h', 8080, { allowedRoutes: { namespaces: { from: 'None' } } })], toWeb()).p.conditions)[0],
    ).toBe('Accepted=False/NotAllowedByListeners');
  });

  it('sectionName and port pick listeners; none picked: NoMatchingParent', () => {
    const ls = [http('a', 8080, all), http('b', 8081, all)];
    const r = attach(ls, toWeb({ name: 'gw', namespace: 'infra', sectionName: 'b' }));
    expect(conds(r.p.conditions)[0]).toBe('Accepted=True/Accepted');
    expect([
      listener(r.c.statuses, 'gw', 'a')!.attachedRoutes,
      listener(r.c.statuses, 'gw', 'b')!.attachedRoutes,
    ]).toEqual([0, 1]);
    expect(short(r.c.table.route(req('http://x.test:8080/')))).toMatch(/^error 404/);
    expect(short(r.c.table.route(req('http://x.test:8081/')))).toBe('proxy web/web:80');
    expect(conds(attach(ls, toWeb({ name: 'gw', namespace: 'infra', port: 8081 })).p.conditions)[0]).toBe(
      'Accepted=True/Accepted',
    );
    const none = attach(ls, toWeb({ name: 'gw', namespace: 'infra', sectionName: 'c' })).p;
    expect([conds(none.conditions)[0], none.conditions[0].message]).toEqual([
      'Accepted=False/NoMatchingParent',
      'Gateway infra/gw has no listener named c',
    ]);
    expect(
      conds(attach(ls, toWeb({ name: 'gw', namespace: 'infra', sectionName: 'a', port: 8081 })).p.conditions)[0],
    ).toBe('Accepted=False/NoMatchingParent');
  });

  it('hostnames must intersect a listener’s: NoMatchingListenerHostname', () => {
    const r = attach(
      [http('h', 8080, { hostname: '*.example.com', ...all })],
      toWeb(undefined, { hostnames: ['test.example.net'] }),
    );
    expect(conds(r.p.conditions)[0]).toBe('Accepted=False/NoMatchingListenerHostname');
    const ok = attach(
      [http('h', 8080, { hostname: '*.example.com', ...all })],
      toWeb(undefined, { hostnames: ['test.example.com', 'test.example.net'] }),
    );
    expect(conds(ok.p.conditions)[0]).toBe('Accepted=True/Accepted');
    expect(short(ok.c.table.route(req('http://test.example.com:8080/')))).toBe('proxy web/web:80');
    // test.example.net is ignored (it does not match the listener)
    expect(short(ok.c.table.route(req('http://test.example.net:8080/')))).toBe(
      'error 404 no Gateway listener on port 8080 takes host test.example.net',
    );
  });

  it('a parentRef to a Gateway that is not ours (or missing) gets no status entry', () => {
    const c = compile(cls, web, toWeb({ name: 'elsewhere', namespace: 'infra' }));
    expect(c.statuses.filter((s) => s.resource === 'httproutes')).toEqual([]);
  });

  it('withGatewayAddresses adds the controller’s address to every Gateway status', () => {
    const c = compile(cls, gateway('infra', 'gw', [http('h', 8080)]));
    const s = withGatewayAddresses(c.statuses, [{ value: '172.28.0.240' }]);
    expect(statusOf(s, 'gateways', 'gw')!.addresses).toEqual([{ type: 'IPAddress', value: '172.28.0.240' }]);
    expect(statusOf(s, 'gatewayclasses', 'cilium')!.addresses).toBeUndefined();
  });
});
