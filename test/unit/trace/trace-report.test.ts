import { describe, it, expect } from 'vitest';
import { explainTrace, formatTrace, parseServiceTarget, type AgentEvent } from '../../../src/trace/index.js';

const inject = {
  pod: 'client',
  route: { gateway: '10.244.1.1', dev: 'eth0' },
  mtu: 1450,
  gateway: '10.244.1.1',
  gatewayMac: '0a:58:0a:f4:01:01',
  arpMs: 0.5,
  sent: true,
};
const ev = (node: string, stage: string, time = 1000, data?: Record<string, unknown>): AgentEvent => ({
  node,
  stage,
  detail: stage,
  time,
  data,
});

describe('trace report', () => {
  it('orders layers by the path, not by clocks: the source node first even when another agent’s event arrived earlier', () => {
    const r = explainTrace({
      inject,
      events: [
        ev('node1', 'received'),
        ev('node2', 'decap'),
        ev('node1', 'route'),
        ev('node1', 'encap'),
        ev('node2', 'deliver'),
      ],
      agentsDown: [],
      srcNode: 'node1',
      dst: { ip: '10.244.2.2', pod: 'web-2', node: 'node2' },
      arrival: { arrived: true, ttl: 62 },
      pathMtu: 1450,
    });
    expect(r.layers.map((l) => `${l.where}/${l.what.split(':')[0]}`)).toEqual([
      'client/route',
      'client/gateway ARP',
      'node1 agent/received',
      'node1 agent/route',
      'node1 agent/encap',
      'node2 agent/decap',
      'node2 agent/deliver',
      'web-2/eth0',
    ]);
    expect(r.verdict).toBe('DELIVERED');
  });

  it('names the layer for each way a probe ends', () => {
    const base = {
      inject,
      agentsDown: [] as string[],
      srcNode: 'node1',
      dst: { ip: '10.244.2.2', pod: 'web-2', node: 'node2' },
      pathMtu: 1450,
    };
    expect(
      explainTrace({
        ...base,
        events: [ev('node1', 'received'), ev('node1', 'drop', 1, { reason: 'ttl-expired' })],
        arrival: { arrived: false },
      }),
    ).toMatchObject({ verdict: 'DROPPED', reason: 'ttl-expired' });
    expect(
      explainTrace({
        ...base,
        events: [ev('node1', 'encap', 1, { outerDst: '172.28.0.12' })],
        agentsDown: ['node2'],
        arrival: { arrived: false },
      }).summary,
    ).toMatch(/node2's agent is not running/);
    expect(explainTrace({ ...base, events: [], agentsDown: ['node1'], arrival: { arrived: false } }).summary).toMatch(
      /node1's agent is not running/,
    );
    expect(
      explainTrace({
        ...base,
        inject: { pod: 'client', route: null, error: 'Network is unreachable', sent: false },
        events: [],
        arrival: null,
      }).summary,
    ).toMatch(/no route/);
    expect(explainTrace({ ...base, inject: { ...inject, gatewayMac: null }, events: [], arrival: null }).verdict).toBe(
      'LOST',
    );
  });
});

describe('trace through a Service', () => {
  it('accepts svc/[namespace/]name[:port][/tcp|udp]; anything else is not a Service target', () => {
    expect(parseServiceTarget('svc/backend')).toEqual({ namespace: 'default', name: 'backend' });
    expect(parseServiceTarget('svc/prod/api:8080')).toEqual({ namespace: 'prod', name: 'api', port: 8080 });
    expect(parseServiceTarget('service/kube-dns:53/udp')).toEqual({
      namespace: 'default',
      name: 'kube-dns',
      port: 53,
      proto: 'udp',
    });
    expect(parseServiceTarget('svc/backend/udp')).toEqual({ namespace: 'default', name: 'backend', proto: 'udp' });
    expect(parseServiceTarget('web-2:80')).toBeNull();
    expect(parseServiceTarget('10.96.1.2:8080')).toBeNull();
    expect(() => parseServiceTarget('svc/backend:99999')).toThrow(/out of range/);
    expect(() => parseServiceTarget('svc/backend/icmp')).toThrow(/TCP and UDP/);
    expect(() => parseServiceTarget('svc/Bad_Name')).toThrow(/svc\//);
  });

  it('shows the Service stage between received and route, and delivers to the backend it chose', () => {
    const events = [
      ev('node1', 'received'),
      ev('node1', 'service'),
      { ...ev('node1', 'service'), data: { backendIp: '10.244.2.4' } },
      ev('node1', 'conntrack'),
      ev('node1', 'nat'),
      ev('node1', 'route'),
      ev('node1', 'encap'),
      ev('node2', 'decap'),
      ev('node2', 'deliver'),
    ];
    const r = explainTrace({
      inject,
      events,
      agentsDown: [],
      srcNode: 'node1',
      dst: { ip: '10.244.2.4', pod: 'backend-1', node: 'node2', via: 'Service default/backend', sentTo: '10.96.1.2' },
      arrival: { arrived: true, ttl: 62 },
      pathMtu: 1450,
    });
    expect(r.layers[0].what).toBe('route: 10.96.1.2 via 10.244.1.1 dev eth0, MTU 1450'); // the pod routes the ClusterIP, not the backend
    expect(r.layers.map((l) => l.what.split(':')[0]).slice(2)).toEqual([
      'received',
      'service',
      'service',
      'conntrack',
      'nat',
      'route',
      'encap',
      'decap',
      'deliver',
      'eth0',
    ]);
    expect(r).toMatchObject({
      verdict: 'DELIVERED',
      summary: 'delivered to backend-1 through Service default/backend',
    });
  });

  it('a Service without endpoints: dropped at the client’s node, naming the Service', () => {
    const drop = {
      node: 'node1',
      time: 1,
      stage: 'drop',
      detail: 'no-endpoints (default/web) — the Service has no ready endpoints',
      data: { reason: 'no-endpoints', detail: 'default/web' },
    };
    const r = explainTrace({
      inject,
      events: [ev('node1', 'received'), ev('node1', 'service'), drop],
      agentsDown: [],
      srcNode: 'node1',
      dst: { ip: '10.96.1.3', via: 'Service default/web' },
      arrival: null,
      pathMtu: 1450,
    });
    expect(r).toMatchObject({ verdict: 'DROPPED', reason: 'no-endpoints' });
    expect(formatTrace(r, 'trace').split('\n').pop()).toBe(
      "DROPPED: stopped at node1's agent: no-endpoints (default/web) — the Service has no ready endpoints",
    );
  });
});
