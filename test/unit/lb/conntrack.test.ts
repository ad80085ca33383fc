import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Conntrack,
  ConntrackError,
  benchConntrackLookup,
  type ConntrackOptions,
  type ConntrackSnapshot,
} from '../../../src/lb/conntrack.js';
import { CT_STATE_NAMES, FIN_ORIG, FIN_REPLY } from '../../../src/lb/tcp-state.js';

const TCP = 6;
const UDP = 17;
const GRE = 47;
const [SYN, ACK, FIN, RST, PSH] = [0x02, 0x10, 0x01, 0x04, 0x08];
const S = 1000;

// client 10.244.1.2:40000 → VIP 10.96.0.10:53, DNATed to backend 10.244.2.5:5353
const CLIENT = 0x0af40102;
const VIP = 0x0a60000a;
const BACKEND = 0x0af40205;

/** A table on a clock the test moves by hand. */
function table(opts: ConntrackOptions = {}) {
  const clock = { now: 1_000_000 };
  const removed: Array<[number, number]> = [];
  const ct = new Conntrack({ clock: () => clock.now, onRemoved: (o, f) => removed.push([o, f]), hashSeed: 7, ...opts });
  return { ct, clock, removed };
}

/** A DNATed flow: client:port → VIP:53 whose replies come from the backend. */
function dnat(ct: Conntrack, proto: number, port = 40000, owner = 1, flags = 0): number {
  return ct.create(proto, CLIENT, port, VIP, 53, BACKEND, 5353, CLIENT, port, owner, flags);
}

describe('lookup', () => {
  it('finds an entry by either tuple, with the direction', () => {
    const { ct } = table();
    const e = dnat(ct, UDP);
    expect(ct.lookup(UDP, CLIENT, 40000, VIP, 53)).toBe(e << 1);
    expect(ct.lookup(UDP, BACKEND, 5353, CLIENT, 40000)).toBe((e << 1) | 1);
    expect([ct.origSrc(e), ct.origSport(e), ct.origDst(e), ct.origDport(e)]).toEqual([CLIENT, 40000, VIP, 53]);
    expect([ct.replySrc(e), ct.replySport(e), ct.replyDst(e), ct.replyDport(e)]).toEqual([
      BACKEND,
      5353,
      CLIENT,
      40000,
    ]);
    expect([ct.proto(e), ct.owner(e), ct.flags(e), ct.size]).toEqual([UDP, 1, 0, 1]);
  });

  it('misses unknown tuples, and tuples differing in any one field', () => {
    const { ct } = table();
    dnat(ct, UDP);
    expect(ct.lookup(UDP, CLIENT, 40001, VIP, 53)).toBe(-1);
    expect(ct.lookup(TCP, CLIENT, 40000, VIP, 53)).toBe(-1);
    expect(ct.lookup(UDP, CLIENT, 40000, VIP, 54)).toBe(-1);
    expect(ct.lookup(UDP, VIP, 53, CLIENT, 40000)).toBe(-1); // the un-NATed reverse is not the reply tuple
    expect(ct.lookup(UDP, CLIENT + 1, 40000, VIP, 53)).toBe(-1);
    expect(ct.stats).toMatchObject({ lookups: 5, found: 0 });
  });

  it('a socket connected to itself is one tuple, answered as dir 0, also after the index grows', () => {
    const { ct } = table({ initialEntries: 1, maxEntries: 64 });
    const e = ct.create(TCP, CLIENT, 5000, CLIENT, 5000, CLIENT, 5000, CLIENT, 5000, 0, 0);
    for (let p = 0; p < 60; p++) dnat(ct, TCP, p);
    expect(ct.lookup(TCP, CLIENT, 5000, CLIENT, 5000)).toBe(e << 1);
    ct.remove(e);
    expect(ct.lookup(TCP, CLIENT, 5000, CLIENT, 5000)).toBe(-1);
    expect(ct.size).toBe(60);
  });

  it('treats addresses as uint32 whether given signed or not', () => {
    const { ct } = table();
    const e = ct.create(UDP, 0xc0a80001, 1, 0xffffffff, 2, 0xffffffff, 2, 0xc0a80001, 1, -1, 255);
    expect(ct.lookup(UDP, 0xc0a80001 | 0, 1, -1, 2)).toBe(e << 1);
    expect([ct.owner(e), ct.flags(e)]).toEqual([-1, 255]);
  });
});

describe('expiry (injected clock)', () => {
  it('a UDP flow lives 30 s unreplied; its expired entry is a miss and is removed once', () => {
    const { ct, clock, removed } = table();
    const e = dnat(ct, UDP, 40000, 42, 3);
    ct.seen(e, 0, 0, 60);
    clock.now += 30 * S - 1;
    expect(ct.lookup(UDP, CLIENT, 40000, VIP, 53)).toBe(e << 1);
    clock.now += 1;
    expect(ct.lookup(UDP, CLIENT, 40000, VIP, 53)).toBe(-1);
    expect(ct.lookup(UDP, BACKEND, 5353, CLIENT, 40000)).toBe(-1);
    expect([ct.size, ct.stats.expired, removed]).toEqual([0, 1, [[42, 3]]]);
  });

  it('UDP goes from 30 s to 120 s once a reply is seen, and stays there', () => {
    const { ct, clock } = table();
    const e = dnat(ct, UDP);
    ct.seen(e, 0, 0, 60);
    expect(ct.expiresAt(e) - clock.now).toBe(30 * S);
    expect(CT_STATE_NAMES[ct.state(e)]).toBe('UNREPLIED');
    clock.now += 5 * S;
    ct.seen(e, 1, 0, 120);
    expect(ct.expiresAt(e) - clock.now).toBe(120 * S);
    ct.seen(e, 0, 0, 60);
    expect(ct.expiresAt(e) - clock.now).toBe(120 * S);
    expect(CT_STATE_NAMES[ct.state(e)]).toBe('REPLIED');
  });

  it('other protocols use the generic 600 s; timeouts can be overridden', () => {
    const { ct, clock } = table({ timeouts: { udpMs: 5 * S } });
    const g = dnat(ct, GRE);
    ct.seen(g, 1, 0, 100);
    expect(ct.expiresAt(g) - clock.now).toBe(600 * S);
    const u = dnat(ct, UDP);
    ct.seen(u, 0, 0, 100);
    expect(ct.expiresAt(u) - clock.now).toBe(5 * S);
  });

  it('sweep reclaims expired entries, examining at most `budget` records per call', () => {
    const { ct, clock, removed } = table();
    for (let p = 0; p < 10; p++) dnat(ct, UDP, 1000 + p, p);
    const keep = dnat(ct, TCP, 2000, 99);
    clock.now += 31 * S;
    expect(ct.sweep(4)).toBe(4);
    expect(ct.sweep(4)).toBe(4);
    expect(ct.sweep(100)).toBe(2);
    expect(ct.sweep(100)).toBe(0);
    expect([ct.size, ct.has(keep), removed.length, ct.stats.expired]).toEqual([1, true, 10, 10]);
  });
});

describe('a full table', () => {
  it('refuses new entries (insertFailed) and never evicts live ones', () => {
    const { ct } = table({ maxEntries: 4 });
    for (let p = 0; p < 4; p++) expect(dnat(ct, TCP, 1000 + p)).toBeGreaterThanOrEqual(0);
    expect(dnat(ct, TCP, 2000)).toBe(-1);
    expect(dnat(ct, UDP, 2001)).toBe(-1);
    expect([ct.size, ct.stats.insertFailed, ct.stats.created]).toEqual([4, 2, 4]);
    expect(ct.lookup(TCP, CLIENT, 1000, VIP, 53)).toBeGreaterThanOrEqual(0);
  });

  it('reclaims an expired entry instead of failing', () => {
    const { ct, clock, removed } = table({ maxEntries: 3 });
    dnat(ct, TCP, 1000, 1);
    const short = dnat(ct, UDP, 1001, 2);
    dnat(ct, TCP, 1002, 3);
    clock.now += 30 * S;
    expect(ct.has(short)).toBe(true);
    expect(dnat(ct, TCP, 2000, 4)).toBe(short); // the freed record is reused
    expect([ct.size, ct.stats.insertFailed, ct.stats.expired, removed]).toEqual([3, 0, 1, [[2, 0]]]);
  });
});

describe('TCP state machine', () => {
  type Step = [dir: 0 | 1, flags: number, state: string];
  const HANDSHAKE: Step[] = [
    [0, SYN, 'SYN_SENT'],
    [1, SYN | ACK, 'SYN_RECV'],
    [0, ACK, 'ESTABLISHED'],
  ];
  const cases: Array<[string, Step[]]> = [
    ['three-way handshake', HANDSHAKE],
    [
      'retransmitted SYN and SYN+ACK',
      [
        [0, SYN, 'SYN_SENT'],
        [0, SYN, 'SYN_SENT'],
        [1, SYN | ACK, 'SYN_RECV'],
        [1, SYN | ACK, 'SYN_RECV'],
        [1, ACK, 'SYN_RECV'],
        [0, ACK, 'ESTABLISHED'],
      ],
    ],
    [
      'a reply SYN (simultaneous open) is ignored',
      [
        [0, SYN, 'SYN_SENT'],
        [1, SYN, 'SYN_SENT'],
      ],
    ],
    ['a SYN on an established flow is ignored', [...HANDSHAKE, [0, SYN, 'ESTABLISHED'], [1, SYN | ACK, 'ESTABLISHED']]],
    ['data keeps it established', [...HANDSHAKE, [0, PSH | ACK, 'ESTABLISHED'], [1, PSH | ACK, 'ESTABLISHED']]],
    [
      'client closes, server acks then closes',
      [
        ...HANDSHAKE,
        [0, FIN | ACK, 'FIN_WAIT'],
        [0, FIN | ACK, 'FIN_WAIT'],
        [0, ACK, 'FIN_WAIT'],
        [1, ACK, 'CLOSE_WAIT'],
        [1, PSH | ACK, 'CLOSE_WAIT'],
        [0, FIN, 'CLOSE_WAIT'],
        [1, FIN | ACK, 'LAST_ACK'],
        [1, ACK, 'LAST_ACK'],
        [0, ACK, 'TIME_WAIT'],
      ],
    ],
    [
      'server closes, client FIN+ACKs at once',
      [...HANDSHAKE, [1, FIN | ACK, 'FIN_WAIT'], [0, FIN | ACK, 'LAST_ACK'], [1, ACK, 'TIME_WAIT']],
    ],
    [
      'simultaneous close',
      [...HANDSHAKE, [0, FIN | ACK, 'FIN_WAIT'], [1, FIN | ACK, 'LAST_ACK'], [0, ACK, 'TIME_WAIT']],
    ],
    [
      'RST from the server closes a handshake',
      [
        [0, SYN, 'SYN_SENT'],
        [1, RST | ACK, 'CLOSE'],
      ],
    ],
    ['RST closes an established flow', [...HANDSHAKE, [0, RST, 'CLOSE'], [1, ACK, 'CLOSE']]],
    [
      'RST in TIME_WAIT',
      [...HANDSHAKE, [0, FIN | ACK, 'FIN_WAIT'], [1, FIN | ACK, 'LAST_ACK'], [0, ACK, 'TIME_WAIT'], [1, RST, 'CLOSE']],
    ],
    [
      'a new SYN reopens TIME_WAIT (port reuse)',
      [
        ...HANDSHAKE,
        [1, FIN | ACK, 'FIN_WAIT'],
        [0, FIN | ACK, 'LAST_ACK'],
        [1, ACK, 'TIME_WAIT'],
        [0, SYN, 'SYN_SENT'],
        [1, SYN | ACK, 'SYN_RECV'],
        [0, ACK, 'ESTABLISHED'],
        [0, FIN, 'FIN_WAIT'],
        [1, ACK, 'CLOSE_WAIT'],
      ],
    ],
    [
      'a new SYN reopens CLOSE',
      [
        [0, SYN, 'SYN_SENT'],
        [1, RST, 'CLOSE'],
        [0, SYN, 'SYN_SENT'],
      ],
    ],
    [
      'mid-stream pickup: a first ACK is ESTABLISHED (nf_conntrack_tcp_loose)',
      [
        [0, PSH | ACK, 'ESTABLISHED'],
        [1, ACK, 'ESTABLISHED'],
      ],
    ],
    ['mid-stream pickup: a first SYN+ACK is ESTABLISHED', [[0, SYN | ACK, 'ESTABLISHED']]],
    [
      'mid-stream pickup: a first FIN is FIN_WAIT',
      [
        [0, FIN | ACK, 'FIN_WAIT'],
        [1, ACK, 'CLOSE_WAIT'],
      ],
    ],
    ['a first RST is CLOSE', [[0, RST, 'CLOSE']]],
    [
      'FIN during SYN_RECV',
      [
        [0, SYN, 'SYN_SENT'],
        [1, SYN | ACK, 'SYN_RECV'],
        [0, FIN | ACK, 'FIN_WAIT'],
      ],
    ],
  ];
  const TIMEOUT_S: Record<string, number> = {
    SYN_SENT: 120,
    SYN_RECV: 60,
    ESTABLISHED: 86_400,
    FIN_WAIT: 120,
    CLOSE_WAIT: 3_600,
    LAST_ACK: 30,
    TIME_WAIT: 120,
    CLOSE: 10,
  };

  it.each(cases)('%s', (_name, steps) => {
    const { ct, clock } = table();
    const e = dnat(ct, TCP);
    expect(CT_STATE_NAMES[ct.state(e)]).toBe('NONE');
    expect(ct.expiresAt(e) - clock.now).toBe(120 * S);
    const seen: string[] = [];
    for (const [dir, flags] of steps) {
      clock.now += 10;
      ct.seen(e, dir, flags, 40);
      seen.push(CT_STATE_NAMES[ct.state(e)]);
      // every state refreshes to its own timeout (kube-proxy's for ESTABLISHED and CLOSE_WAIT)
      expect(ct.expiresAt(e) - clock.now).toBe(TIMEOUT_S[seen.at(-1)!] * S);
    }
    expect(seen).toEqual(steps.map((s) => s[2]));
  });

  it('remembers which side sent a FIN, and forgets on reopen', () => {
    const { ct } = table();
    const e = dnat(ct, TCP);
    for (const [dir, flags] of [
      [0, SYN],
      [1, SYN | ACK],
      [0, ACK],
      [1, FIN | ACK],
    ] as const)
      ct.seen(e, dir, flags, 40);
    expect(ct.track(e) & (FIN_ORIG | FIN_REPLY)).toBe(FIN_REPLY);
    ct.seen(e, 0, FIN | ACK, 40);
    expect(ct.track(e) & (FIN_ORIG | FIN_REPLY)).toBe(FIN_ORIG | FIN_REPLY);
    ct.seen(e, 1, ACK, 40);
    ct.seen(e, 0, SYN, 40);
    expect(ct.track(e) & (FIN_ORIG | FIN_REPLY)).toBe(0);
  });
});

describe('counters, rows, removal', () => {
  it('counts packets and bytes per direction and renders a row', () => {
    const { ct, clock } = table();
    const e = dnat(ct, UDP, 40000, 5, 2);
    ct.seen(e, 0, 0, 60);
    ct.seen(e, 0, 0, 70);
    ct.seen(e, 1, 0, 200);
    clock.now += 2_500;
    expect(ct.row(e)).toEqual({
      entry: e,
      proto: UDP,
      orig: { src: CLIENT, sport: 40000, dst: VIP, dport: 53 },
      reply: { src: BACKEND, sport: 5353, dst: CLIENT, dport: 40000 },
      state: 'REPLIED',
      secondsLeft: 117,
      ageSeconds: 2,
      origPackets: 2,
      origBytes: 130,
      replyPackets: 1,
      replyBytes: 200,
      owner: 5,
      flags: 2,
    });
    ct.setOwner(e, -1);
    ct.setFlags(e, 9);
    expect([ct.owner(e), ct.flags(e), ct.proto(e), CT_STATE_NAMES[ct.state(e)]]).toEqual([-1, 9, UDP, 'REPLIED']);
  });

  it('onRemoved runs exactly once per entry, however it leaves', () => {
    const { ct, clock, removed } = table({ maxEntries: 6 });
    const a = dnat(ct, UDP, 1, 1);
    dnat(ct, UDP, 2, 2);
    dnat(ct, TCP, 3, 3);
    dnat(ct, TCP, 4, 4);
    ct.remove(a); // explicit
    expect(() => ct.remove(a)).toThrow(expect.objectContaining({ code: 'ERR_NO_ENTRY' }));
    expect(ct.removeWhere((e) => ct.owner(e) === 4)).toBe(1);
    clock.now += 30 * S;
    expect(ct.lookup(UDP, CLIENT, 2, VIP, 53)).toBe(-1); // expired on lookup
    ct.sweep();
    ct.sweep();
    expect(removed.map(([o]) => o).sort()).toEqual([1, 2, 4]);
    expect([ct.size, ct.stats.removed, ct.stats.expired]).toEqual([1, 2, 1]);
  });

  it('removeWhere flushes a backend’s flows and keeps the rest', () => {
    const { ct } = table();
    for (let p = 0; p < 50; p++) dnat(ct, p % 2 ? UDP : TCP, 1000 + p, p % 5);
    const n = ct.removeWhere((e) => ct.owner(e) === 3 && ct.proto(e) === UDP);
    expect(n).toBe(5);
    const left: number[] = [];
    ct.forEach((e) => left.push(ct.owner(e)));
    expect(left.length).toBe(45);
    expect(ct.lookup(UDP, CLIENT, 1003, VIP, 53)).toBe(-1);
    expect(ct.lookup(TCP, CLIENT, 1008, VIP, 53)).toBeGreaterThanOrEqual(0);
  });
});

describe('errors', () => {
  it('a tuple already tracked, in either role, is a programmer error', () => {
    const { ct } = table();
    dnat(ct, UDP);
    expect(() => dnat(ct, UDP)).toThrow(ConntrackError);
    // a new flow whose reply tuple is another flow's original
    expect(() => ct.create(UDP, 9, 9, 9, 9, CLIENT, 40000, VIP, 53, 0, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_TUPLE_EXISTS' }),
    );
    expect(ct.size).toBe(1);
  });

  it.each([
    ['port', [UDP, 1, 70000, 2, 3, 2, 3, 1, 4, 0, 0]],
    ['proto', [256, 1, 1, 2, 3, 2, 3, 1, 1, 0, 0]],
    ['address', [UDP, -1, 1, 2, 3, 2, 3, 1, 1, 0, 0]],
    ['flags', [UDP, 1, 1, 2, 3, 2, 3, 1, 1, 0, 256]],
    ['owner', [UDP, 1, 1, 2, 3, 2, 3, 1, 1, 2 ** 31, 0]],
  ])('rejects a bad %s', (_what, args) => {
    const { ct } = table();
    expect(() => (ct.create as (...a: number[]) => number)(...args)).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_TUPLE' }),
    );
  });

  it('rejects bad options', () => {
    for (const opts of [{ maxEntries: 0 }, { maxEntries: 1.5 }, { timeouts: { udpMs: -1 } }, { reclaimBudget: 0 }]) {
      expect(() => new Conntrack(opts)).toThrow(expect.objectContaining({ code: 'ERR_BAD_OPTIONS' }));
    }
  });
});

describe('snapshot and restore', () => {
  it('round-trips through JSON onto a different clock, expiry as remaining time', () => {
    const a = table();
    const t = dnat(a.ct, TCP, 1000, 7, 1);
    for (const [dir, flags] of [
      [0, SYN],
      [1, SYN | ACK],
      [0, ACK],
    ] as const)
      a.ct.seen(t, dir, flags, 100);
    const u = dnat(a.ct, UDP, 2000, 8, 2);
    a.ct.seen(u, 0, 0, 50);
    dnat(a.ct, UDP, 3000, 9); // unseen UDP: 30 s
    a.clock.now += 30 * S;
    const snap = JSON.parse(JSON.stringify(a.ct.snapshot())) as ConntrackSnapshot;
    expect(snap.entries.length).toBe(1); // the UDP flows have expired

    const restarted = 5; // a restarted agent's monotonic clock starts over
    const ct = new Conntrack({ clock: () => restarted });
    const before = a.ct.snapshot();
    expect(ct.restore(snap)).toBe(1);
    const e = ct.lookup(TCP, BACKEND, 5353, CLIENT, 1000) >> 1;
    expect(ct.row(e)).toEqual({ ...a.ct.row(t), entry: e });
    expect(ct.expiresAt(e) - restarted).toBe(before.entries[0].remainingMs);
    expect(ct.snapshot()).toEqual(before);
    expect(ct.restore(snap)).toBe(0); // already tracked: skipped
  });

  it('with update, an entry already restored takes the newer snapshot’s state, expiry and counters, keeping its owner', () => {
    const a = table();
    const t = dnat(a.ct, TCP, 1000, 7, 1);
    a.ct.seen(t, 0, SYN, 60);
    const early = a.ct.snapshot(); // the successor's start: its predecessor's file
    a.ct.seen(t, 1, SYN | ACK, 60);
    a.ct.seen(t, 0, ACK, 40);
    const late = a.ct.snapshot(); // the predecessor's last word, at the handover
    const b = new Conntrack({ clock: () => 0 });
    expect(b.restore(early)).toBe(1);
    const e = b.lookup(TCP, CLIENT, 1000, VIP, 53) >> 1;
    b.setOwner(e, 42);
    expect(b.restore(late)).toBe(0); // without update: skipped
    expect(b.state(e)).toBe(early.entries[0].state);
    expect(b.restore(late, { update: true })).toBe(1);
    expect(b.size).toBe(1);
    expect({ ...b.row(e), owner: 0, entry: 0 }).toEqual({ ...a.ct.row(t), owner: 0, entry: 0 });
    expect(b.owner(e)).toBe(42);
  });

  it('refuses a malformed snapshot before restoring anything', () => {
    const { ct } = table();
    dnat(ct, TCP);
    const snap = ct.snapshot();
    const good = snap.entries[0];
    for (const bad of [
      { version: 2, entries: [] },
      { version: 1, entries: [good, { ...good, orig: [1, 2, 3] }] },
      { version: 1, entries: [{ ...good, state: 10 }] }, // a UDP state on TCP
      { version: 1, entries: [{ ...good, remainingMs: 'soon' }] },
    ]) {
      const fresh = new Conntrack();
      expect(() => fresh.restore(bad as unknown as ConntrackSnapshot)).toThrow(
        expect.objectContaining({ code: 'ERR_BAD_SNAPSHOT' }),
      );
      expect(fresh.size).toBe(0);
    }
  });
});

describe('memory and growth', () => {
  it('costs ≤ 256 bytes per entry at capacity, index included', () => {
    for (const maxEntries of [1, 3, 1000, 131072])
      expect(new Conntrack({ maxEntries }).bytesPerEntry()).toBeLessThanOrEqual(256);
    expect(new Conntrack().bytesPerEntry()).toBe(112);
  });

  it('grows by doubling from a few records, entry ids stable', () => {
    const { ct } = table({ initialEntries: 2, maxEntries: 3000 });
    const ids: number[] = [];
    for (let p = 0; p < 3000; p++) ids.push(dnat(ct, TCP, p, p));
    expect(dnat(ct, TCP, 5000)).toBe(-1);
    for (let p = 0; p < 3000; p += 7) {
      expect(ct.lookup(TCP, CLIENT, p, VIP, 53)).toBe(ids[p] << 1);
      expect(ct.lookup(TCP, BACKEND, 5353, CLIENT, p)).toBe((ids[p] << 1) | 1);
      expect(ct.owner(ids[p])).toBe(p);
    }
    expect(ct.stats.searched / ct.stats.lookups).toBeLessThan(2);
  });

  it('the micro-benchmark runs', () => {
    const r = benchConntrackLookup(1000, 5000);
    expect(r.nsPerLookup).toBeGreaterThan(0);
    expect(r.probesPerLookup).toBeGreaterThanOrEqual(1);
  });
});

/**
 * A hash with four adjacent home slots, the last two and the first two of
 * the index (-2 & mask, -1 & mask, 0, 1): every tuple lands in one cluster
 * that wraps around the end, so deletion must shift entries across it.
 */
class CollidingConntrack extends Conntrack {
  protected override hashTuple(_proto: number, src: number, dst: number, ports: number): number {
    return [-2, -1, 0, 1][(src + dst + ports) & 3];
  }
}

describe('model-based: random create/remove/lookup/seen/expiry against a Map', () => {
  type Tuple = [number, number, number, number, number];
  const tupleArb = fc.tuple(
    fc.constantFrom(UDP, GRE),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 2 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 2 }),
  ) as fc.Arbitrary<Tuple>;
  const opArb = fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constant('create' as const), orig: tupleArb, reply: tupleArb }) },
    { weight: 4, arbitrary: fc.record({ k: fc.constant('lookup' as const), t: tupleArb }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('remove' as const), pick: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('seen' as const),
        pick: fc.nat(),
        dir: fc.constantFrom(0 as const, 1 as const),
      }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 25 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('sweep' as const) }) },
  );

  for (const [name, Impl] of [
    ['default hash', Conntrack],
    ['colliding hash', CollidingConntrack],
  ] as const) {
    it(name, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 24 }),
          fc.integer(),
          fc.array(opArb, { minLength: 1, maxLength: 200, size: 'max' }),
          (maxEntries, hashSeed, ops) => {
            let now = 0;
            const removed: number[] = [];
            const ct = new Impl({
              maxEntries,
              initialEntries: 2,
              clock: () => now,
              onRemoved: (o) => removed.push(o),
              reclaimBudget: 1000,
              hashSeed,
              timeouts: { udpMs: 100, udpStreamMs: 300, genericMs: 200 },
            });
            type M = { orig: Tuple; reply: Tuple; expiresAt: number; replied: boolean; owner: number };
            const byKey = new Map<string, { id: number; dir: 0 | 1 }>();
            const byId = new Map<number, M>();
            const gone: number[] = [];
            let owners = 0;
            const key = (t: Tuple) => t.join(',');
            const drop = (id: number) => {
              const m = byId.get(id)!;
              byKey.delete(key(m.orig));
              byKey.delete(key(m.reply));
              byId.delete(id);
              gone.push(m.owner);
            };
            const timeout = (m: M) => (m.orig[0] === GRE ? 200 : m.replied ? 300 : 100);
            /** model of the duplicate check: an expired holder is reclaimed, a live one blocks */
            const blocks = (t: Tuple) => {
              const hit = byKey.get(key(t));
              if (!hit) return false;
              if (byId.get(hit.id)!.expiresAt > now) return true;
              drop(hit.id);
              return false;
            };
            const pick = (n: number) => [...byId.keys()].sort((a, b) => a - b)[n % byId.size];

            for (const op of ops) {
              if (op.k === 'create') {
                const o = op.orig;
                const r: Tuple = [o[0], op.reply[1], op.reply[2], op.reply[3], op.reply[4]]; // one protocol per flow
                const owner = ++owners;
                const call = () => ct.create(o[0], o[1], o[2], o[3], o[4], r[1], r[2], r[3], r[4], owner, 0);
                if (blocks(o) || blocks(r)) {
                  expect(call).toThrow(expect.objectContaining({ code: 'ERR_TUPLE_EXISTS' }));
                  continue;
                }
                if (byId.size >= maxEntries) for (const [id, m] of [...byId]) if (m.expiresAt <= now) drop(id);
                const id = call();
                if (byId.size >= maxEntries) {
                  expect(id).toBe(-1);
                  continue;
                }
                expect(id).toBeGreaterThanOrEqual(0);
                expect(byId.has(id)).toBe(false);
                byId.set(id, { orig: o, reply: r, expiresAt: now + (o[0] === GRE ? 200 : 100), replied: false, owner });
                byKey.set(key(r), { id, dir: 1 });
                byKey.set(key(o), { id, dir: 0 }); // a socket connected to itself: dir 0 wins
              } else if (op.k === 'lookup') {
                const hit = byKey.get(key(op.t));
                let want = -1;
                if (hit && byId.get(hit.id)!.expiresAt <= now) drop(hit.id);
                else if (hit) want = (hit.id << 1) | hit.dir;
                expect(ct.lookup(...op.t)).toBe(want);
              } else if (op.k === 'remove' && byId.size > 0) {
                const id = pick(op.pick);
                ct.remove(id);
                drop(id);
              } else if (op.k === 'seen' && byId.size > 0) {
                const id = pick(op.pick),
                  m = byId.get(id)!;
                ct.seen(id, op.dir, 0, 100);
                if (op.dir === 1) m.replied = true;
                m.expiresAt = now + timeout(m);
              } else if (op.k === 'advance') {
                now += op.ms;
              } else if (op.k === 'sweep') {
                const expired = [...byId].filter(([, m]) => m.expiresAt <= now);
                expired.forEach(([id]) => drop(id));
                expect(ct.sweep(1e9)).toBe(expired.length);
              }
              expect(ct.size).toBe(byId.size);
            }
            const ids: number[] = [];
            ct.forEach((e) => ids.push(e));
            expect(ids).toEqual([...byId.keys()].sort((a, b) => a - b));
            for (const [id, m] of byId) {
              expect([ct.proto(id), ct.origSrc(id), ct.origSport(id), ct.origDst(id), ct.origDport(id)]).toEqual(
                m.orig,
              );
              expect([ct.replySrc(id), ct.replySport(id), ct.replyDst(id), ct.replyDport(id), ct.owner(id)]).toEqual([
                ...m.reply.slice(1),
                m.owner,
              ]);
            }
            expect(removed.sort((a, b) => a - b)).toEqual(gone.sort((a, b) => a - b));
            now += 10_000; // everything expires: every lookup misses and the table empties
            for (const m of byId.values()) expect(ct.lookup(...m.orig)).toBe(-1);
            ct.sweep(1e9);
            expect(ct.size).toBe(0);
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});
