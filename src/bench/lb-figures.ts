import {
  Backend,
  Conntrack,
  MAGLEV_DEFAULT_TABLE_SIZE,
  PROTO_TCP,
  backendIdentity,
  benchConntrackLookup,
  buildMaglevTable,
  createScheduler,
  lbFlowHash,
} from '../lb/index.js';

/**
 * The load balancer's pure figures for `bench services` (no lab): Maglev's
 * disruption when a backend goes, what conntrack does for established
 * flows meanwhile, table build time, and conntrack lookup cost by table size.
 */

const VIP = 0x0a600101; // 10.96.1.1:80
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;

function backends(n: number): Backend[] {
  return Array.from(
    { length: n },
    (_, i) =>
      new Backend(
        0x0af40000 + ((1 + (i % 250)) << 8) + 2 + Math.floor(i / 250),
        8080,
        `pod-${i}`,
        null,
        true,
        true,
        false,
      ),
  );
}

/** `count` distinct client flows to the VIP, the same every run. */
function flows(count: number): { src: number; sport: number }[] {
  return Array.from({ length: count }, (_, i) => ({ src: 0x0a010000 + i, sport: 10000 + ((i * 7919) % 50000) }));
}

export interface MaglevFigures {
  /** new flows whose backend changed when 1 of n went, as a share of all flows */
  remapShare: number;
  /** remapShare / (1/n): 1 is the least possible (the removed backend's own flows) */
  remapVsIdeal: number;
  /** flows on surviving backends that moved anyway (Maglev keeps this small, not 0) */
  survivorsMoved: number;
  /** established flows (in conntrack) on surviving backends that went elsewhere after the change */
  establishedRemapped: number;
  /** established flows that were on the removed backend (the stage resets them: not remapped, gone) */
  establishedOnRemoved: number;
}

/**
 * n backends behind one VIP, Maglev (M = 65537). `count` flows are
 * established first: each picked by the table and entered in conntrack as
 * the Service stage does (DNAT, handshake seen). Then backend 1 leaves and
 * the table is rebuilt. New flows: pick again, compare. Established flows:
 * what the stage does per packet — conntrack lookup first, the scheduler
 * only on a miss — so a flow keeps the backend its entry names.
 */
export function maglevFigures(n: number, count = 100_000): MaglevFigures {
  const before = backends(n);
  const gone = before[1];
  const after = before.filter((b) => b !== gone);
  const sBefore = createScheduler('maglev', before);
  const sAfter = createScheduler('maglev', after);
  const ct = new Conntrack({ maxEntries: Math.max(131072, count), initialEntries: count });
  const fs = flows(count);
  let moved = 0;
  let survivorsMoved = 0;
  const chosen: Backend[] = [];
  for (const f of fs) {
    const h = lbFlowHash(PROTO_TCP, f.src, f.sport, VIP, 80);
    const b = before[sBefore.pick(h, f.src)];
    const a = after[sAfter.pick(h, f.src)];
    chosen.push(b);
    if (a !== b) {
      moved++;
      if (b !== gone) survivorsMoved++;
    }
    const e = ct.create(PROTO_TCP, f.src, f.sport, VIP, 80, b.ip, b.port, f.src, f.sport, before.indexOf(b), 1);
    ct.seen(e, 0, TCP_SYN, 60);
    ct.seen(e, 1, TCP_SYN | TCP_ACK, 60);
    ct.seen(e, 0, TCP_ACK, 52);
  }
  let establishedRemapped = 0;
  let onRemoved = 0;
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i];
    if (chosen[i] === gone) {
      onRemoved++;
      continue;
    }
    const ref = ct.lookup(PROTO_TCP, f.src, f.sport, VIP, 80);
    const b =
      ref >= 0 ? before[ct.owner(ref >> 1)] : after[sAfter.pick(lbFlowHash(PROTO_TCP, f.src, f.sport, VIP, 80), f.src)];
    if (backendIdentity(b) !== backendIdentity(chosen[i])) establishedRemapped++;
  }
  const remapShare = moved / count;
  return {
    remapShare,
    remapVsIdeal: remapShare * n,
    survivorsMoved: survivorsMoved / count,
    establishedRemapped,
    establishedOnRemoved: onRemoved / count,
  };
}

/** Fastest of `runs` builds of a Maglev table of M = 65537 for n backends, in ms (the least disturbed by other load). */
export function maglevBuildMs(n: number, runs = 9): number {
  const bs = backends(n);
  buildMaglevTable(bs, MAGLEV_DEFAULT_TABLE_SIZE); // warm up
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    buildMaglevTable(bs, MAGLEV_DEFAULT_TABLE_SIZE);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export interface ConntrackFigures {
  nsSmall: number;
  nsLarge: number;
  /** every one of the large table's flows equally active: memory latency, for reference */
  nsLargeAllActive: number;
  probesLarge: number;
  bytesPerEntry: number;
}

/**
 * Lookup cost at `small` and `large` entries (1,024 active flows, as real
 * traffic has a working set): the fastest of 5 runs each, small and large
 * taking turns, so that other load on the machine disturbs both alike.
 */
export function conntrackFigures(small = 1_000, large = 100_000, lookups = 1_000_000): ConntrackFigures {
  let s = { nsPerLookup: Infinity, probesPerLookup: 0 };
  let l = { nsPerLookup: Infinity, probesPerLookup: 0 };
  for (let i = 0; i < 5; i++) {
    const a = benchConntrackLookup(small, lookups);
    if (a.nsPerLookup < s.nsPerLookup) s = a;
    const b = benchConntrackLookup(large, lookups);
    if (b.nsPerLookup < l.nsPerLookup) l = b;
  }
  const all = benchConntrackLookup(large, lookups, large);
  return {
    nsSmall: s.nsPerLookup,
    nsLarge: l.nsPerLookup,
    nsLargeAllActive: all.nsPerLookup,
    probesLarge: l.probesPerLookup,
    bytesPerEntry: new Conntrack().bytesPerEntry(),
  };
}
