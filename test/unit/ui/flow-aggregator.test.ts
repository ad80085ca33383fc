import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../../src/observe/index.js';
import {
  DropLimiter,
  FlowAggregator,
  addressBook,
  buildTopology,
  dropOf,
  flowOf,
  type UiDrop,
} from '../../../src/ui/index.js';

const topo = buildTopology({
  planNodes: [
    { name: 'node1', ip: '172.28.0.11', podCidr: '10.244.1.0/24' },
    { name: 'node2', ip: '172.28.0.12', podCidr: '10.244.2.0/24' },
  ],
  nodes: [],
  pods: [
    { metadata: { name: 'a', namespace: 'default' }, spec: { nodeName: 'node1' }, status: { podIP: '10.244.1.2' } },
    { metadata: { name: 'b', namespace: 'default' }, spec: { nodeName: 'node2' }, status: { podIP: '10.244.2.3' } },
    { metadata: { name: 'c', namespace: 'default' }, spec: { nodeName: 'node1' }, status: { podIP: '10.244.1.7' } },
  ],
  services: [],
  endpointSlices: [],
  policies: [],
  ingresses: [],
  agents: {},
});
const book = addressBook(topo);

const ev = (over: Partial<FlowEvent>): FlowEvent => ({
  time: '2026-01-01T00:00:00.000Z',
  node: 'node1',
  verdict: 'FORWARDED',
  kind: 'new',
  proto: 'TCP',
  src: '10.244.1.2',
  dst: '10.244.2.3',
  srcPort: 40000,
  dstPort: 80,
  from: 'from-pods',
  to: 'vxlan',
  peerNode: '172.28.0.12',
  packets: 1,
  bytes: 60,
  ...over,
});

const hops = (f: { path: { kind: string; node?: string; id?: string; from?: string; to?: string }[] }) =>
  f.path.map((h) => h.kind + (h.id ? `:${h.id}` : h.node ? `:${h.node}` : h.from ? `:${h.from}>${h.to}` : ''));

describe('flows: the path of an event', () => {
  it('a cross-node flow seen by the sending agent: pod → cbr0 → agent → VXLAN → agent → cbr0 → pod', () => {
    const f = flowOf(ev({}), book);
    expect(hops(f)).toEqual([
      'pod:default/a',
      'bridge:node1',
      'agent:node1',
      'vxlan:node1>node2',
      'agent:node2',
      'bridge:node2',
      'pod:default/b',
    ]);
    expect(f.src).toEqual({ ip: '10.244.1.2', pod: 'default/a', node: 'node1' });
    expect(f.dst).toEqual({ ip: '10.244.2.3', pod: 'default/b', node: 'node2', port: 80 });
  });

  it('the same flow seen by the receiving agent draws the same path', () => {
    const f = flowOf(ev({ node: 'node2', from: 'from-underlay', to: 'local-pod', peerNode: undefined }), book);
    expect(hops(f)).toEqual(hops(flowOf(ev({}), book)));
  });

  it('a same-node flow stays on its node', () => {
    const f = flowOf(ev({ dst: '10.244.1.7', to: 'local-pod', peerNode: undefined }), book);
    expect(hops(f)).toEqual(['pod:default/a', 'bridge:node1', 'agent:node1', 'bridge:node1', 'pod:default/c']);
  });

  it('through a Service: the frontend after the agent, the chosen backend at the end', () => {
    const f = flowOf(
      ev({
        kind: 'translated',
        verdict: 'TRANSLATED',
        dst: '10.96.0.20',
        newDst: '10.244.2.3',
        newDstPort: 8080,
        service: 'default/web',
        backend: 'b',
      }),
      book,
    );
    expect(hops(f)).toEqual([
      'pod:default/a',
      'bridge:node1',
      'agent:node1',
      'service:default/web',
      'vxlan:node1>node2',
      'agent:node2',
      'bridge:node2',
      'pod:default/b',
    ]);
    expect(f).toMatchObject({
      service: 'default/web',
      backend: 'b',
      verdict: 'TRANSLATED',
      key: 'TCP:10.244.1.2>10.96.0.20:80',
    });
  });

  it('a masqueraded flow leaves by the underlay', () => {
    const f = flowOf(ev({ dst: '172.28.0.200', to: 'underlay', peerNode: undefined }), book);
    expect(hops(f)).toEqual(['pod:default/a', 'bridge:node1', 'agent:node1', 'underlay:node1']);
  });

  it('a drop ends the path at the agent that dropped it, with the hop and reason', () => {
    const f = flowOf(
      ev({
        node: 'node2',
        verdict: 'DROPPED',
        kind: 'drop',
        reason: 'policy-denied',
        from: 'from-underlay',
        to: undefined,
      }),
      book,
    );
    expect(hops(f)).toEqual(['pod:default/a', 'bridge:node1', 'agent:node1', 'vxlan:node1>node2', 'agent:node2']);
    expect(f.dropAt).toEqual({ node: 'node2', hop: 4 });
    expect(f.reason).toBe('policy-denied');
  });
});

describe('the flow aggregator', () => {
  it('folds a window into one entry per conversation, merging both agents’ reports', () => {
    const agg = new FlowAggregator({ book: () => book });
    for (let i = 0; i < 50; i++) agg.add(ev({ kind: 'update' }));
    agg.add(
      ev({
        node: 'node2',
        from: 'from-underlay',
        to: 'local-pod',
        peerNode: undefined,
        time: '2026-01-01T00:00:01.000Z',
      }),
    );
    agg.add(ev({ src: '10.244.2.3', dst: '10.244.1.2', srcPort: 80, dstPort: 40000, node: 'node2' }));
    agg.add(ev({ kind: 'dns-query' }));
    agg.add(ev({ kind: 'policy-verdict' }));
    const batch = agg.flush()!;
    expect(batch.windowMs).toBe(500);
    expect(batch.flows.map((f) => [f.key, f.events])).toEqual([
      ['TCP:10.244.1.2>10.244.2.3:80', 51],
      ['TCP:10.244.2.3>10.244.1.2:40000', 1],
    ]);
    expect(batch.flows[0].lastSeen).toBe('2026-01-01T00:00:01.000Z');
    expect(agg.flush()).toBeNull();
  });

  it('a drop in the window wins over forwarded reports of the same conversation', () => {
    const agg = new FlowAggregator({ book: () => book });
    agg.add(ev({}));
    agg.add(
      ev({
        node: 'node2',
        verdict: 'DROPPED',
        kind: 'drop',
        reason: 'policy-denied',
        from: 'from-underlay',
        to: undefined,
      }),
    );
    agg.add(ev({}));
    const [f] = agg.flush()!.flows;
    expect(f).toMatchObject({
      verdict: 'DROPPED',
      reason: 'policy-denied',
      dropAt: { node: 'node2', hop: 4 },
      events: 3,
    });
  });

  it('holds at most maxFlows entries a window and counts the rest', () => {
    const agg = new FlowAggregator({ book: () => book, maxFlows: 10 });
    for (let i = 0; i < 1000; i++) agg.add(ev({ dstPort: 1000 + (i % 100) }));
    const batch = agg.flush()!;
    expect(batch.flows).toHaveLength(10);
    expect(batch.flows.reduce((n, f) => n + f.events, 0) + batch.overflow!).toBe(1000);
  });

  it('skips events that are not objects with addresses', () => {
    const agg = new FlowAggregator({ book: () => book });
    expect(agg.add({ kind: 'new' } as unknown as FlowEvent)).toBe(false);
    expect(agg.flush()).toBeNull();
  });
});

describe('drops', () => {
  const drop = dropOf(ev({ verdict: 'DROPPED', kind: 'drop', reason: 'no-endpoints', detail: 'default/web' }), book);

  it('name both ends as observe does', () => {
    expect(drop).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      node: 'node1',
      reason: 'no-endpoints',
      detail: 'default/web',
      proto: 'TCP',
      src: '10.244.1.2:40000',
      dst: '10.244.2.3:80',
      srcPod: 'default/a',
      dstPod: 'default/b',
    });
  });

  it('are let through at most 20 a second; the next one says how many were folded', () => {
    let now = 0;
    const lim = new DropLimiter(() => now, 20);
    const sent: UiDrop[] = [];
    for (let i = 0; i < 1000; i++) {
      const d = lim.admit(drop);
      if (d) sent.push(d);
    }
    expect(sent).toHaveLength(20);
    now = 1000;
    const next = lim.admit(drop)!;
    expect(next.suppressed).toBe(980);
    expect(lim.admit(drop)!.suppressed).toBeUndefined();
  });
});
