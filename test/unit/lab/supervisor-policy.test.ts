import { describe, expect, it } from 'vitest';
import {
  BACKOFF_RESET_AFTER_MS,
  backoffMs,
  decide,
  freshRecord,
  restarted,
} from '../../../src/lab/supervisor-policy.js';

describe('the lab supervisor’s back-off', () => {
  it('restarts at once the first time, then after 1 s, 2 s, 4 s … capped at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(backoffMs)).toEqual([0, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('a crash loop: each restart waits longer, counted from when it was seen dead', () => {
    const rec = freshRecord();
    let now = 10_000;
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      let d = decide(rec, now, false, false);
      while (d.action === 'wait') {
        now += 100;
        d = decide(rec, now, false, false);
      }
      expect(d.action).toBe('restart');
      if (d.action === 'restart') restarted(rec, now, d.failures);
      times.push(now);
      now += 200; // it dies again 200 ms after each start
    }
    const gaps = times.slice(1).map((t, i) => t - times[i] - 200);
    expect(gaps).toEqual([1000, 2000, 4000]);
    expect(rec.restarts).toBe(4);
  });

  it('up for a minute: the next crash is restarted at once again', () => {
    const rec = freshRecord();
    restarted(rec, 0, 3); // fourth restart in a row
    expect(decide(rec, BACKOFF_RESET_AFTER_MS + 1, true, false)).toEqual({ action: 'none' });
    expect(decide(rec, BACKOFF_RESET_AFTER_MS + 2, false, false)).toMatchObject({ action: 'restart', delayMs: 0 });
  });

  it('held down by `lab break`: left alone, and not counted as dead meanwhile', () => {
    const rec = freshRecord();
    expect(decide(rec, 1000, false, true)).toEqual({ action: 'none' });
    expect(rec.deadSinceMs).toBeNull();
    expect(decide(rec, 5000, false, false)).toMatchObject({ action: 'restart', delayMs: 0 });
  });
});
