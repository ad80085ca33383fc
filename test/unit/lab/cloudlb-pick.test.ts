// Rendezvous hashing over nodes, and the connection tracking table.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pickNode, FlowTable } from '../../../src/cloudlb/index.js';

const nodes = [0xac1c000b, 0xac1c000c, 0xac1c000d]; // 172.28.0.11-13
const flows = (n: number) => Array.from({ length: n }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0);

describe('pickNode', () => {
  it('is deterministic and does not depend on the order of the nodes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.shuffledSubarray(nodes, { minLength: 1 }),
        (h, subset) => {
          const a = subset[pickNode(h, subset)];
          const b = [...subset].reverse()[pickNode(h, [...subset].reverse())];
          expect(a).toBe(b);
        },
      ),
    );
    expect(pickNode(42, [])).toBe(-1);
  });

  it('spreads flows evenly (each of 3 nodes within 10% of a third of 30,000)', () => {
    const count = new Map<number, number>();
    for (const h of flows(30_000)) {
      const n = nodes[pickNode(h, nodes)];
      count.set(n, (count.get(n) ?? 0) + 1);
    }
    for (const n of nodes) expect(Math.abs((count.get(n) ?? 0) - 10_000)).toBeLessThan(1_000);
  });

  it('when a node leaves, only its flows move; when it comes back, they return and nothing else moves', () => {
    const before = flows(10_000).map((h) => nodes[pickNode(h, nodes)]);
    const two = [nodes[0], nodes[2]];
    const after = flows(10_000).map((h) => two[pickNode(h, two)]);
    before.forEach((n, i) => {
      if (n !== nodes[1]) expect(after[i]).toBe(n);
      else expect(two).toContain(after[i]);
    });
    const back = flows(10_000).map((h) => nodes[pickNode(h, nodes)]);
    expect(back).toEqual(before);
  });
});

describe('FlowTable', () => {
  it('remembers a flow’s node, refreshes it on use and forgets it after idleMs', () => {
    const t = new FlowTable(1000);
    const k = FlowTable.key(1, 2, 6, 0x1234_0050);
    t.record(k, 11, 0);
    expect(t.lookup(k, 900)?.nodeIp).toBe(11);
    expect(t.lookup(k, 1800)?.nodeIp).toBe(11); // refreshed at 900
    expect(t.lookup(k, 2801)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('sweeps idle entries, counts flows per node, and forgets the oldest when full', () => {
    const t = new FlowTable(1000, 2);
    t.record('a', 11, 0);
    t.record('b', 12, 500);
    expect(Object.fromEntries(t.perNode())).toEqual({ 11: 1, 12: 1 });
    t.record('c', 12, 600);
    expect(t.lookup('a', 600)).toBeUndefined();
    expect(t.size).toBe(2);
    expect(t.sweep(1550)).toBe(1);
    expect(t.lookup('c', 1550)?.nodeIp).toBe(12);
  });
});
