import { describe, it, expect } from 'vitest';
import {
  schedulePods,
  countPodsPerNode,
  countSiblings,
  needsScheduling,
  unschedulableMessage,
} from '../../../../src/control/controllers/index.js';
import { node, pod } from './fixtures.js';

const three = () => [node('node1'), node('node2'), node('node3')];
const tally = (placements: ReturnType<typeof schedulePods>) => {
  const m: Record<string, number> = {};
  for (const p of placements) if ('node' in p) m[p.node] = (m[p.node] ?? 0) + 1;
  return m;
};

describe('scheduler', () => {
  it('spreads 30 pods over 3 nodes 10/10/10, ties in name order', () => {
    const pods = Array.from({ length: 30 }, (_, i) => pod(`p${i}`));
    const placements = schedulePods(pods, three(), new Map());
    expect(tally(placements)).toEqual({ node1: 10, node2: 10, node3: 10 });
    expect(placements.slice(0, 4).map((p) => ('node' in p ? p.node : ''))).toEqual([
      'node1',
      'node2',
      'node3',
      'node1',
    ]);
  });

  it('fills the emptiest node first, counting pods already bound', () => {
    const bound = [
      pod('x1', { node: 'node1' }),
      pod('x2', { node: 'node1' }),
      pod('x3', { node: 'node2' }),
      pod('done', { node: 'node3', phase: 'Succeeded' }),
    ];
    const counts = countPodsPerNode(bound);
    expect(counts).toEqual(
      new Map([
        ['node1', 2],
        ['node2', 1],
      ]),
    );
    // three unrelated pods (different labels): only the totals count
    expect(
      tally(
        schedulePods(
          [pod('a', { labels: { app: 'a' } }), pod('b', { labels: { app: 'b' } }), pod('c', { labels: { app: 'c' } })],
          three(),
          counts,
        ),
      ),
    ).toEqual({ node3: 2, node2: 1 });
  });

  it('spreads one controller’s replicas over nodes before filling the emptiest node', () => {
    const other = [
      pod('x1', { node: 'node1', labels: { app: 'x' } }),
      pod('x2', { node: 'node1', labels: { app: 'x' } }),
      pod('x3', { node: 'node1', labels: { app: 'x' } }),
    ];
    const web = Array.from({ length: 3 }, (_, i) => pod(`web-${i}`, { labels: { app: 'web' } }));
    const placed = schedulePods(web, three(), countPodsPerNode(other), countSiblings(other));
    expect(tally(placed)).toEqual({ node1: 1, node2: 1, node3: 1 });
    // siblings already bound count too
    const bound = [
      pod('web-a', { node: 'node2', labels: { app: 'web' } }),
      pod('web-b', { node: 'node3', labels: { app: 'web' } }),
    ];
    const [next] = schedulePods(
      [pod('web-c', { labels: { app: 'web' } })],
      three(),
      countPodsPerNode([...other, ...bound]),
      countSiblings([...other, ...bound]),
    );
    expect(next).toMatchObject({ node: 'node1' });
  });

  it('honours nodeSelector, readiness, cordons and taints, with upstream’s message', () => {
    const nodes = [
      node('node1', { ready: false }),
      node('node2', { unschedulable: true }),
      node('node3', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }),
      node('node4', { labels: { disk: 'hdd' } }),
      node('node5', { labels: { disk: 'ssd' } }),
    ];
    const [ok] = schedulePods([pod('a', { nodeSelector: { disk: 'ssd' } })], nodes, new Map());
    expect(ok).toMatchObject({ node: 'node5' });
    const [no] = schedulePods([pod('b', { nodeSelector: { disk: 'nvme' } })], nodes, new Map());
    expect(no).toMatchObject({
      unschedulable:
        "0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 1 node(s) were not ready, 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector.",
    });
    const tolerant = pod('c');
    tolerant.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }];
    tolerant.spec.nodeSelector = { 'kubernetes.io/hostname': 'node3' };
    expect(schedulePods([tolerant], nodes, new Map())[0]).toMatchObject({ node: 'node3' });
  });

  it('says what upstream says when no node is ready, or there are none', () => {
    const down = [node('node1', { ready: false }), node('node2', { ready: false }), node('node3', { ready: 'none' })];
    expect(schedulePods([pod('a')], down, new Map())[0]).toMatchObject({
      unschedulable: '0/3 nodes are available: 3 node(s) were not ready.',
    });
    expect(schedulePods([pod('a')], [], new Map())[0]).toMatchObject({
      unschedulable: 'no nodes available to schedule pods',
    });
    expect(
      unschedulableMessage(
        12,
        new Map([
          ['node(s) were not ready', 2],
          ['node(s) were unschedulable', 10],
        ]),
      ),
    ).toBe('0/12 nodes are available: 10 node(s) were unschedulable, 2 node(s) were not ready.');
  });

  it('matches required node affinity', () => {
    const p = pod('a');
    p.spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }],
        },
      },
    };
    const nodes = [node('node1', { labels: { zone: 'a' } }), node('node2', { labels: { zone: 'b' } })];
    expect(schedulePods([p], nodes, new Map())[0]).toMatchObject({ node: 'node2' });
  });

  it('leaves bound pods, other schedulers’ pods and finished pods alone', () => {
    expect(needsScheduling(pod('a'))).toBe(true);
    expect(needsScheduling(pod('a', { node: 'node1' }))).toBe(false);
    const other = pod('b');
    other.spec.schedulerName = 'my-scheduler';
    expect(needsScheduling(other)).toBe(false);
    const dflt = pod('c');
    dflt.spec.schedulerName = 'default-scheduler';
    expect(needsScheduling(dflt)).toBe(true);
    expect(needsScheduling(pod('d', { phase: 'Failed' }))).toBe(false);
  });
});
