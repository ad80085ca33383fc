import { describe, it, expect } from 'vitest';
import { traceLadder, layerOfDrop, LADDER } from '../../../src/ui/trace-ladder.js';
import { firstRevealed, needsRelease, visibleLayers } from '../../../src/ui/step.js';
import { probeMatrixToUi } from '../../../src/ui/probe-cells.js';
import type { AgentEvent, TraceResult } from '../../../src/trace/index.js';
import type { ProbeMatrix } from '../../../src/probe/index.js';

// The Layers view's ladder from a trace's agent events (as node1's and
// node2's agents report them), and the Policy view's grid from probe's matrix.
const ev = (node: string, stage: string, detail: string, data?: Record<string, unknown>): AgentEvent => ({
  node,
  time: 0,
  stage,
  detail,
  ...(data ? { data } : {}),
});

const crossNode: AgentEvent[] = [
  ev('node1', 'received', 'from pod 10.244.1.2 on cbr0 (TTL 64, 1450 bytes)'),
  ev(
    'node1',
    'service',
    '10.96.0.20:80/TCP is ClusterIP frontend 10.96.0.20:80/TCP of Service default/backend: 2 usable backend(s) of 2, scheduler maglev',
    { service: 'default/backend', frontend: '10.96.0.20:80/TCP', backends: 2 },
  ),
  ev('node1', 'service', 'backend backend-1 10.244.2.3:8080 on node2 — maglev slot', {
    backend: 'backend-1',
    backendIp: '10.244.2.3',
    backendPort: 8080,
  }),
  ev('node1', 'conntrack', 'new entry TCP 10.244.1.2:42424 -> 10.96.0.20:80', { new: true }),
  ev('node1', 'policy', 'egress from default/client: no policy isolates it', { verdict: 'open', direction: 'egress' }),
  ev('node1', 'route', '10.244.2.3 is in 10.244.2.0/24 of peer node node2 (10.250.0.3): VXLAN', {
    peer: 'node2',
    peerIp: '10.250.0.3',
  }),
  ev('node1', 'encap', 'VXLAN: outer 10.250.0.2 -> 10.250.0.3 UDP 51234 -> 4789, VNI 1; inner …', {
    outerSrc: '10.250.0.2',
    outerDst: '10.250.0.3',
    srcPort: 51234,
    vni: 1,
  }),
  ev('node2', 'decap', 'VXLAN from peer node node1 (10.250.0.2), VNI 1, UDP source port 51234', {
    peer: 'node1',
    vni: 1,
  }),
  ev(
    'node2',
    'policy',
    'ingress to default/backend-1 from default/client TCP/8080 allowed by default/allow-client ingress[0]',
    {
      verdict: 'allowed',
      direction: 'ingress',
      policy: 'default/allow-client',
      rule: 'ingress[0]: from podSelector app=client',
    },
  ),
  ev('node2', 'deliver', 'to pod 10.244.2.3 (aa:bb) through cbr0, TTL now 62', { ttl: 62 }),
];

const delivered: TraceResult = {
  layers: [
    { where: 'client', what: 'route: 10.96.0.20 via 10.244.1.1 dev eth0, MTU 1450' },
    { where: 'backend-1', what: 'eth0: the probe arrived (TTL 62)' },
  ],
  verdict: 'DELIVERED',
  summary: 'delivered to backend-1 through Service default/backend',
};

const base = { srcPod: 'client', srcNode: 'node1', dstPod: 'backend-1', dstNode: 'node2', dnsLayers: 0 };

describe('traceLadder', () => {
  it('a Service across nodes: every layer passed with its fields, DNS skipped', () => {
    const l = traceLadder({ ...base, result: delivered, events: crossNode, final: true });
    expect(l.map((x) => `${x.name}:${x.state}`)).toEqual([
      'DNS:skipped',
      'Service:passed',
      'NetworkPolicy:passed',
      'Route:passed',
      'VXLAN:passed',
      'Delivery:passed',
    ]);
    expect(l[1].fields).toMatchObject({
      frontend: '10.96.0.20:80/TCP',
      backend: 'backend-1 (10.244.2.3:8080)',
      scheduler: 'maglev',
    });
    expect(l[1].fields.conntrack).toContain('new entry');
    expect(l[2].fields).toMatchObject({
      verdict: 'allowed',
      policy: 'default/allow-client',
      rule: 'ingress[0]: from podSelector app=client',
    });
    expect(l[3].fields).toMatchObject({ node: 'node1', 'next hop': 'node2 (10.250.0.3)', dev: 'eth0 (VXLAN)' });
    expect(l[4].fields).toEqual({
      'outer src': '10.250.0.2',
      'outer dst': '10.250.0.3',
      VNI: '1',
      'UDP source port': '51234',
      'decapsulated by': 'node2',
    });
    expect(l[5]).toMatchObject({
      node: 'node2',
      fields: { pod: 'backend-1', node: 'node2', arrival: 'the probe arrived (TTL 62)' },
    });
  });

  it('a policy drop: NetworkPolicy dropped with the reason and the policy, the rest not reached', () => {
    const events = [
      crossNode[0],
      ev('node1', 'route', "10.244.1.5 is in this node's pod CIDR 10.244.1.0/24: deliver locally"),
      ev(
        'node1',
        'policy',
        'egress from default/client … denied: isolated by default/default-deny-all; no rule allowed it',
        {
          verdict: 'denied',
          direction: 'egress',
          policies: ['default/default-deny-all'],
        },
      ),
      ev(
        'node1',
        'drop',
        'policy-denied-egress (egress: isolated by default/default-deny-all; no rule allowed it) — …',
        {
          reason: 'policy-denied-egress',
        },
      ),
    ];
    const result: TraceResult = { layers: [], verdict: 'DROPPED', reason: 'policy-denied-egress', summary: 'stopped' };
    const l = traceLadder({ ...base, result, events, final: true });
    expect(l.map((x) => `${x.name}:${x.state}`)).toEqual([
      'DNS:skipped',
      'Service:skipped',
      'NetworkPolicy:dropped',
      'Route:skipped',
      'VXLAN:skipped',
      'Delivery:skipped',
    ]);
    expect(l[2]).toMatchObject({
      reason: 'policy-denied-egress',
      fields: { policy: 'default/default-deny-all', verdict: 'denied' },
    });
    expect(l[3].summary).toBe('not reached: the probe stopped at NetworkPolicy');
  });

  it('a name resolved first: the DNS layer with name, answer and server', () => {
    const result: TraceResult = {
      ...delivered,
      layers: [
        { where: 'client', what: 'resolv.conf: nameserver 10.96.0.10' },
        {
          where: 'client',
          what: 'dns: A backend.default.svc.cluster.local @10.96.0.10 -> 10.96.0.20 in 1 ms [search]',
        },
        {
          where: 'client',
          what: 'dns: answered by search default.svc.cluster.local: backend.default.svc.cluster.local is 10.96.0.20 after 1 query (1 ms)',
        },
        ...delivered.layers,
      ],
    };
    const l = traceLadder({
      ...base,
      result,
      events: crossNode,
      dnsLayers: 3,
      name: 'backend',
      address: '10.96.0.20',
      final: true,
    });
    expect(l[0]).toMatchObject({
      name: 'DNS',
      state: 'passed',
      fields: { name: 'backend', answer: '10.96.0.20', server: '10.96.0.10' },
    });
  });

  it('same node: VXLAN skipped; a lost probe is dropped at the first layer nobody reported', () => {
    const events = [
      crossNode[0],
      ev('node1', 'route', "10.244.1.5 is in this node's pod CIDR 10.244.1.0/24: deliver locally"),
    ];
    const result: TraceResult = { layers: [], verdict: 'LOST', summary: "handed to x's port but not seen" };
    const l = traceLadder({ ...base, result, events, final: true });
    expect(l.map((x) => `${x.name}:${x.state}`)).toEqual([
      'DNS:skipped',
      'Service:skipped',
      'NetworkPolicy:skipped',
      'Route:passed',
      'VXLAN:skipped',
      'Delivery:dropped',
    ]);
    expect(l[5].reason).toBe('lost');
  });

  it('drop reasons belong to the stage that decides them', () => {
    expect(layerOfDrop('no-endpoints')).toBe('Service');
    expect(layerOfDrop('policy-denied-ingress')).toBe('NetworkPolicy');
    expect(layerOfDrop('ttl-expired')).toBe('Route');
    expect(layerOfDrop('peer-unreachable')).toBe('VXLAN');
    expect(layerOfDrop('arp-unresolved')).toBe('Delivery');
    expect(layerOfDrop('something-new')).toBeNull();
  });
});

describe('step mode, one layer per next', () => {
  const held = { ...base, result: { layers: [], verdict: 'LOST' as const, summary: '' }, final: false };
  it('held before the Service stage: DNS and the pending Service; held before delivery: the sender’s layers decided', () => {
    const start = traceLadder({ ...held, events: [] });
    expect(firstRevealed(start)).toBe(2);
    expect(visibleLayers(start, 2).map((x) => `${x.name}:${x.state}`)).toEqual(['DNS:skipped', 'Service:pending']);
    expect(needsRelease(start, 2)).toBe(true);
    const atReceiver = traceLadder({ ...held, events: crossNode.slice(0, 9) });
    expect(atReceiver.map((x) => x.state)).toEqual(['skipped', 'passed', 'passed', 'passed', 'passed', 'pending']);
    expect(needsRelease(atReceiver, 3)).toBe(false); // NetworkPolicy → Route: recorded, the probe stays put
    expect(needsRelease(atReceiver, 5)).toBe(true); // adding Delivery moves it
    expect(LADDER.length).toBe(6);
  });

  it('a name: resolved before the probe leaves, DNS is decided in the first view', () => {
    const dns = [
      { where: 'client', what: 'dns: A backend.default.svc.cluster.local @10.96.0.10 -> 10.96.0.20 in 1 ms [search]' },
      { where: 'client', what: 'dns: answered by search: backend.default.svc.cluster.local is 10.96.0.20' },
    ];
    const start = traceLadder({
      ...held,
      result: { layers: dns, verdict: 'LOST', summary: '' },
      dnsLayers: 2,
      name: 'backend',
      address: '10.96.0.20',
      events: [],
    });
    expect(visibleLayers(start, firstRevealed(start)).map((x) => `${x.name}:${x.state}`)).toEqual([
      'DNS:passed',
      'Service:pending',
    ]);
    expect(start[0].fields).toEqual({ name: 'backend', answer: '10.96.0.20', server: '10.96.0.10' });
  });
});

describe('probeMatrixToUi', () => {
  it('one table, observed folded, explain in the model’s words', () => {
    const cell = (from: string, to: string, observed: string, expected: 'allowed' | 'blocked', why: string) => ({
      from,
      to,
      observed,
      expected,
      why,
      detail: observed === 'not-probed' ? 'no SCTP' : '',
      mark: '.',
    });
    const m = {
      to: 'pods',
      pods: [
        { pod: 'x/a', ip: '10.244.1.2' },
        { pod: 'x/b', ip: '10.244.2.2' },
      ],
      tables: [
        { name: 'UDP/81', proto: 'udp', port: 81, rows: [] },
        {
          name: 'TCP/80',
          proto: 'tcp',
          port: 80,
          rows: [
            [
              cell('x/a', 'x/a', 'connected', 'allowed', 'a pod to itself'),
              cell(
                'x/a',
                'x/b',
                'blocked',
                'blocked',
                'ingress to x/b … denied: isolated by x/deny-all; no rule allowed it',
              ),
            ],
            [
              cell('x/b', 'x/a', 'refused', 'allowed', 'allowed by x/allow ingress[0]'),
              cell('x/b', 'x/b', 'not-probed', 'allowed', 'itself'),
            ],
          ],
        },
      ],
      summary: { cells: 4, compared: 3, correct: 3, wrong: 0, notProbed: 1, noTarget: 0 },
      notes: [],
    } as unknown as ProbeMatrix;
    const u = probeMatrixToUi(m, 'x', 80, 'tcp');
    expect(u.pods).toEqual(['x/a', 'x/b']);
    expect(u.cells.map((r) => r.map((c) => c.observed))).toEqual([
      ['allowed', 'blocked'],
      ['allowed', 'not-probed'],
    ]);
    expect(u.cells[0][1].explain).toContain('isolated by x/deny-all');
    expect(u.cells[1][1].explain).toBe('itself (not probed: no SCTP)');
    expect(u).toMatchObject({ namespace: 'x', port: 80, proto: 'tcp' });
  });
});
