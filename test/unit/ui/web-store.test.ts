import { describe, it, expect } from 'vitest';
import type { UiFlow, UiFlowBatch } from '../../../src/ui/contract.js';
import {
  FLOW_TTL_MS,
  describePath,
  dropFiltered,
  dropMatches,
  flowMatches,
  flowTitle,
  mergeFlows,
  pushDrop,
  NO_FILTER,
} from '../../../src/ui/web/store.js';

// The page's state under load rests on these folds: one entry per flow key however many batches
// name it, a cap on entries and on drops, and flows that stop leave after the TTL.

const flow = (key: string, extra: Partial<UiFlow> = {}): UiFlow => ({
  key,
  proto: 'tcp',
  src: { ip: '10.244.1.2', pod: 'default/client', node: 'node1' },
  dst: { ip: '10.244.2.3', pod: 'default/web', node: 'node2', port: 80 },
  verdict: 'FORWARDED',
  path: [
    { kind: 'pod', id: 'default/client' },
    { kind: 'bridge', node: 'node1' },
    { kind: 'agent', node: 'node1' },
    { kind: 'vxlan', from: 'node1', to: 'node2' },
    { kind: 'agent', node: 'node2' },
    { kind: 'bridge', node: 'node2' },
    { kind: 'pod', id: 'default/web' },
  ],
  events: 1,
  lastSeen: '2026-12-07T13:00:00Z',
  ...extra,
});
const batch = (...flows: UiFlow[]): UiFlowBatch => ({ windowMs: 500, flows });

describe('the page’s flow state', () => {
  it('keeps one entry per key and sums its events across windows', () => {
    let m = mergeFlows(new Map(), batch(flow('a', { events: 5 }), flow('b')), 0);
    for (let i = 1; i <= 100; i++) m = mergeFlows(m, batch(flow('a', { events: 7 })), i * 500);
    expect(m.size).toBe(2);
    expect(m.get('a')!.total).toBe(5 + 700);
  });

  it('caps the entries, dropping the least recently seen', () => {
    let m = mergeFlows(new Map(), batch(flow('old')), 0, 3);
    m = mergeFlows(m, batch(flow('x'), flow('y')), 1, 3);
    m = mergeFlows(m, batch(flow('old')), 2, 3); // seen again: now the newest
    m = mergeFlows(m, batch(flow('z')), 3, 3);
    expect([...m.keys()]).toEqual(['y', 'old', 'z']);
  });

  it('forgets a flow not seen for the TTL', () => {
    let m = mergeFlows(new Map(), batch(flow('gone'), flow('stays')), 0);
    m = mergeFlows(m, batch(flow('stays')), FLOW_TTL_MS);
    m = mergeFlows(m, batch(), FLOW_TTL_MS + 1);
    expect([...m.keys()]).toEqual(['stays']);
  });

  it('caps the drops, newest first', () => {
    let d: ReturnType<typeof pushDrop> = [];
    for (let i = 0; i < 40; i++)
      d = pushDrop(d, { time: String(i), node: 'node1', reason: 'r', proto: 'tcp', src: 'a', dst: 'b' }, 25);
    expect(d).toHaveLength(25);
    expect(d[0].time).toBe('39');
  });
});

describe('filters and words', () => {
  it('filters by namespace, pod, Service and verdict', () => {
    const f = flow('k', { service: 'shop/web', backend: 'shop/web-1' });
    expect(flowMatches(f, NO_FILTER)).toBe(true);
    expect(flowMatches(f, { ...NO_FILTER, namespace: 'shop' })).toBe(true);
    expect(flowMatches(f, { ...NO_FILTER, namespace: 'kube-system' })).toBe(false);
    expect(flowMatches(f, { ...NO_FILTER, pod: 'CLIENT' })).toBe(true);
    expect(flowMatches(f, { ...NO_FILTER, pod: 'db' })).toBe(false);
    expect(flowMatches(f, { ...NO_FILTER, service: 'shop/web' })).toBe(true);
    expect(flowMatches(f, { ...NO_FILTER, verdict: 'DROPPED' })).toBe(false);
  });

  it('names both pods and the VXLAN hop, and the drop at its hop with its reason', () => {
    const f = flow('k', { verdict: 'DROPPED', reason: 'policy-denied', dropAt: { node: 'node2', hop: 4 } });
    expect(flowTitle(f)).toBe('default/client → default/web tcp/80 DROPPED');
    expect(describePath(f)).toBe(
      'pod default/client → cbr0 on node1 → agent on node1 → VXLAN node1 → node2 over eth0 → ✖ agent on node2 (dropped: policy-denied) → cbr0 on node2 → pod default/web',
    );
  });

  it('the drops list follows the namespace and pod filters', () => {
    const d = {
      time: 't',
      node: 'node1',
      reason: 'not-ours',
      proto: 'TCP',
      src: '172.28.0.11:5',
      dst: '172.28.0.2:6443',
    };
    const p = { ...d, reason: 'policy-denied-ingress', srcPod: 'default/client', dstPod: 'shop/db' };
    expect(dropFiltered(d, NO_FILTER)).toBe(true);
    expect(dropFiltered(d, { ...NO_FILTER, namespace: 'shop' })).toBe(false);
    expect(dropFiltered(p, { ...NO_FILTER, namespace: 'shop' })).toBe(true);
    expect(dropFiltered(p, { ...NO_FILTER, pod: 'DB' })).toBe(true);
    expect(dropFiltered(d, { ...NO_FILTER, pod: 'db' })).toBe(false);
  });

  it('break-on-drop matches every word of its filter, any drop when empty', () => {
    const d = {
      time: 't',
      node: 'node2',
      reason: 'policy-denied',
      proto: 'tcp',
      src: '10.0.0.1',
      dst: '10.0.0.2',
      dstPod: 'default/db',
    };
    expect(dropMatches('', d)).toBe(true);
    expect(dropMatches('db node2', d)).toBe(true);
    expect(dropMatches('db node1', d)).toBe(false);
    expect(dropMatches('POLICY', flow('k', { verdict: 'DROPPED', reason: 'policy-denied' }))).toBe(true);
  });
});
