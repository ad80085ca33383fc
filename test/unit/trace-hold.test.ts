import { describe, it, expect } from 'vitest';
import { ProbeHolds, probeKey, HOLD_POD_RX, HOLD_DELIVER } from '../../src/dataplane/index.js';

// Step mode's hold queue: only an enabled probe parks, once per point; a
// release lets it pass that point for good; a timeout takes it out.
describe('ProbeHolds', () => {
  const key = probeKey(0x0af40202, 4242);
  const frame = Buffer.from('frame');

  it('parks only an enabled probe, once per point, and releases it', () => {
    const h = new ProbeHolds(60_000);
    expect(h.shouldPark(key, HOLD_POD_RX)).toBe(false);
    h.enable(key);
    expect(h.shouldPark(probeKey(0x0af40202, 4243), HOLD_POD_RX)).toBe(false);
    expect(h.shouldPark(key, HOLD_POD_RX)).toBe(true);
    h.park(key, HOLD_POD_RX, frame, 0, 100);
    expect(h.shouldPark(key, HOLD_DELIVER)).toBe(false); // one parked frame at a time
    expect(h.heldOf(key)).toMatchObject({ point: HOLD_POD_RX, frame, sinceMs: 100 });
    expect(h.release(key)).toMatchObject({ point: HOLD_POD_RX, frame });
    expect(h.release(key)).toBeNull();
    expect(h.shouldPark(key, HOLD_POD_RX)).toBe(false); // released from there: passes
    expect(h.shouldPark(key, HOLD_DELIVER)).toBe(true);
  });

  it('takes out what waited longer than the timeout, and nothing younger', () => {
    const h = new ProbeHolds(1000);
    h.enable(key);
    h.park(key, HOLD_DELIVER, frame, 1, 5000);
    expect(h.expire(5999)).toEqual([]);
    expect(h.expire(6000).map((x) => x.point)).toEqual([HOLD_DELIVER]);
    expect(h.heldOf(key)).toBeNull();
    expect(h.shouldPark(key, HOLD_DELIVER)).toBe(false);
  });

  it('disable hands back what was parked and forgets the probe', () => {
    const h = new ProbeHolds();
    h.enable(key);
    h.park(key, HOLD_POD_RX, frame, 0, 0);
    expect(h.disable(key)?.frame).toBe(frame);
    expect(h.size).toBe(0);
    expect(h.shouldPark(key, HOLD_POD_RX)).toBe(false);
  });
});
