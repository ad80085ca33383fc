import { describe, it, expect } from 'vitest';
import {
  observeHeartbeat,
  staleNodeConditions,
  podsToMarkNotReady,
} from '../../../../src/control/controllers/index.js';
import { node, pod, iso, T0 } from './fixtures.js';

const GRACE = 10_000;

describe('node lifecycle', () => {
  it('marks a node Ready=Unknown once no new heartbeat was seen for the grace period', () => {
    let n = node('node1', { heartbeat: iso(T0) });
    let seen = observeHeartbeat(undefined, n, T0);
    expect(staleNodeConditions(n, seen, T0 + GRACE, GRACE, iso(T0 + GRACE))).toBeNull();

    // a heartbeat at T0+8s resets the clock
    n = node('node1', { heartbeat: iso(T0 + 8000) });
    seen = observeHeartbeat(seen, n, T0 + 8000);
    expect(seen).toEqual({ value: iso(T0 + 8000), seenAtMs: T0 + 8000 });
    expect(staleNodeConditions(n, seen, T0 + 18_000, GRACE, iso(T0 + 18_000))).toBeNull();

    // the same heartbeat seen again does not
    expect(observeHeartbeat(seen, n, T0 + 15_000)).toBe(seen);
    const conds = staleNodeConditions(n, seen, T0 + 18_001, GRACE, iso(T0 + 18_001));
    expect(conds).toEqual([
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastHeartbeatTime: iso(T0 + 8000),
        lastTransitionTime: iso(T0 + 18_001),
      },
    ]);
    // once marked, nothing more to write
    const marked = { ...n, status: { ...n.status, conditions: conds } };
    expect(staleNodeConditions(marked, seen, T0 + 30_000, GRACE, iso(T0 + 30_000))).toBeNull();
  });

  it('says "never posted" for a node without a Ready condition', () => {
    const n = node('node9', { ready: 'none' });
    const seen = observeHeartbeat(undefined, n, T0);
    expect(staleNodeConditions(n, seen, T0 + GRACE + 1, GRACE, 'NOW')).toEqual([
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: iso(T0),
        lastTransitionTime: 'NOW',
      },
    ]);
  });

  it('sets Ready=False on the pods of a node that is not Ready, keeping the rest of their status', () => {
    const down = { ...node('node3'), status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } };
    const pods = [
      pod('a', { node: 'node3', ip: '10.244.3.5', ready: true }),
      pod('b', { node: 'node3', ip: '10.244.3.6', ready: false }),
      pod('c', { node: 'node1', ip: '10.244.1.5', ready: true }),
    ];
    const marks = podsToMarkNotReady(down, pods, 'NOW');
    expect(marks.map((m) => m.pod.metadata.name)).toEqual(['a']);
    expect(marks[0].status).toEqual({
      phase: 'Running',
      podIP: '10.244.3.5',
      podIPs: [{ ip: '10.244.3.5' }],
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: 'NOW' }],
    });
    expect(podsToMarkNotReady(node('node3'), pods, 'NOW')).toEqual([]);
  });
});
