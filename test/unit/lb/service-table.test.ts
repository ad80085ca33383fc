import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/control/client/index.js';
import {
  PROTO_TCP,
  PROTO_UDP,
  ServiceTable,
  compileService,
  removedBackends,
  type Frontend,
} from '../../../src/lb/index.js';
import { ipv4ToString, parseIpv4 } from '../../../src/packet/index.js';

const node = { name: 'node-a' };

interface Spec {
  clusterIP: string;
  ips: string[];
  type?: string;
  nodePort?: number;
  externalIPs?: string[];
  proto?: 'TCP' | 'UDP';
}

function objects(name: string, s: Spec): [KubeObject, KubeObject[]] {
  const proto = s.proto ?? 'TCP';
  const svc = {
    metadata: { name, namespace: 'default' },
    spec: {
      type: s.type ?? 'ClusterIP',
      selector: { app: name },
      clusterIP: s.clusterIP,
      externalIPs: s.externalIPs,
      ports: [{ name: 'p', port: 80, protocol: proto, nodePort: s.nodePort }],
    },
  };
  const slice = {
    metadata: { name: `${name}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'p', port: 8080, protocol: proto }],
    endpoints: s.ips.map((ip) => ({
      addresses: [ip],
      conditions: { ready: true },
      nodeName: 'node-b',
      targetRef: { kind: 'Pod', name: `pod-${ip}` },
    })),
  };
  return [svc, [slice]];
}

/** compile through the table's reuse, as the agent does */
function put(t: ServiceTable, name: string, s: Spec) {
  const [svc, slices] = objects(name, s);
  const r = compileService(svc, slices, node, { defaultScheduler: 'random' }, (id) => t.backendFor(id));
  return t.setService(r.service, r.frontends);
}

const at = (t: ServiceTable, ip: string, port = 80, proto = PROTO_TCP) => t.lookup(parseIpv4(ip), port, proto);
const eps = (f: Frontend | undefined) => f?.backends.map((b) => ipv4ToString(b.ip));
const gone = (c: ReturnType<ServiceTable['setService']>) =>
  c.removedBackends.map(
    (r) => `${r.frontendIp ? ipv4ToString(r.frontendIp) : '*'}:${r.frontendPort} -> ${ipv4ToString(r.ip)}:${r.port}`,
  );

describe('ServiceTable', () => {
  it('looks up by ip:port/proto, NodePorts by port, knows service IPs, counts', () => {
    const t = new ServiceTable();
    const c = put(t, 'web', {
      clusterIP: '10.96.0.20',
      ips: ['10.244.1.5'],
      type: 'NodePort',
      nodePort: 30080,
      externalIPs: ['192.0.2.10'],
    });
    expect(c.added.map((f) => f.type)).toEqual(['ClusterIP', 'ExternalIP', 'NodePort']);
    expect(c.conflicts).toEqual([]);
    expect(at(t, '10.96.0.20')?.type).toBe('ClusterIP');
    expect(at(t, '10.96.0.20', 80, PROTO_UDP)).toBeUndefined();
    expect(at(t, '10.96.0.20', 81)).toBeUndefined();
    expect(at(t, '192.0.2.10')?.type).toBe('ExternalIP');
    expect(t.lookupNodePort(30080, PROTO_TCP)?.service).toBe('default/web');
    expect(t.lookupNodePort(30081, PROTO_TCP)).toBeUndefined();
    expect([
      t.isServiceIp(parseIpv4('10.96.0.20')),
      t.isServiceIp(parseIpv4('192.0.2.10')),
      t.isServiceIp(parseIpv4('10.96.0.21')),
      t.isServiceIp(0),
    ]).toEqual([true, true, false, false]);
    expect([t.serviceCount, t.frontendCount]).toEqual([1, 3]);
    expect(t.backendFor('default/web/p/TCP/10.244.1.5:8080')?.name).toBe('pod-10.244.1.5');
    expect(t.services().map((s) => [s.service, s.frontends.length])).toEqual([['default/web', 3]]);
  });

  it('replaces one Service atomically: old keys go, new keys come, backends carry their counters', () => {
    const t = new ServiceTable();
    put(t, 'web', { clusterIP: '10.96.0.20', ips: ['10.244.1.5', '10.244.2.3'], externalIPs: ['192.0.2.10'] });
    put(t, 'api', { clusterIP: '10.96.0.30', ips: ['10.244.3.3'] });
    at(t, '10.96.0.20')!.backends[0].connections = 5;
    const c = put(t, 'web', {
      clusterIP: '10.96.0.20',
      ips: ['10.244.1.5', '10.244.4.4'],
      externalIPs: ['192.0.2.11'],
    });
    expect(c.added.map((f) => ipv4ToString(f.ip))).toEqual(['192.0.2.11']);
    expect(c.removed.map((f) => ipv4ToString(f.ip))).toEqual(['192.0.2.10']);
    expect(gone(c)).toEqual([
      '10.96.0.20:80 -> 10.244.2.3:8080',
      '192.0.2.10:80 -> 10.244.1.5:8080',
      '192.0.2.10:80 -> 10.244.2.3:8080',
    ]);
    expect(at(t, '192.0.2.10')).toBeUndefined();
    expect(t.isServiceIp(parseIpv4('192.0.2.10'))).toBe(false);
    expect(eps(at(t, '10.96.0.20'))).toEqual(['10.244.1.5', '10.244.4.4']);
    expect(at(t, '10.96.0.20')!.backends[0].connections).toBe(5);
    expect(t.backendFor('default/web/p/TCP/10.244.2.3:8080')).toBeUndefined();
    expect(eps(at(t, '10.96.0.30'))).toEqual(['10.244.3.3']); // untouched
    expect([t.serviceCount, t.frontendCount]).toEqual([2, 3]);
  });

  it('deleteService removes its keys, IPs and backends, and reports every backend as gone', () => {
    const t = new ServiceTable();
    put(t, 'dns', {
      clusterIP: '10.96.0.10',
      ips: ['10.244.0.2', '10.244.0.3'],
      proto: 'UDP',
      type: 'NodePort',
      nodePort: 30053,
    });
    const c = t.deleteService('default/dns');
    expect(c.removed).toHaveLength(2);
    expect(gone(c)).toEqual([
      '10.96.0.10:80 -> 10.244.0.2:8080',
      '10.96.0.10:80 -> 10.244.0.3:8080',
      '*:30053 -> 10.244.0.2:8080',
      '*:30053 -> 10.244.0.3:8080',
    ]);
    expect(c.removedBackends[0].proto).toBe(PROTO_UDP);
    expect([
      at(t, '10.96.0.10', 80, PROTO_UDP),
      t.lookupNodePort(30053, PROTO_UDP),
      t.isServiceIp(parseIpv4('10.96.0.10')),
    ]).toEqual([undefined, undefined, false]);
    expect([t.serviceCount, t.frontendCount, t.services()]).toEqual([0, 0, []]);
    expect(t.deleteService('default/never')).toMatchObject({ added: [], removed: [], removedBackends: [] });
  });

  it('removedBackends: a backend that stops being usable is stale, one that stays is not', () => {
    const t = new ServiceTable();
    const before = put(t, 'web', { clusterIP: '10.96.0.20', ips: ['10.244.1.5', '10.244.2.3'] }).added;
    const after = compileService(...objects('web', { clusterIP: '10.96.0.20', ips: ['10.244.2.3'] }), node, {
      defaultScheduler: 'rr',
    }).frontends;
    expect(removedBackends('default/web', before, after)).toEqual([
      {
        service: 'default/web',
        frontendIp: parseIpv4('10.96.0.20'),
        frontendPort: 80,
        proto: PROTO_TCP,
        ip: parseIpv4('10.244.1.5'),
        port: 8080,
      },
    ]);
    expect(removedBackends('default/web', before, before)).toEqual([]);
  });

  it('two Services claiming one externalIP:port: the first keeps it until it lets go', () => {
    const t = new ServiceTable();
    put(t, 'a', { clusterIP: '10.96.0.1', ips: ['10.244.1.1'], externalIPs: ['192.0.2.10'] });
    const b = put(t, 'b', { clusterIP: '10.96.0.2', ips: ['10.244.1.2'], externalIPs: ['192.0.2.10'] });
    expect(b.conflicts).toEqual(['192.0.2.10:80/TCP belongs to default/a']);
    expect(at(t, '192.0.2.10')?.service).toBe('default/a');
    put(t, 'b', { clusterIP: '10.96.0.2', ips: ['10.244.1.3'], externalIPs: ['192.0.2.10'] }); // b updates while waiting
    expect(at(t, '192.0.2.10')?.service).toBe('default/a');
    put(t, 'a', { clusterIP: '10.96.0.1', ips: ['10.244.1.9'], externalIPs: ['192.0.2.10'] }); // a's update keeps it
    expect(eps(at(t, '192.0.2.10'))).toEqual(['10.244.1.9']);
    t.deleteService('default/a');
    expect(eps(at(t, '192.0.2.10'))).toEqual(['10.244.1.3']);
    t.deleteService('default/b');
    expect(at(t, '192.0.2.10')).toBeUndefined();
  });

  it('10,000 Services: every lookup is one Map get and finds its own frontend', () => {
    const t = new ServiceTable();
    const n = 10_000;
    const vip = (i: number) => ipv4ToString(parseIpv4('10.96.0.0') + i + 1);
    for (let i = 0; i < n; i++)
      put(t, `svc-${i}`, { clusterIP: vip(i), ips: [ipv4ToString(parseIpv4('10.244.0.0') + i + 1)] });
    expect([t.serviceCount, t.frontendCount]).toEqual([n, n]);
    for (const i of [0, 1, 4999, 9998, 9999]) {
      const f = at(t, vip(i));
      expect(f?.service).toBe(`default/svc-${i}`);
      expect(eps(f)).toEqual([ipv4ToString(parseIpv4('10.244.0.0') + i + 1)]);
    }
    // one change costs that Service only: the others' frontends are the same objects
    const other = at(t, vip(42));
    put(t, 'svc-7', { clusterIP: vip(7), ips: ['10.1.1.1'] });
    expect(at(t, vip(42))).toBe(other);
    expect(eps(at(t, vip(7)))).toEqual(['10.1.1.1']);
    expect(t.rulesExamined.lookups).toBe(0); // hash mode never scans
  });

  it('linear mode finds the same frontends by scanning, O(rules)', () => {
    const hash = new ServiceTable();
    const linear = new ServiceTable({ mode: 'linear' });
    const n = 1000;
    const vip = (i: number) => ipv4ToString(parseIpv4('10.96.0.0') + i + 1);
    for (let i = 0; i < n; i++) {
      for (const t of [hash, linear])
        put(t, `svc-${i}`, { clusterIP: vip(i), ips: ['10.244.1.1'], type: 'NodePort', nodePort: 30000 + i });
    }
    for (const i of [0, 499, 999]) {
      expect(at(linear, vip(i))?.service).toBe(at(hash, vip(i))?.service);
      expect(linear.rulesExamined.last).toBe(i + 1);
    }
    expect(at(linear, '10.96.99.99')).toBeUndefined();
    expect(linear.rulesExamined.last).toBe(n);
    expect(linear.lookupNodePort(30999, PROTO_TCP)?.service).toBe('default/svc-999');
    expect(linear.rulesExamined.last).toBe(n);
    linear.deleteService('default/svc-0');
    expect(at(linear, vip(0))).toBeUndefined();
    expect(at(linear, vip(1))?.service).toBe('default/svc-1');
    expect(linear.rulesExamined.last).toBe(1);
  });
});
