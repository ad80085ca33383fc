import { describe, it, expect } from 'vitest';
import { planPodCidrs, conflictConditions } from '../../../../src/control/controllers/index.js';
import { node, T0 } from './fixtures.js';

const cfg = { clusterCidr: '10.244.0.0/16', nodeCidrMaskSize: 24 };

describe('node IPAM', () => {
  it('gives nodeN the N-th /24, the others the lowest free from 1', () => {
    const plan = planPodCidrs([node('node3'), node('node1'), node('control'), node('node2')], cfg);
    expect(plan.assign).toEqual([
      { node: 'node1', podCIDR: '10.244.1.0/24' },
      { node: 'node2', podCIDR: '10.244.2.0/24' },
      { node: 'node3', podCIDR: '10.244.3.0/24' },
      { node: 'control', podCIDR: '10.244.4.0/24' },
    ]);
    expect(plan).toMatchObject({ exhausted: [], conflicts: [], malformed: [] });
  });

  it('never hands out a range another node holds, even a wider one', () => {
    const plan = planPodCidrs(
      [
        node('a', { podCIDR: '10.244.0.0/23' }),
        node('node1'),
        node('node5', { podCIDR: '10.244.2.0/24' }),
        node('node2'),
        node('x'),
      ],
      cfg,
    );
    // node1's own slice (10.244.1.0/24) is inside a's /23; node2's is node5's.
    expect(plan.assign).toEqual([
      { node: 'node1', podCIDR: '10.244.3.0/24' },
      { node: 'node2', podCIDR: '10.244.4.0/24' },
      { node: 'x', podCIDR: '10.244.5.0/24' },
    ]);
  });

  it('leaves nodes that have a podCIDR alone and reports overlaps on the later node', () => {
    const nodes = [
      node('node1', { podCIDR: '10.244.1.0/24', created: T0 }),
      node('node2', { podCIDR: '10.244.1.0/24', created: T0 + 1000 }),
      node('node3', { podCIDR: '10.244.1.128/25', created: T0 + 2000 }),
    ];
    const plan = planPodCidrs(nodes, cfg);
    expect(plan.assign).toEqual([]);
    expect(plan.conflicts).toEqual([
      { node: 'node2', podCIDR: '10.244.1.0/24', with: 'node1', withCIDR: '10.244.1.0/24' },
      { node: 'node3', podCIDR: '10.244.1.128/25', with: 'node1', withCIDR: '10.244.1.0/24' },
    ]);
  });

  it('sets NetworkUnavailable=True PodCIDRConflict, and removes it when the conflict is gone', () => {
    const n = node('node2', { podCIDR: '10.244.1.0/24' });
    const conflict = { node: 'node2', podCIDR: '10.244.1.0/24', with: 'node1', withCIDR: '10.244.1.0/24' };
    const conds = conflictConditions(n, conflict, '2024-05-01T10:00:05Z');
    expect(conds[1]).toEqual({
      type: 'NetworkUnavailable',
      status: 'True',
      reason: 'PodCIDRConflict',
      message: 'podCIDR 10.244.1.0/24 overlaps 10.244.1.0/24 of node node1',
      lastHeartbeatTime: '2024-05-01T10:00:05Z',
      lastTransitionTime: '2024-05-01T10:00:05Z',
    });
    const marked = { ...n, status: { ...n.status, conditions: conds } };
    expect(conflictConditions(marked, conflict, '2024-05-01T10:00:09Z')).toBe(conds); // unchanged: no write
    expect(conflictConditions(marked, undefined, '2024-05-01T10:00:09Z')).toEqual(n.status!.conditions);
    expect(conflictConditions(n, undefined, 'x')).toBe(n.status!.conditions);
  });

  it('reports exhaustion and malformed podCIDRs', () => {
    const small = { clusterCidr: '10.244.0.0/23', nodeCidrMaskSize: 24 };
    const plan = planPodCidrs([node('a'), node('b'), node('c'), node('bad', { podCIDR: '10.244.9.1/24' })], small);
    expect(plan.assign).toEqual([
      { node: 'a', podCIDR: '10.244.1.0/24' },
      { node: 'b', podCIDR: '10.244.0.0/24' },
    ]);
    expect(plan.exhausted).toEqual(['c']);
    expect(plan.malformed).toEqual([
      { node: 'bad', podCIDR: '10.244.9.1/24', error: '"10.244.9.1/24": host bits set (did you mean 10.244.9.0/24?)' },
    ]);
  });

  it('uses index 0 for node0 and when nothing else is left', () => {
    expect(planPodCidrs([node('node0')], cfg).assign).toEqual([{ node: 'node0', podCIDR: '10.244.0.0/24' }]);
    expect(planPodCidrs([node('node300')], cfg).assign).toEqual([{ node: 'node300', podCIDR: '10.244.1.0/24' }]);
  });
});
