import { describe, it, expect } from 'vitest';
import { compilePolicies, type PolicyPod } from '../../../src/policy/index.js';
import { parseIpv4 } from '../../../src/packet/ipv4-address.js';
import {
  assembleMatrix,
  formatMatrix,
  planProbes,
  serviceFor,
  type ServiceLite,
  type SourceOutcome,
} from '../../../src/probe/index.js';

// What probe sends, decided before sending: targets by pod IP, or through
// a Service whose only backend the pod is (by ClusterIP or by name).
const pod = (
  namespace: string,
  name: string,
  ip: string,
  labels: Record<string, string> = { pod: name },
): PolicyPod => ({
  namespace,
  name,
  ip: parseIpv4(ip),
  labels,
  ports: [
    { name: 'serve-80-tcp', port: 80, proto: 6 },
    { name: 'serve-81-udp', port: 81, proto: 17 },
  ],
});
const XA = pod('x', 'a', '10.244.1.2');
const XB = pod('x', 'b', '10.244.2.2', { pod: 'b', app: 'web' });
const XC = pod('x', 'c', '10.244.2.3', { pod: 'c', app: 'web' });
const svc = (
  name: string,
  selector: Record<string, string>,
  ports: ServiceLite['ports'],
  clusterIP = '10.96.0.10',
  more: Partial<ServiceLite> = {},
): ServiceLite => ({ namespace: 'x', name, clusterIP, selector, ports, ...more });
const SERVICES: ServiceLite[] = [
  svc(
    's-x-a',
    { pod: 'a' },
    [
      { name: 'tcp-80', port: 8080, targetPort: 80, protocol: 'TCP' },
      { name: 'udp-81', port: 81, targetPort: 'serve-81-udp', protocol: 'UDP' },
    ],
    '10.96.0.11',
  ),
  // selects b and c: a probe through it could land on either, so it is no target for b
  svc('web', { app: 'web' }, [{ port: 80, protocol: 'TCP' }], '10.96.0.12'),
  svc('headless-b', { pod: 'b' }, [{ port: 80 }], 'None'),
  svc('ext', { pod: 'b' }, [{ port: 80 }], '', { type: 'ExternalName' }),
];
const TCP80 = { name: 'TCP/80', proto: 'tcp', port: 80 } as const;
const UDP81 = { name: 'UDP/81', proto: 'udp', port: 81 } as const;

describe('a Service per target', () => {
  it('the Service whose only backend the pod is, by numeric or named targetPort, on the right protocol', () => {
    expect(serviceFor(XA, TCP80, SERVICES, [XA, XB, XC])).toEqual({ svc: SERVICES[0], port: 8080 });
    expect(serviceFor(XA, UDP81, SERVICES, [XA, XB, XC])).toEqual({ svc: SERVICES[0], port: 81 });
    expect(serviceFor(XA, { name: 'UDP/80', proto: 'udp', port: 80 }, SERVICES, [XA, XB, XC])).toEqual({
      none: 'no Service has x/a as its only backend on UDP/80',
    });
  });

  it('a Service with several backends, a headless one or an ExternalName is no target', () => {
    expect(serviceFor(XB, TCP80, SERVICES, [XA, XB, XC])).toEqual({
      none: 'no Service has x/b as its only backend on TCP/80; x/web (2 backends) has more than one',
    });
    // with c gone, web has one backend: b
    expect(serviceFor(XB, TCP80, SERVICES, [XA, XB])).toEqual({ svc: SERVICES[1], port: 80 });
  });
});

describe('the plan', () => {
  it('by pod IP: every source probes every target on every table, ids "<table>:<target>"', () => {
    const plan = planProbes({ pods: [XB, XA], ports: [80, 81], protocols: ['tcp'], to: 'pods' });
    expect(plan.pods.map((p) => p.name)).toEqual(['a', 'b']);
    expect(plan.tables.map((t) => t.name)).toEqual(['TCP/80', 'TCP/81']);
    expect(plan.probes[1]).toEqual([
      { id: '0:0', host: '10.244.1.2', port: 80, proto: 'tcp' },
      { id: '0:1', host: '10.244.2.2', port: 80, proto: 'tcp' },
      { id: '1:0', host: '10.244.1.2', port: 81, proto: 'tcp' },
      { id: '1:1', host: '10.244.2.2', port: 81, proto: 'tcp' },
    ]);
  });

  it('by Service IP and by name: the Service port, the absolute name; no target, no probe', () => {
    const ip = planProbes({
      pods: [XA, XB, XC],
      ports: [80],
      protocols: ['tcp'],
      to: 'service-ip',
      services: SERVICES,
    });
    expect(ip.targets[0]).toEqual([
      { host: '10.96.0.11', port: 8080, via: 'x/s-x-a 10.96.0.11:8080' },
      { none: 'no Service has x/b as its only backend on TCP/80; x/web (2 backends) has more than one' },
      { none: 'no Service has x/c as its only backend on TCP/80; x/web (2 backends) has more than one' },
    ]);
    expect(ip.probes[0]).toEqual([{ id: '0:0', host: '10.96.0.11', port: 8080, proto: 'tcp' }]);
    const byName = planProbes({
      pods: [XA],
      ports: [81],
      protocols: ['udp'],
      to: 'service-name',
      services: SERVICES,
      clusterDomain: 'cluster.local',
    });
    expect(byName.probes[0]).toEqual([{ id: '0:0', host: 's-x-a.x.svc.cluster.local.', port: 81, proto: 'udp' }]);
    expect(byName.targets[0][0]).toEqual({
      host: 's-x-a.x.svc.cluster.local.',
      port: 81,
      via: 's-x-a.x.svc.cluster.local:81',
    });
  });

  it('the table shows which Service reached each target, and cells without one as -', () => {
    const pods = [XA, XB, XC];
    const plan = planProbes({ pods, ports: [80], protocols: ['tcp'], to: 'service-ip', services: SERVICES });
    const set = compilePolicies([], pods, [{ name: 'x', labels: {} }]);
    const ok = (id: string) => new Map([[id, { observed: 'connected' as const, detail: 'connected (1 ms)' }]]);
    const outcomes: SourceOutcome[] = [{ results: ok('0:0') }, { results: ok('0:0') }, { results: ok('0:0') }];
    const m = assembleMatrix(plan, set, outcomes);
    expect(m.summary).toMatchObject({ correct: 3, wrong: 0, noTarget: 6 });
    expect(formatMatrix(m)).toBe(
      [
        'TCP/80   x/a   x/b   x/c',
        'x/a      .     -     -',
        'x/b      .     -     -',
        'x/c      .     -     -',
        '',
        '. allowed as expected   X blocked as expected   ! observed differs from expected   ? not probed   - no target',
        'targets by Service ClusterIP:',
        '  TO    TCP/80',
        '  x/a   x/s-x-a 10.96.0.11:8080',
        '  x/b   -',
        '  x/c   -',
        '3/3 correct, 0 wrong, 6 without a target',
      ].join('\n'),
    );
  });
});
