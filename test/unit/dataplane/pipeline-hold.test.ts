// Step mode's hold in the pipeline: the traced probe (source + IPv4
// identification) stops on cbr0 receive and again before delivery, each
// time until released; every other frame — in the same batch, from the same
// pod — goes on as ever; a probe held past the timeout is dropped as
// trace-hold-expired, counted and traced.

import { describe, expect, it } from 'vitest';
import { ipv4ToString, parseIpv4 } from '../../../src/packet/index.js';
import type { StageEvent } from '../../../src/dataplane/index.js';
import { ipOf, openVxlan } from '../support/inspect.js';
import { splitVnet } from '../support/frames.js';

const ip = (captured: Buffer) => ipOf(splitVnet(captured).frame);
import { POD_A, POD_B, REMOTE_POD, node1, podUdp } from './node1.js';

const PROBE_ID = 4242;

function held(clock = { now: 0 }) {
  const n = node1({ clock: () => clock.now });
  const stages: StageEvent[] = [];
  n.pipeline.setTracer({ dropped() {}, stage: (e) => stages.push(e) });
  const probe = { src: parseIpv4(POD_A.ip), id: PROBE_ID };
  n.pipeline.setProbe(probe);
  n.pipeline.holdProbe(probe, true, 1000);
  return { n, stages, probe, clock };
}

describe('the step-mode hold', () => {
  it('parks only the probe, before the Service stage; released, it is held again before delivery, then delivered', () => {
    const { n, stages, probe } = held();
    const out = n.fromPods(podUdp({ dst: POD_B.ip, id: PROBE_ID }), podUdp({ dst: POD_B.ip, id: 7 }));
    expect(out.pods.map((f) => ip(f).id)).toEqual([7]);
    expect(stages.map((s) => s.stage)).toEqual(['held']);
    expect(stages[0].data).toEqual({ point: 'before the Service stage' });

    n.podPort.clear();
    expect(n.pipeline.releaseProbe(probe)).toBe('before the Service stage');
    expect(n.podPort.frames).toEqual([]);
    expect(stages.map((s) => s.stage)).toEqual(['held', 'received', 'route', 'held']);
    expect(stages[3].data).toEqual({ point: 'before delivery to the pod' });

    // meanwhile the pod's other traffic flows
    expect(n.fromPods(podUdp({ dst: POD_B.ip, id: 8 })).pods.map((f) => ip(f).id)).toEqual([8]);

    n.podPort.clear();
    expect(n.pipeline.releaseProbe(probe)).toBe('before delivery to the pod');
    expect(n.podPort.frames.map((f) => ({ id: ip(f).id, dst: ipv4ToString(ip(f).dst), ttl: ip(f).ttl }))).toEqual([
      { id: PROBE_ID, dst: POD_B.ip, ttl: 63 },
    ]);
    expect(stages.map((s) => s.stage).slice(4)).toEqual(['deliver']);
    expect(n.pipeline.releaseProbe(probe)).toBeNull();
    expect(n.drops()).toEqual({});
  });

  it('to a peer: held again before VXLAN encapsulation, then encapsulated as any frame would be', () => {
    const { n, probe, stages } = held();
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip, id: PROBE_ID })).underlay).toEqual([]);
    expect(n.pipeline.releaseProbe(probe)).toBe('before the Service stage');
    expect(n.underlayPort.frames).toEqual([]);
    expect(stages.map((s) => s.stage)).toEqual(['held', 'received', 'route', 'held']);
    expect(stages[3].data).toEqual({ point: 'before VXLAN encapsulation' });
    expect(n.pipeline.releaseProbe(probe)).toBe('before VXLAN encapsulation');
    expect(stages.map((s) => s.stage).slice(4)).toEqual(['encap']);
    const inner = openVxlan(splitVnet(n.underlayPort.frames[0]).frame).inner;
    expect([ipOf(inner).id, ipv4ToString(ipOf(inner).dst)]).toEqual([PROBE_ID, REMOTE_POD.ip]);
  });

  it('a probe held past the timeout is dropped as trace-hold-expired, traced; so is one left when the trace ends', () => {
    const { n, stages, probe, clock } = held();
    n.fromPods(podUdp({ dst: POD_B.ip, id: PROBE_ID }));
    clock.now = 999;
    expect(n.pipeline.expireHolds()).toBe(0);
    clock.now = 1000;
    expect(n.pipeline.expireHolds()).toBe(1);
    expect(n.drops()).toEqual({ 'trace-hold-expired': 1 });
    expect(stages.at(-1)).toMatchObject({ stage: 'drop', data: { reason: 'trace-hold-expired' } });
    expect(n.pipeline.releaseProbe(probe)).toBeNull();

    const again = held();
    again.n.fromPods(podUdp({ dst: POD_B.ip, id: PROBE_ID }));
    again.n.pipeline.holdProbe(again.probe, false);
    expect(again.n.drops()).toEqual({ 'trace-hold-expired': 1 });
    // hold off: the same probe id passes straight through
    expect(again.n.fromPods(podUdp({ dst: POD_B.ip, id: PROBE_ID })).pods.length).toBe(1);
  });
});
