import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/control/client/index.js';
import { planEndpointSlices } from '../../../src/control/controllers/endpoint-slices.js';
import {
  Backend,
  PROTO_TCP,
  PROTO_UDP,
  compileService,
  endpointIdentity,
  frontendKey,
  type CompileOptions,
  type Frontend,
} from '../../../src/lb/index.js';
import { ipv4ToString, parseIpv4 } from '../../../src/packet/index.js';

const node = { name: 'node-a' };
const opts: CompileOptions = { defaultScheduler: 'rr' };

function service(
  name: string,
  spec: Record<string, any>,
  meta: Record<string, any> = {},
  status?: Record<string, any>,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...meta },
    spec: {
      type: 'ClusterIP',
      selector: { app: name },
      clusterIP: '10.96.0.20',
      clusterIPs: ['10.96.0.20'],
      sessionAffinity: 'None',
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

interface Ep {
  ip: string;
  node?: string;
  pod?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

function slice(
  svc: string,
  ports: { name?: string; port: number; protocol?: string }[] | null,
  endpoints: Ep[] | null,
  name = `${svc}-x7k2p`,
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: 'default',
      labels: {
        'kubernetes.io/service-name': svc,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: 'IPv4',
    endpoints:
      endpoints?.map((e) => ({
        addresses: [e.ip],
        conditions: {
          ready: e.ready ?? true,
          serving: e.serving ?? e.ready ?? true,
          terminating: e.terminating ?? false,
        },
        nodeName: e.node ?? 'node-b',
        targetRef: { kind: 'Pod', namespace: 'default', name: e.pod ?? `pod-${e.ip}`, uid: `u-${e.ip}` },
      })) ?? null,
    ports: ports?.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })) ?? null,
  };
}

const httpPort = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];
const ip = (f: Frontend) => (f.ip ? ipv4ToString(f.ip) : '*');
const row = (f: Frontend) =>
  `${f.type} ${ip(f)}:${f.port}/${f.proto === PROTO_UDP ? 'UDP' : 'TCP'} -> ${f.backends.map((b) => `${ipv4ToString(b.ip)}:${b.port}`).join(',')}`;
const threeEps: Ep[] = [
  { ip: '10.244.2.3', node: 'node-b', pod: 'web-2' },
  { ip: '10.244.1.5', node: 'node-a', pod: 'web-1' },
  { ip: '10.244.3.7', node: 'node-c', pod: 'web-3' },
];

describe('compileService', () => {
  it('ClusterIP with 3 endpoints: one frontend, backends in ip:port order', () => {
    const r = compileService(
      service('web', { ports: httpPort }),
      [slice('web', [{ name: 'http', port: 8080 }], threeEps)],
      node,
      opts,
    );
    expect(r.warnings).toEqual([]);
    expect(r.ignored).toBeNull();
    expect(r.frontends.map(row)).toEqual([
      'ClusterIP 10.96.0.20:80/TCP -> 10.244.1.5:8080,10.244.2.3:8080,10.244.3.7:8080',
    ]);
    const [f] = r.frontends;
    expect(f).toMatchObject({
      service: 'default/web',
      portName: 'http',
      key: frontendKey(parseIpv4('10.96.0.20'), 80, PROTO_TCP),
      affinityTimeoutMs: 0,
      localOnly: false,
      snatExternal: false,
    });
    expect(f.scheduler.name).toBe('rr');
    expect(f.backends.map((b) => [b.name, b.nodeName])).toEqual([
      ['web-1', 'node-a'],
      ['web-2', 'node-b'],
      ['web-3', 'node-c'],
    ]);
    expect(f.allBackends).toEqual(f.backends);
  });

  it('multi-port: service ports match slice ports by name, whatever their order', () => {
    const svc = service('api', {
      ports: [
        { name: 'http', port: 80, targetPort: 'web' },
        { name: 'metrics', port: 9090, targetPort: 'prom' },
      ],
    });
    const s = slice(
      'api',
      [
        { name: 'metrics', port: 9100 },
        { name: 'http', port: 8080 },
      ],
      [{ ip: '10.244.1.9' }],
    );
    expect(compileService(svc, [s], node, opts).frontends.map(row)).toEqual([
      'ClusterIP 10.96.0.20:80/TCP -> 10.244.1.9:8080',
      'ClusterIP 10.96.0.20:9090/TCP -> 10.244.1.9:9100',
    ]);
  });

  it('the same port number on TCP and UDP: two frontends, two keys', () => {
    const svc = service('kube-dns', {
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    });
    const s = slice(
      'kube-dns',
      [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
      [{ ip: '10.244.0.2' }],
    );
    const fs = compileService(svc, [s], node, opts).frontends;
    expect(fs.map(row)).toEqual([
      'ClusterIP 10.96.0.10:53/UDP -> 10.244.0.2:53',
      'ClusterIP 10.96.0.10:53/TCP -> 10.244.0.2:53',
    ]);
    expect(fs[0].key).not.toBe(fs[1].key);
    expect(fs[0].backends[0]).not.toBe(fs[1].backends[0]);
  });

  it('internalTrafficPolicy Local: the ClusterIP uses only this node’s endpoints', () => {
    const svc = service('web', { ports: httpPort, internalTrafficPolicy: 'Local' });
    const slices = [slice('web', [{ name: 'http', port: 8080 }], threeEps)];
    const here = compileService(svc, slices, node, opts).frontends[0];
    expect(row(here)).toBe('ClusterIP 10.96.0.20:80/TCP -> 10.244.1.5:8080');
    expect(here.localOnly).toBe(true);
    expect(here.allBackends).toHaveLength(3);
    expect(compileService(svc, slices, { name: 'node-z' }, opts).frontends[0].backends).toEqual([]);
  });

  it('externalTrafficPolicy Local: NodePort / LB / externalIP use local endpoints, keep the client address', () => {
    const spec = {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      externalIPs: ['192.0.2.10'],
      ports: [{ ...httpPort[0], nodePort: 30080 }],
    };
    const svc = service('web', spec, {}, { loadBalancer: { ingress: [{ ip: '203.0.113.7', ipMode: 'VIP' }] } });
    const fs = compileService(svc, [slice('web', [{ name: 'http', port: 8080 }], threeEps)], node, opts).frontends;
    expect(fs.map(row)).toEqual([
      'ClusterIP 10.96.0.20:80/TCP -> 10.244.1.5:8080,10.244.2.3:8080,10.244.3.7:8080',
      'ExternalIP 192.0.2.10:80/TCP -> 10.244.1.5:8080',
      'LoadBalancer 203.0.113.7:80/TCP -> 10.244.1.5:8080',
      'NodePort *:30080/TCP -> 10.244.1.5:8080',
    ]);
    expect(fs.map((f) => [f.localOnly, f.snatExternal])).toEqual([
      [false, false],
      [true, false],
      [true, false],
      [true, false],
    ]);
    expect(fs[3].key).toBe(frontendKey(0, 30080, PROTO_TCP));
  });

  it('externalTrafficPolicy Cluster: external frontends use every endpoint and SNAT', () => {
    const svc = service('web', {
      type: 'NodePort',
      externalTrafficPolicy: 'Cluster',
      ports: [{ ...httpPort[0], nodePort: 30080 }],
    });
    const fs = compileService(svc, [slice('web', [{ name: 'http', port: 8080 }], threeEps)], node, opts).frontends;
    expect(fs.map((f) => [f.type, f.backends.length, f.localOnly, f.snatExternal])).toEqual([
      ['ClusterIP', 3, false, false],
      ['NodePort', 3, false, true],
    ]);
    expect(fs[0].backends).toBe(fs[1].backends); // one usable set (and scheduler) per policy
  });

  it('no ready endpoint: falls back to serving && terminating ones (KEP-1669)', () => {
    const eps: Ep[] = [
      { ip: '10.244.1.5', ready: false, serving: true, terminating: true },
      { ip: '10.244.1.6', ready: false, serving: false, terminating: true },
      { ip: '10.244.1.7', ready: false, serving: false },
    ];
    const svc = service('web', { ports: httpPort });
    expect(row(compileService(svc, [slice('web', [{ name: 'http', port: 8080 }], eps)], node, opts).frontends[0])).toBe(
      'ClusterIP 10.96.0.20:80/TCP -> 10.244.1.5:8080',
    );
    const withReady = [...eps, { ip: '10.244.1.8' }];
    expect(
      row(compileService(svc, [slice('web', [{ name: 'http', port: 8080 }], withReady)], node, opts).frontends[0]),
    ).toBe('ClusterIP 10.96.0.20:80/TCP -> 10.244.1.8:8080');
  });

  it('Local policy falls back among local endpoints even when remote ones are ready', () => {
    const eps: Ep[] = [
      { ip: '10.244.1.5', node: 'node-a', ready: false, serving: true, terminating: true },
      { ip: '10.244.2.5', node: 'node-b' },
    ];
    const svc = service('web', { ports: httpPort, internalTrafficPolicy: 'Local' });
    expect(row(compileService(svc, [slice('web', [{ name: 'http', port: 8080 }], eps)], node, opts).frontends[0])).toBe(
      'ClusterIP 10.96.0.20:80/TCP -> 10.244.1.5:8080',
    );
  });

  it('publishNotReadyAddresses is the controller’s: ready:true, serving:false endpoints are used', () => {
    const eps: Ep[] = [{ ip: '10.244.1.5', ready: true, serving: false }];
    const f = compileService(
      service('db', { ports: httpPort, publishNotReadyAddresses: true }),
      [slice('db', [{ name: 'http', port: 8080 }], eps)],
      node,
      opts,
    ).frontends[0];
    expect(f.backends.map((b) => [b.ready, b.serving])).toEqual([[true, false]]);
  });

  it('ClientIP affinity: default 10800 s, explicit timeout, bad timeout → default + warning', () => {
    const s = [slice('web', [{ name: 'http', port: 8080 }], threeEps)];
    const timeout = (cfg: unknown) =>
      compileService(
        service('web', { ports: httpPort, sessionAffinity: 'ClientIP', sessionAffinityConfig: cfg }),
        s,
        node,
        opts,
      );
    expect(timeout(undefined).frontends[0].affinityTimeoutMs).toBe(10_800_000);
    expect(timeout({ clientIP: { timeoutSeconds: 60 } }).frontends[0].affinityTimeoutMs).toBe(60_000);
    const bad = timeout({ clientIP: { timeoutSeconds: -5 } });
    expect(bad.frontends[0].affinityTimeoutMs).toBe(10_800_000);
    expect(bad.warnings).toEqual(['sessionAffinityConfig.clientIP.timeoutSeconds -5 is not 1-86400; using 10800']);
  });

  it.each([
    ['headless', service('h', { clusterIP: 'None', clusterIPs: ['None'], ports: httpPort }), 'headless'],
    [
      'ExternalName',
      service('x', { type: 'ExternalName', externalName: 'example.com', clusterIP: undefined, clusterIPs: undefined }),
      'ExternalName',
    ],
    [
      'another proxy',
      service('p', { ports: httpPort }, { labels: { 'service.kubernetes.io/service-proxy-name': 'cilium' } }),
      "labelled service.kubernetes.io/service-proxy-name=cilium: another proxy's",
    ],
    [
      'no clusterIP yet',
      service('n', { clusterIP: undefined, clusterIPs: undefined, ports: httpPort }),
      'no clusterIP yet',
    ],
    [
      'IPv6 only',
      service('v6', { clusterIP: 'fd00::10', clusterIPs: ['fd00::10'], ports: httpPort }),
      'no IPv4 clusterIP',
    ],
  ])('%s: ignored, no frontends', (_what, svc, reason) => {
    const r = compileService(svc, [slice(svc.metadata.name, [{ name: 'http', port: 8080 }], threeEps)], node, opts);
    expect(r).toMatchObject({ frontends: [], warnings: [], ignored: reason });
  });

  it('dual-stack: the IPv4 one of clusterIPs', () => {
    const svc = service('web', { clusterIP: 'fd00::20', clusterIPs: ['fd00::20', '10.96.0.21'], ports: httpPort });
    expect(compileService(svc, [], node, opts).frontends.map(ip)).toEqual(['10.96.0.21']);
  });

  it('LoadBalancer ingress IPs and externalIPs; hostname-only and ipMode Proxy ingresses are not ours', () => {
    const spec = {
      type: 'LoadBalancer',
      externalIPs: ['192.0.2.10', '192.0.2.11', 'not-an-ip', '2001:db8::1'],
      ports: [{ ...httpPort[0], nodePort: 30080 }],
    };
    const ingress = [
      { ip: '203.0.113.7' },
      { hostname: 'lb.example.com' },
      { ip: '203.0.113.8', ipMode: 'Proxy' },
      { ip: '203.0.113.9', ipMode: 'VIP' },
    ];
    const r = compileService(
      service('web', spec, {}, { loadBalancer: { ingress } }),
      [slice('web', [{ name: 'http', port: 8080 }], threeEps)],
      node,
      opts,
    );
    expect(r.frontends.map((f) => `${f.type} ${ip(f)}:${f.port}`)).toEqual([
      'ClusterIP 10.96.0.20:80',
      'ExternalIP 192.0.2.10:80',
      'ExternalIP 192.0.2.11:80',
      'LoadBalancer 203.0.113.7:80',
      'LoadBalancer 203.0.113.9:80',
      'NodePort *:30080',
    ]);
    expect(r.warnings).toEqual(['spec.externalIPs[2]: "not-an-ip" is not an IPv4 address; skipped']);
  });

  it('scheduler annotation: valid picks it, invalid → default + warning; weights for wrr', () => {
    const s = [slice('web', [{ name: 'http', port: 8080 }], threeEps)];
    const annotated = (annotations: Record<string, string>) =>
      compileService(service('web', { ports: httpPort }, { annotations }), s, node, opts);
    expect(annotated({ 'podwire.io/lb-scheduler': 'maglev' }).frontends[0].scheduler.name).toBe('maglev');
    const bad = annotated({ 'podwire.io/lb-scheduler': 'fastest' });
    expect(bad.frontends[0].scheduler.name).toBe('rr');
    expect(bad.warnings).toEqual([
      'podwire.io/lb-scheduler: "fastest" is not one of random, rr, wrr, lc, sh, maglev; using rr',
    ]);
    const w = annotated({
      'podwire.io/lb-scheduler': 'wrr',
      'podwire.io/lb-weights': '10.244.2.3=5, 10.244.3.7=x,bogus,10.244.1.5=2=3',
    });
    expect(w.frontends[0].scheduler.name).toBe('wrr');
    expect(w.frontends[0].backends.map((b) => b.weight)).toEqual([1, 5, 1]);
    expect(w.warnings).toEqual([
      'podwire.io/lb-weights: "10.244.3.7=x" is not ip=weight; ignored',
      'podwire.io/lb-weights: "bogus" is not ip=weight; ignored',
      'podwire.io/lb-weights: "10.244.1.5=2=3" is not ip=weight; ignored',
    ]);
  });

  it('a bad maglev table size falls back to random with a warning', () => {
    const r = compileService(
      service('web', { ports: httpPort }, { annotations: { 'podwire.io/lb-scheduler': 'maglev' } }),
      [slice('web', [{ name: 'http', port: 8080 }], threeEps)],
      node,
      { ...opts, maglevTableSize: 1000 },
    );
    expect(r.frontends[0].scheduler.name).toBe('random');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^scheduler maglev: .*; using random$/);
  });

  it('a named targetPort no container has: the controller’s slice has no ports, the frontend no backends', () => {
    const svc = service('web', { ports: [{ name: 'http', port: 80, targetPort: 'nope', protocol: 'TCP' }] });
    const pod = {
      metadata: { name: 'web-1', namespace: 'default', uid: 'u1', labels: { app: 'web' } },
      spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { phase: 'Running', podIP: '10.244.1.5', conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const slices = planEndpointSlices(svc, [pod], [], () => 'abcde').create;
    expect(slices).toHaveLength(1);
    const r = compileService(svc, slices, node, opts);
    expect(r.warnings).toEqual([]);
    expect(r.frontends.map(row)).toEqual(['ClusterIP 10.96.0.20:80/TCP -> ']);
    // and the placeholder slice of a Service without pods
    const empty = planEndpointSlices(svc, [], [], () => 'abcde').create;
    expect(compileService(svc, empty, node, opts)).toMatchObject({ warnings: [], frontends: [{ backends: [] }] });
  });

  it('the controller’s slices compile to the pods’ addresses', () => {
    const svc = service('web', { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
    const pods = [1, 2].map((i) => ({
      metadata: { name: `web-${i}`, namespace: 'default', uid: `u${i}`, labels: { app: 'web' } },
      spec: { nodeName: `node-${i}`, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
      status: { phase: 'Running', podIP: `10.244.${i}.5`, conditions: [{ type: 'Ready', status: 'True' }] },
    }));
    const f = compileService(svc, planEndpointSlices(svc, pods, [], () => 'abcde').create, node, opts).frontends[0];
    expect(f.backends.map((b) => `${b.name}@${b.nodeName} ${ipv4ToString(b.ip)}:${b.port}`)).toEqual([
      'web-1@node-1 10.244.1.5:8080',
      'web-2@node-2 10.244.2.5:8080',
    ]);
  });

  it('a Service without selector uses its hand-written slices; no slice at all is not a warning', () => {
    const svc = service('ext-db', { selector: undefined, ports: [{ port: 5432 }] });
    const handWritten = {
      ...slice('ext-db', [{ port: 5432 }], [{ ip: '192.0.2.50' }]),
      metadata: { name: 'ext-db-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'ext-db' } },
    };
    expect(compileService(svc, [handWritten], node, opts).frontends.map(row)).toEqual([
      'ClusterIP 10.96.0.20:5432/TCP -> 192.0.2.50:5432',
    ]);
    expect(compileService(svc, [], node, opts)).toMatchObject({ warnings: [], frontends: [{ backends: [] }] });
  });

  it('slices of other Services, other namespaces, IPv6 and FQDN are not used; duplicates across slices count once', () => {
    const svc = service('web', { ports: httpPort });
    const other = slice('api', [{ name: 'http', port: 8080 }], [{ ip: '10.244.9.1' }]);
    const otherNs = {
      ...slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.9.2' }]),
      metadata: { ...slice('web', null, null).metadata, namespace: 'prod' },
    };
    const v6 = {
      ...slice('web', [{ name: 'http', port: 8080 }], null, 'web-v6'),
      addressType: 'IPv6',
      endpoints: [{ addresses: ['fd00::5'] }],
    };
    const a = slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5', ready: false }], 'web-a');
    const b = slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5' }], 'web-b');
    const r = compileService(svc, [other, otherNs, v6, a, b], node, opts);
    expect(r.warnings).toEqual([]);
    expect(r.frontends[0].allBackends.map((x) => [ipv4ToString(x.ip), x.ready])).toEqual([['10.244.1.5', true]]);
  });

  it('garbage never throws: each bad part is skipped and reported', () => {
    const svc = service('web', {
      ports: [
        httpPort[0],
        { name: 'sctp', port: 3868, protocol: 'SCTP' },
        { name: 'zero', port: 0 },
        null,
        { name: 'np', port: 81, nodePort: 99999 },
      ],
      type: 'NodePort',
    });
    const s1 = slice(
      'web',
      [
        { name: 'http', port: 8080 },
        { name: 'nope', port: 1 },
        { name: 'np', port: 70000 },
      ],
      [{ ip: '10.244.1.5' }, { ip: '10.244.1.999' }],
    );
    const s2 = {
      metadata: { name: 'web-junk', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [null, { addresses: [] }, { addresses: 'x' }],
      ports: 'all',
    };
    const r = compileService(svc, [s1, s2 as any, null as any, {} as any, 'junk' as any], node, opts);
    expect(r.frontends.map(row)).toEqual([
      'ClusterIP 10.96.0.20:80/TCP -> 10.244.1.5:8080',
      'ClusterIP 10.96.0.20:81/TCP -> ',
    ]);
    expect(r.warnings).toEqual([
      'spec.ports[1]: protocol SCTP is not supported; skipped',
      'spec.ports[2]: port 0 is not 1-65535; skipped',
      'spec.ports[3]: port undefined is not 1-65535; skipped',
      'spec.ports[4]: nodePort 99999 is not 1-65535; no NodePort',
      'EndpointSlice web-x7k2p endpoints[1]: "10.244.1.999" is not an IPv4 address; skipped',
      'EndpointSlice web-x7k2p ports[1]: no TCP/UDP service port named "nope"; skipped',
      'EndpointSlice web-x7k2p ports[2]: port 70000 is not 1-65535; skipped',
    ]);
    for (const junk of [
      { metadata: {} },
      { metadata: { name: 'x' }, spec: 5 },
      { metadata: { name: 'x' }, spec: { clusterIP: '10.96.0.1', ports: 'x' } },
      { metadata: { name: 'x' }, spec: { clusterIP: 'banana' } },
    ]) {
      expect(() => compileService(junk as KubeObject, [], node, opts)).not.toThrow();
    }
    expect(
      compileService({ metadata: { name: 'x' }, spec: { clusterIP: 'banana' } } as KubeObject, [], node, opts),
    ).toMatchObject({
      frontends: [],
      ignored: 'bad clusterIP',
      warnings: ['spec.clusterIP: "banana" is not an IPv4 address; skipped'],
    });
  });

  it('a selector Service with no slice yet warns', () => {
    expect(compileService(service('web', { ports: httpPort }), [], node, opts).warnings).toEqual([
      'no EndpointSlice labelled kubernetes.io/service-name=web yet',
    ]);
  });

  it('reuses Backend objects by identity, so counters survive; a new pod on the same IP is a new Backend', () => {
    const svc = service('web', { ports: httpPort });
    const first = compileService(svc, [slice('web', [{ name: 'http', port: 8080 }], threeEps)], node, opts)
      .frontends[0];
    const known = new Map<string, Backend>(
      first.allBackends.map((b) => [endpointIdentity('default/web', 'http', PROTO_TCP, b.ip, b.port), b]),
    );
    expect([...known.keys()][0]).toBe('default/web/http/TCP/10.244.1.5:8080');
    first.allBackends[0].connections = 7;
    const next: Ep[] = [
      { ...threeEps[1], ready: false, terminating: true },
      { ...threeEps[0], pod: 'web-2-new' },
      threeEps[2],
    ];
    const second = compileService(svc, [slice('web', [{ name: 'http', port: 8080 }], next)], node, opts, (id) =>
      known.get(id),
    ).frontends[0];
    expect(second.allBackends[0]).toBe(first.allBackends[0]);
    expect(second.allBackends[0]).toMatchObject({ connections: 7, ready: false, terminating: true });
    expect(second.allBackends[1]).not.toBe(first.allBackends[1]);
    expect(second.allBackends[1].name).toBe('web-2-new');
    expect(second.allBackends[2]).toBe(first.allBackends[2]);
  });

  it('--proxy-mode linear: every frontend picks as a KUBE-SVC chain does', () => {
    const rnd = [0.9, 0.4];
    const f = compileService(
      service('web', { ports: httpPort }),
      [slice('web', [{ name: 'http', port: 8080 }], threeEps)],
      node,
      { ...opts, proxyMode: 'linear', random: () => rnd.shift()! },
    ).frontends[0];
    expect(f.scheduler.pick(0, 0)).toBe(1);
    expect(f.scheduler.explain(0, 0, 1)).toBe(
      'KUBE-SVC rule 2 of 3 matched (statistic --mode random --probability 0.5000000000)',
    );
  });
});
