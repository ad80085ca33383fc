import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashIp, hashString, lbFlowHash } from '../../../src/lb/flow-hash.js';
import { MaglevError, backendIdentity, buildMaglevTable } from '../../../src/lb/maglev.js';
import { SH_TABLE_SIZE, SchedulerError, createScheduler } from '../../../src/lb/schedulers.js';
import { Backend, PROTO_TCP, PROTO_UDP, SCHEDULERS, type SchedulerName } from '../../../src/lb/types.js';

/** 10.244.<i/250>.<i%250+2>:8080, weight w. */
function backend(i: number, weight = 1): Backend {
  const ip = (0x0af40000 | (Math.floor(i / 250) << 8) | ((i % 250) + 2)) >>> 0;
  return new Backend(ip, 8080, `pod-${i}`, 'node-1', true, true, false, weight);
}
const backends = (n: number) => Array.from({ length: n }, (_, i) => backend(i));
/** Between min and max backends, in a random order. */
const shuffledBackends = (min: number, max: number) =>
  fc.integer({ min, max }).chain((n) => fc.shuffledSubarray(backends(n), { minLength: n }));

/** mulberry32: a seeded uniform PRNG, so `random` is tested reproducibly. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function picks(name: SchedulerName, bs: Backend[], count: number, flow = (k: number) => [k, k] as const): number[] {
  const s = createScheduler(name, bs);
  return Array.from({ length: count }, (_, k) => s.pick(...flow(k)));
}

describe('flow hashes', () => {
  it('murmur3 matches the reference vectors', () => {
    expect(hashString('', 0)).toBe(0);
    expect(hashString('', 1)).toBe(0x514e28b7);
    expect(hashString('abc', 0)).toBe(0xb3dd93fa);
    expect(hashString('test', 0)).toBe(0xba6bd213);
    expect(hashString('Hello, world!', 1234)).toBe(0xfaf6cdb3);
    expect(hashString('The quick brown fox jumps over the lazy dog', 0)).toBe(0x2e4ff723);
  });

  // Pinned: a change here changes which backend every node picks.
  it('lbFlowHash and hashIp are fixed functions', () => {
    expect(lbFlowHash(PROTO_TCP, 0x0af40102, 40000, 0x0a603268, 80)).toBe(0x9ec41720);
    expect(lbFlowHash(PROTO_UDP, 0x0af40203, 53124, 0x0a60000a, 53)).toBe(0x31178020);
    expect(hashIp(0x0af40102)).toBe(0xcf3fad94);
    expect(hashIp(0)).toBe(0x2e1eca65);
  });

  it('flipping any one input bit flips about half the output bits', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const u16 = fc.integer({ min: 0, max: 0xffff });
    let flips = 0;
    let trials = 0;
    const popcount = (x: number) => {
      let c = 0;
      for (; x; x &= x - 1) c++;
      return c;
    };
    fc.assert(
      fc.property(u32, u16, u32, u16, fc.integer({ min: 0, max: 103 }), (src, sport, dst, dport, bit) => {
        const h = lbFlowHash(PROTO_TCP, src, sport, dst, dport);
        const a = [PROTO_TCP, src, sport, dst, dport];
        // bits 0–31 src, 32–63 dst, 64–79 sport, 80–95 dport, 96–103 proto
        const [field, b] =
          bit < 32
            ? [1, bit]
            : bit < 64
              ? [3, bit - 32]
              : bit < 80
                ? [2, bit - 64]
                : bit < 96
                  ? [4, bit - 80]
                  : [0, bit - 96];
        a[field] = (a[field] ^ (1 << b)) >>> 0;
        const d = popcount((h ^ lbFlowHash(a[0], a[1], a[2], a[3], a[4])) >>> 0);
        expect(d).toBeGreaterThan(0);
        flips += d;
        trials++;
      }),
      { numRuns: 2000 },
    );
    expect(flips / trials).toBeGreaterThan(15);
    expect(flips / trials).toBeLessThan(17);
  });
});

describe('createScheduler', () => {
  it('builds every scheduler in SCHEDULERS, each picking in range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCHEDULERS),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 50 }),
        (name, n, flows) => {
          const s = createScheduler(name, backends(n), { random: mulberry32(n) });
          expect(s.name).toBe(name);
          for (const [h, src] of flows) {
            const i = s.pick(h, src);
            expect(Number.isInteger(i) && i >= 0 && i < n).toBe(true);
            expect(s.explain(h, src, i)).toMatch(new RegExp(`^${name}: .*backend ${i + 1} of ${n}`));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('answers −1 with no backends', () => {
    for (const name of SCHEDULERS) expect(createScheduler(name, []).pick(1, 2)).toBe(-1);
  });

  it('rejects an unknown name and a non-prime Maglev size with typed errors', () => {
    expect(() => createScheduler('nope' as SchedulerName, backends(2))).toThrow(SchedulerError);
    expect(() => createScheduler('nope' as SchedulerName, backends(2))).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_SCHEDULER' }),
    );
    expect(() => createScheduler('maglev', backends(2), { maglevTableSize: 65536 })).toThrow(MaglevError);
  });
});

describe('random', () => {
  it('is uniform: 60 000 seeded picks over 6 backends within 5σ of 10 000 each', () => {
    const s = createScheduler('random', backends(6), { random: mulberry32(42) });
    const c = new Array<number>(6).fill(0);
    for (let k = 0; k < 60000; k++) c[s.pick(k, k)]++;
    const sigma = Math.sqrt(60000 * (1 / 6) * (5 / 6));
    for (const x of c) expect(Math.abs(x - 10000)).toBeLessThan(5 * sigma);
    expect(s.explain(0, 0, 2)).toBe('random: backend 3 of 6, uniformly (1/6 each)');
  });

  it('stays in range when the injected random returns 1', () => {
    expect(createScheduler('random', backends(3), { random: () => 1 }).pick(0, 0)).toBe(2);
  });
});

describe('rr', () => {
  it('cycles exactly', () => {
    expect(picks('rr', backends(3), 9)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('explains the turn', () => {
    const s = createScheduler('rr', backends(3));
    for (let k = 0; k < 6; k++) s.pick(0, 0);
    expect(s.explain(0, 0, s.pick(0, 0))).toBe('rr: turn 7 → backend 1 of 3');
  });
});

describe('wrr', () => {
  it('interleaves 5:1:1 as nginx does', () => {
    const bs = [backend(0, 5), backend(1, 1), backend(2, 1)];
    expect(picks('wrr', bs, 14)).toEqual([0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]);
    expect(createScheduler('wrr', bs).explain(0, 0, 0)).toBe('wrr: backend 1 of 3, weight 5 of 7 (smooth round robin)');
  });

  it('picks each backend exactly weight times per cycle of Σweight, never weight 0', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 12 }), (ws) => {
        const total = ws.reduce((a, b) => a + b, 0);
        const eff = total === 0 ? ws.map(() => 1) : ws; // all 0 = all equal
        const cycle = eff.reduce((a, b) => a + b, 0);
        const got = picks(
          'wrr',
          ws.map((w, i) => backend(i, w)),
          2 * cycle,
        );
        for (const half of [got.slice(0, cycle), got.slice(cycle)]) {
          const c = eff.map(() => 0);
          for (const i of half) c[i]++;
          expect(c).toEqual(eff);
        }
      }),
    );
  });
});

describe('lc', () => {
  it('always picks a backend with the least active connections', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 4, maxLength: 4 }), { maxLength: 20 }),
        (rounds) => {
          const bs = backends(4);
          const s = createScheduler('lc', bs);
          for (const actives of rounds) {
            actives.forEach((a, i) => (bs[i].active = a));
            expect(actives[s.pick(0, 0)]).toBe(Math.min(...actives));
          }
        },
      ),
    );
  });

  it('takes turns among ties, and counts what it saw', () => {
    const bs = backends(4);
    [3, 1, 1, 1].forEach((a, i) => (bs[i].active = a));
    expect(picks('lc', bs, 6)).toEqual([1, 2, 3, 1, 2, 3]);
    const s = createScheduler('lc', bs);
    const i = s.pick(0, 0);
    bs[i].active++; // conntrack counted the new flow
    expect(s.explain(0, 0, i)).toBe('lc: backend 2 of 4 had 1 active connection (least of 4)');
  });
});

describe('sh', () => {
  const clients = Array.from({ length: 2000 }, (_, k) => (0x0a000000 + k * 7919) >>> 0);

  it('depends on the source address only', () => {
    const s = createScheduler('sh', backends(5));
    for (const src of clients.slice(0, 200)) expect(s.pick(12345, src)).toBe(s.pick(0xdeadbeef, src));
  });

  it('sends each client to the same backend after a rebuild from shuffled backends', () => {
    fc.assert(
      fc.property(shuffledBackends(1, 30), (shuffled) => {
        const bs = [...shuffled].sort((a, b) => a.ip - b.ip);
        const a = createScheduler('sh', bs);
        const b = createScheduler('sh', shuffled);
        for (const src of clients.slice(0, 300)) {
          expect(backendIdentity(shuffled[b.pick(0, src)])).toBe(backendIdentity(bs[a.pick(0, src)]));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('losing one of 10 backends moves few clients besides its own', () => {
    const bs = backends(10);
    const rest = bs.slice(1);
    const [a, b] = [createScheduler('sh', bs), createScheduler('sh', rest)];
    let moved = 0;
    for (const src of clients) {
      const before = bs[a.pick(0, src)];
      if (before !== bs[0] && before !== rest[b.pick(0, src)]) moved++;
    }
    expect(moved / clients.length).toBeLessThan(0.02);
  });

  it('explains the hash', () => {
    const s = createScheduler('sh', backends(3));
    const src = 0x0af40102;
    const slot = hashIp(src) % SH_TABLE_SIZE;
    const i = s.pick(0, src);
    expect(s.explain(0, src, i)).toBe(`sh: source 10.244.1.2 hashes to slot ${slot} of 4093 → backend ${i + 1} of 3`);
  });
});

describe('maglev', () => {
  it('is table[flowHash mod M], identical across builds from shuffled backends', () => {
    fc.assert(
      fc.property(
        shuffledBackends(2, 40),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 50, maxLength: 50 }),
        (shuffled, hashes) => {
          const bs = [...shuffled].sort((x, y) => x.ip - y.ip);
          const table = buildMaglevTable(bs);
          const [a, b] = [createScheduler('maglev', bs), createScheduler('maglev', shuffled)];
          for (const h of hashes) {
            expect(a.pick(h, 0)).toBe(table[h % 65537]);
            expect(shuffled[b.pick(h, 0)]).toBe(bs[a.pick(h, 0)]);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('honours a configured table size and explains the slot', () => {
    const s = createScheduler('maglev', backends(3), { maglevTableSize: 16381 });
    const h = 0x9ec41720;
    const i = s.pick(h, 0);
    expect(s.explain(h, 0, i)).toBe(`maglev: slot ${h % 16381} of 16381 → backend ${i + 1} of 3`);
  });

  it('needs no table for one backend', () => {
    const s = createScheduler('maglev', backends(1));
    expect(s.pick(123456, 0)).toBe(0);
    expect(s.explain(123456, 0, 0)).toBe('maglev: slot 57919 of 65537 → backend 1 of 1');
  });
});
