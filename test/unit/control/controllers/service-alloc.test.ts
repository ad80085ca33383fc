import { describe, it, expect } from 'vitest';
import {
  ServiceAllocations,
  allocateServiceAddresses,
  keepServiceAllocations,
} from '../../../../src/control/api/service-alloc.js';
import { parseIpv4 } from '../../../../src/packet/ipv4-address.js';
import { ApiError } from '../../../../src/control/api/status.js';

const cfg = { serviceCidr: '10.96.0.0/12', nodePortRange: [30000, 32767] as [number, number] };

function svc(name: string, spec: Record<string, any> = {}): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
  };
}

/** The ApiError a call throws. */
function failure(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('Service address allocation (create)', () => {
  it('defaults a ClusterIP Service and gives it the first address above the reserved band', () => {
    expect(allocateServiceAddresses(svc('web'), [], cfg).spec).toEqual({
      type: 'ClusterIP',
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      clusterIP: '10.96.1.1',
      clusterIPs: ['10.96.1.1'],
    });
  });

  it('allocates the lowest free address, skipping used ones, and keeps the low band for explicit requests', () => {
    const a = allocateServiceAddresses(svc('a'), [], cfg);
    const k = allocateServiceAddresses(svc('kubernetes', { clusterIP: '10.96.0.1' }), [a], cfg);
    const dns = allocateServiceAddresses(svc('kube-dns', { clusterIP: '10.96.0.10' }), [a, k], cfg);
    const b = allocateServiceAddresses(svc('b'), [a, k, dns], cfg);
    expect([a, k, dns, b].map((s) => s.spec.clusterIP)).toEqual(['10.96.1.1', '10.96.0.1', '10.96.0.10', '10.96.1.2']);
  });

  it('falls back to the low band when the rest of a small range is full', () => {
    const small = { ...cfg, serviceCidr: '10.96.0.0/27' }; // 30 usable, band of 16
    const taken = Array.from({ length: 14 }, (_, i) => svc(`s${i}`, { clusterIP: `10.96.0.${17 + i}` }));
    expect(allocateServiceAddresses(svc('x'), taken, small).spec.clusterIP).toBe('10.96.0.1');
    const full = Array.from({ length: 30 }, (_, i) => svc(`s${i}`, { clusterIP: `10.96.0.${1 + i}` }));
    const e = failure(() => allocateServiceAddresses(svc('x'), full, small));
    expect([e.reason, e.message]).toEqual([
      'InternalError',
      'Internal error occurred: failed to allocate a serviceIP: range is full',
    ]);
  });

  it('refuses a requested clusterIP that is taken, outside the range or not an IP, in upstream’s words', () => {
    const dns = allocateServiceAddresses(svc('kube-dns', { clusterIP: '10.96.0.10' }), [], cfg);
    const taken = failure(() => allocateServiceAddresses(svc('other', { clusterIP: '10.96.0.10' }), [dns], cfg));
    expect(taken.reason).toBe('Invalid');
    expect(taken.message).toBe(
      'Service "other" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    expect(failure(() => allocateServiceAddresses(svc('o', { clusterIP: '10.0.0.5' }), [], cfg)).message).toBe(
      'Service "o" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.5"]: failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
    expect(failure(() => allocateServiceAddresses(svc('o', { clusterIP: '10.96.0.0' }), [], cfg)).message).toMatch(
      /not in the valid range/,
    );
    expect(failure(() => allocateServiceAddresses(svc('o', { clusterIP: 'ten' }), [], cfg)).message).toBe(
      'Service "o" is invalid: spec.clusterIPs[0]: Invalid value: "ten": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    );
    // the Service itself is not "another" Service
    expect(allocateServiceAddresses(dns, [dns], cfg).spec.clusterIP).toBe('10.96.0.10');
  });

  it('headless and ExternalName Services get no address', () => {
    const h = allocateServiceAddresses(svc('nginx', { clusterIP: 'None' }), [], cfg).spec;
    expect([h.clusterIP, h.clusterIPs, h.ipFamilies, h.ipFamilyPolicy]).toEqual([
      'None',
      ['None'],
      ['IPv4'],
      'SingleStack',
    ]);
    const x = allocateServiceAddresses(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'ext' },
        spec: { type: 'ExternalName', externalName: 'example.com' },
      },
      [],
      cfg,
    ).spec;
    expect(x).toEqual({ type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
    expect(
      failure(() =>
        allocateServiceAddresses(
          svc('ext', { type: 'ExternalName', externalName: 'a.b', clusterIP: '10.96.0.5' }),
          [],
          cfg,
        ),
      ).message,
    ).toBe('Service "ext" is invalid: spec.clusterIPs: Forbidden: may not be set for ExternalName services');
    expect(
      failure(() => allocateServiceAddresses(svc('np', { type: 'NodePort', clusterIP: 'None' }), [], cfg)).message,
    ).toBe(
      `Service "np" is invalid: spec.clusterIP: Invalid value: "None": may not be set to 'None' for NodePort services`,
    );
  });

  it('refuses dual-stack requests on this single-stack cluster', () => {
    expect(
      failure(() => allocateServiceAddresses(svc('d', { ipFamilyPolicy: 'RequireDualStack' }), [], cfg)).message,
    ).toBe(
      'Service "d" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
    );
    expect(failure(() => allocateServiceAddresses(svc('d', { ipFamilies: ['IPv6'] }), [], cfg)).message).toBe(
      'Service "d" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster',
    );
  });

  it('gives NodePort and LoadBalancer ports node ports above the reserved band, and checks requested ones', () => {
    const np = allocateServiceAddresses(
      svc('np', {
        type: 'NodePort',
        ports: [
          { name: 'http', port: 80 },
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      }),
      [],
      cfg,
    );
    expect(np.spec.ports.map((p: any) => p.nodePort)).toEqual([30086, 30087, 30087]);
    expect(np.spec.externalTrafficPolicy).toBe('Cluster');
    const tut = allocateServiceAddresses(
      svc('tut', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
      [np],
      cfg,
    );
    expect(tut.spec.ports[0].nodePort).toBe(30080);
    expect(
      failure(() =>
        allocateServiceAddresses(
          svc('again', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }),
          [np, tut],
          cfg,
        ),
      ).message,
    ).toBe(
      'Service "again" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    );
    expect(
      failure(() =>
        allocateServiceAddresses(svc('narrow', { type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] }), [], {
          ...cfg,
          nodePortRange: [31000, 31999],
        }),
      ).message,
    ).toBe(
      'Service "narrow" is invalid: spec.ports[0].nodePort: Invalid value: 30500: provided port is not in the valid range. The range of valid ports is 31000-31999',
    );
    const lb = allocateServiceAddresses(
      svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }),
      [np, tut],
      cfg,
    );
    expect([lb.spec.ports[0].nodePort, lb.spec.healthCheckNodePort, lb.spec.allocateLoadBalancerNodePorts]).toEqual([
      30088,
      30089,
      true,
    ]);
    const noPorts = allocateServiceAddresses(
      svc('lb2', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }),
      [],
      cfg,
    );
    expect(noPorts.spec.ports[0].nodePort).toBeUndefined();
  });
});

describe('Service address allocation (update)', () => {
  const old = allocateServiceAddresses(svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80 }] }), [], cfg);

  it('keeps the clusterIP and node ports a re-applied manifest leaves out', () => {
    const applied = svc('web', {
      type: 'NodePort',
      ports: [
        { name: 'http', port: 80 },
        { name: 'metrics', port: 9100 },
      ],
    });
    const kept = keepServiceAllocations(applied, old);
    expect([
      kept.spec.clusterIP,
      kept.spec.clusterIPs,
      kept.spec.ports[0].nodePort,
      kept.spec.ports[1].nodePort,
    ]).toEqual(['10.96.1.1', ['10.96.1.1'], 30086, undefined]);
    const done = allocateServiceAddresses(kept, [old], cfg); // `old` is the same Service: ignored
    expect([done.spec.clusterIP, ...done.spec.ports.map((p: any) => p.nodePort)]).toEqual(['10.96.1.1', 30086, 30087]);
  });

  it('refuses a different clusterIP: the field is immutable', () => {
    expect(
      failure(() => keepServiceAllocations(svc('web', { type: 'NodePort', clusterIP: '10.96.0.99' }), old)).message,
    ).toBe('Service "web" is invalid: spec.clusterIP: Invalid value: "10.96.0.99": field is immutable');
    expect(keepServiceAllocations(svc('web', { type: 'NodePort', clusterIP: '10.96.1.1' }), old).spec.clusterIP).toBe(
      '10.96.1.1',
    );
  });

  it('drops what the new type does not use', () => {
    const toClusterIP = keepServiceAllocations({ ...old, spec: { ...old.spec, type: 'ClusterIP' } }, old);
    expect([
      toClusterIP.spec.ports[0].nodePort,
      toClusterIP.spec.externalTrafficPolicy,
      toClusterIP.spec.clusterIP,
    ]).toEqual([undefined, undefined, '10.96.1.1']);
    const toExternal = keepServiceAllocations(
      { ...old, spec: { ...old.spec, type: 'ExternalName', externalName: 'example.com' } },
      old,
    );
    expect([toExternal.spec.clusterIP, toExternal.spec.clusterIPs, toExternal.spec.ports[0].nodePort]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(allocateServiceAddresses(toExternal, [], cfg).spec.clusterIP).toBeUndefined();
  });
});

describe('ServiceAllocations (the API server’s index of what Services hold)', () => {
  const np = allocateServiceAddresses(svc('np', { type: 'NodePort' }), [], cfg);
  const lb = allocateServiceAddresses(svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }), [np], cfg);

  it('allocates exactly as the list of Services does', () => {
    const index = ServiceAllocations.of([np, lb]);
    for (const s of [
      svc('x'),
      svc('y', { type: 'NodePort' }),
      svc('z', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }),
    ]) {
      expect(allocateServiceAddresses(s, index, cfg)).toEqual(allocateServiceAddresses(s, [np, lb], cfg));
    }
    expect(
      failure(() => allocateServiceAddresses(svc('again', { clusterIP: np.spec.clusterIP }), index, cfg)).message,
    ).toMatch(/provided IP is already allocated/);
    expect(
      failure(() =>
        allocateServiceAddresses(
          svc('p', { type: 'NodePort', ports: [{ port: 80, nodePort: lb.spec.healthCheckNodePort }] }),
          index,
          cfg,
        ),
      ).message,
    ).toMatch(/provided port is already allocated/);
  });

  it('ignores what the Service being written holds itself, and frees what a removed Service held', () => {
    const index = ServiceAllocations.of([np, lb]);
    expect(allocateServiceAddresses(np, index, cfg).spec.clusterIP).toBe(np.spec.clusterIP);
    index.remove(np);
    expect(allocateServiceAddresses(svc('new', { clusterIP: np.spec.clusterIP }), index, cfg).spec.clusterIP).toBe(
      np.spec.clusterIP,
    );
    expect(index.ipTaken(parseIpv4(lb.spec.clusterIP), 'default/other')).toBe(true);
    expect(index.ipTaken(parseIpv4(lb.spec.clusterIP), 'default/lb')).toBe(false);
  });

  it('keeps a value held twice taken until both let go', () => {
    const a = svc('a', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'] });
    const b = svc('b', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5'] });
    const index = ServiceAllocations.of([a, b]);
    expect(index.ipTaken(parseIpv4('10.96.5.5'), 'default/a')).toBe(true);
    index.remove(b);
    expect(index.ipTaken(parseIpv4('10.96.5.5'), 'default/a')).toBe(false);
    expect(index.ipTaken(parseIpv4('10.96.5.5'), 'default/c')).toBe(true);
  });
});
