/**
 * The connection-tracking table of the per-packet path (Service DNAT,
 * NodePort SNAT, egress masquerade; NetworkPolicy later), after Linux's
 * nf_conntrack: every entry is indexed under both of its tuples, the
 * original (as the first packet was seen: client → VIP) and the reply (as
 * replies will be seen: backend → client, or backend → SNAT address).
 *
 *   lookup(proto, src, sport, dst, dport) → -1 | (entry << 1 | dir)   dir 0 = original, 1 = reply
 *   create(proto, 4 × original, 4 × reply, owner, flags) → entry | -1 (full: drop `conntrack-full`)
 *   seen(entry, dir, tcpFlags, bytes)   TCP state (tcp-state.ts), timeout refresh, counters
 *   remove(entry), removeWhere(pred) → n, sweep(budget?) → n, forEach(fn), has(entry)
 *   getters by entry: proto origSrc origSport origDst origDport replySrc replySport replyDst
 *     replyDport owner flags state expiresAt createdAt packets(e, dir) bytes(e, dir); setOwner setFlags
 *   size, maxEntries, stats, bytesPerEntry(), row(entry), snapshot(), restore(snapshot) → n
 *
 * Expired entries stay until something reclaims them: a lookup that hits one
 * (a miss), sweep() (a 1 Hz timer, bounded work per call), or create() on a
 * full table (one sweep of `reclaimBudget` slots). Established entries are
 * never evicted early. onRemoved(owner, flags) runs exactly once per entry
 * that leaves, after it has left. Only programmer errors throw a
 * ConntrackError: bad options or tuple, a tuple already tracked, an unknown
 * id given to remove() or row(), a malformed snapshot. lookup, seen and
 * sweep never throw.
 *
 * Memory, why not pure struct-of-arrays: a lookup at 100k entries is bound
 * by cache misses, one per array it touches. So the fields a packet reads
 * share one 64-byte record per entry (one cache line), read through two
 * views of the same buffer; only the packet counters sit in their own
 * array. Entry ids are stable: records never move.
 *   u32 words 0-2  original src, dst, sport << 16 | dport    word 3  proto | state << 8 | flags << 16 | track << 24
 *   f64 2  expiresAt ms      f64 3  createdAt ms
 *   u32 words 8-10 reply src, dst, ports                      word 11 owner (int32)
 *   f64 6, 7  bytes original, reply          packets: Float64Array[entry * 2 + dir]
 * A tuple ref (entry << 1 | dir) starts at word ref * 8; the open-addressing
 * index over both tuples (conntrack-index.ts) maps each to its ref.
 * 64 + 16 + 32 (index) = 112 bytes per entry. Arrays start at
 * `initialEntries` and double up to maxEntries: a node with 3 flows does
 * not hold 131072 records; a doubling copies the records and re-inserts
 * the index from its stored hashes (amortised O(1) per create, never on
 * the lookup path). Lookup timings: conntrack-bench.ts.
 *
 * Beside this class: conntrack-types.ts (options and their checks, stats,
 * rows, ConntrackError), conntrack-index.ts, conntrack-snapshot.ts (format,
 * capture, validation), conntrack-bench.ts. All are exported from here.
 */
import { murmurFinalize, murmurMixBlock } from '../packet/index.js';
import { PROTO_TCP, PROTO_UDP } from './types.js';
import {
  CT_FREE,
  CT_REPLIED,
  CT_UNREPLIED,
  SEEN_ORIG,
  SEEN_REPLY,
  TCP_CLOSE,
  TCP_NONE,
  ctStateName,
  tcpNext,
  timeoutTable,
} from './tcp-state.js';
import {
  ConntrackError,
  DEFAULT_SWEEP_BUDGET,
  isInt,
  resolveOptions,
  type ConntrackOptions,
  type ConntrackRow,
  type ConntrackStats,
} from './conntrack-types.js';
import { indexDelete, indexPut, indexRebuild, indexSlots } from './conntrack-index.js';
import { checkSnapshot, takeSnapshot, type ConntrackSnapshot } from './conntrack-snapshot.js';

export {
  ConntrackError,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_SWEEP_BUDGET,
  type ConntrackErrorCode,
  type ConntrackOptions,
  type ConntrackRow,
  type ConntrackStats,
  type ConntrackTuple,
} from './conntrack-types.js';
export type { ConntrackSnapshot, ConntrackSnapshotEntry, SnapshotTuple } from './conntrack-snapshot.js';
export { benchConntrackLookup } from './conntrack-bench.js';

const REC_WORDS = 16;
const W_META = 3;
const W_OWNER = 11;
const F_EXPIRES = 2;
const F_CREATED = 3;
const F_BYTES = 6;

export class Conntrack {
  readonly stats: ConntrackStats = {
    created: 0,
    removed: 0,
    expired: 0,
    insertFailed: 0,
    lookups: 0,
    found: 0,
    searched: 0,
  };
  private u32: Uint32Array;
  private f64: Float64Array;
  private pkts: Float64Array;
  private index: Int32Array;
  private mask: number;
  private capacity: number;
  private used = 0; // records ever handed out; slots ≥ used are untouched
  private count = 0;
  private freeHead = -1; // free records chain through word 0
  private cursor = 0;
  private probes = 0; // index slots the last find() read
  private readonly max: number;
  private readonly clock: () => number;
  private readonly onRemoved: ((owner: number, flags: number) => void) | undefined;
  private readonly seed: number;
  private readonly tmo: Float64Array;
  private readonly genericMs: number;
  private readonly reclaimBudget: number;

  constructor(opts: ConntrackOptions = {}) {
    const o = resolveOptions(opts);
    this.max = o.maxEntries;
    this.capacity = o.initialEntries;
    this.reclaimBudget = o.reclaimBudget;
    this.tmo = timeoutTable(o.timeouts);
    this.genericMs = o.timeouts.genericMs;
    this.clock = o.clock;
    this.onRemoved = o.onRemoved;
    this.seed = o.hashSeed;
    const buf = new ArrayBuffer(this.capacity * REC_WORDS * 4);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
    this.pkts = new Float64Array(this.capacity * 2);
    this.index = new Int32Array(indexSlots(this.capacity) * 2);
    this.mask = indexSlots(this.capacity) - 1;
  }

  get size(): number {
    return this.count;
  }
  get maxEntries(): number {
    return this.max;
  }

  /** -1, or entry << 1 | dir (0: the packet matches the original tuple, 1: the reply tuple). An expired entry is removed: a miss. */
  lookup(proto: number, src: number, sport: number, dst: number, dport: number): number {
    src >>>= 0;
    dst >>>= 0;
    const ports = ((sport << 16) | (dport & 0xffff)) >>> 0;
    this.stats.lookups++;
    const ref = this.find(proto, src, dst, ports, this.hashTuple(proto, src, dst, ports));
    this.stats.searched += this.probes;
    if (ref < 0) return -1;
    if (this.f64[((ref >> 1) << 3) + F_EXPIRES] <= this.clock()) {
      this.expire(ref >> 1);
      return -1;
    }
    this.stats.found++;
    return ref;
  }

  /**
   * A new entry (TCP in NONE, others UNREPLIED) → its id, or -1 when the table
   * is full even after reclaiming expired entries. It does not count the first
   * packet: call seen(entry, 0, …) for it, which also starts the TCP state
   * machine. Original and reply tuple may be equal (a socket connected to
   * itself); lookup then answers dir 0. Throws ERR_TUPLE_EXISTS / ERR_BAD_TUPLE.
   */
  create(
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    rSrc: number,
    rSport: number,
    rDst: number,
    rDport: number,
    owner: number,
    flags: number,
  ): number {
    if (!(
      isInt(proto, 0, 255) &&
      isInt(src, 0, 0xffffffff) &&
      isInt(dst, 0, 0xffffffff) &&
      isInt(rSrc, 0, 0xffffffff) &&
      isInt(rDst, 0, 0xffffffff) &&
      isInt(sport, 0, 0xffff) &&
      isInt(dport, 0, 0xffff) &&
      isInt(rSport, 0, 0xffff) &&
      isInt(rDport, 0, 0xffff) &&
      isInt(owner, -0x8000_0000, 0x7fff_ffff) &&
      isInt(flags, 0, 255)
    )) {
      throw new ConntrackError(
        'ERR_BAD_TUPLE',
        `bad tuple ${[proto, src, sport, dst, dport, rSrc, rSport, rDst, rDport, owner, flags]}`,
      );
    }
    const e = this.insert(proto, src, dst, (sport << 16) | dport, rSrc, rDst, (rSport << 16) | rDport);
    if (e === -2)
      throw new ConntrackError('ERR_TUPLE_EXISTS', `a tuple of ${proto} ${src}:${sport} → ${dst}:${dport} is tracked`);
    if (e < 0) return -1;
    const tcp = proto === PROTO_TCP;
    this.u32[(e << 4) + W_META] = proto | ((tcp ? TCP_NONE : CT_UNREPLIED) << 8) | (flags << 16);
    this.u32[(e << 4) + W_OWNER] = owner;
    const now = this.clock();
    this.f64[(e << 3) + F_CREATED] = now;
    this.f64[(e << 3) + F_EXPIRES] =
      now + (tcp || proto === PROTO_UDP ? this.tmo[tcp ? TCP_NONE : CT_UNREPLIED] : this.genericMs);
    return e;
  }

  /** A packet of a live entry (L3 bytes; tcpFlags 0 unless TCP): state, timeout, counters. A free id is ignored. */
  seen(entry: number, dir: 0 | 1, tcpFlags: number, bytes: number): void {
    const r = entry << 4;
    const meta = this.u32[r + W_META];
    let state = (meta >>> 8) & 0xff;
    if (state === CT_FREE) return;
    let track = (meta >>> 24) | (dir === 0 ? SEEN_ORIG : SEEN_REPLY);
    const proto = meta & 0xff;
    let timeoutMs: number;
    if (proto === PROTO_TCP) {
      const next = tcpNext(state, dir, tcpFlags, track);
      state = next & 0xff;
      track = next >>> 8;
      timeoutMs = this.tmo[state];
    } else {
      if (dir === 1) state = CT_REPLIED;
      timeoutMs = proto === PROTO_UDP ? this.tmo[state] : this.genericMs;
    }
    this.u32[r + W_META] = (meta & 0x00ff00ff) | (state << 8) | (track << 24);
    this.f64[(entry << 3) + F_EXPIRES] = this.clock() + timeoutMs;
    this.f64[(entry << 3) + F_BYTES + dir] += bytes;
    this.pkts[(entry << 1) | dir]++;
  }

  remove(entry: number): void {
    this.check(entry);
    const owner = this.owner(entry),
      flags = this.flags(entry);
    this.unlink(entry);
    this.stats.removed++;
    this.onRemoved?.(owner, flags);
  }

  /** Reclaim expired entries, examining at most `budget` records from where the last call stopped. */
  sweep(budget = DEFAULT_SWEEP_BUDGET): number {
    const now = this.clock();
    let reclaimed = 0;
    for (let n = Math.min(budget, this.used); n > 0; n--) {
      if (this.cursor >= this.used) this.cursor = 0;
      const e = this.cursor++;
      if (this.state(e) !== CT_FREE && this.f64[(e << 3) + F_EXPIRES] <= now) {
        this.expire(e);
        reclaimed++;
      }
    }
    return reclaimed;
  }

  /** Remove every entry `pred` accepts (expired but unreclaimed ones included). */
  removeWhere(pred: (entry: number) => boolean): number {
    let n = 0;
    this.forEach((e) => {
      if (pred(e)) {
        this.remove(e);
        n++;
      }
    });
    return n;
  }

  /** Visits every stored entry in id order; `fn` may remove the entry it is given. */
  forEach(fn: (entry: number) => void): void {
    for (let e = 0; e < this.used; e++) if (this.state(e) !== CT_FREE) fn(e);
  }

  has(entry: number): boolean {
    return Number.isInteger(entry) && entry >= 0 && entry < this.used && this.state(entry) !== CT_FREE;
  }

  // Getters take a live entry id (from lookup >> 1, create or forEach) and do not check it.
  proto(e: number): number {
    return this.u32[(e << 4) + W_META] & 0xff;
  }
  state(e: number): number {
    return (this.u32[(e << 4) + W_META] >>> 8) & 0xff;
  }
  flags(e: number): number {
    return (this.u32[(e << 4) + W_META] >>> 16) & 0xff;
  }
  /** SEEN_ / FIN_ / CLOSER_ bits of tcp-state.ts */
  track(e: number): number {
    return this.u32[(e << 4) + W_META] >>> 24;
  }
  owner(e: number): number {
    return this.u32[(e << 4) + W_OWNER] | 0;
  }
  origSrc(e: number): number {
    return this.u32[e << 4];
  }
  origDst(e: number): number {
    return this.u32[(e << 4) + 1];
  }
  origSport(e: number): number {
    return this.u32[(e << 4) + 2] >>> 16;
  }
  origDport(e: number): number {
    return this.u32[(e << 4) + 2] & 0xffff;
  }
  replySrc(e: number): number {
    return this.u32[(e << 4) + 8];
  }
  replyDst(e: number): number {
    return this.u32[(e << 4) + 9];
  }
  replySport(e: number): number {
    return this.u32[(e << 4) + 10] >>> 16;
  }
  replyDport(e: number): number {
    return this.u32[(e << 4) + 10] & 0xffff;
  }
  expiresAt(e: number): number {
    return this.f64[(e << 3) + F_EXPIRES];
  }
  createdAt(e: number): number {
    return this.f64[(e << 3) + F_CREATED];
  }
  packets(e: number, dir: 0 | 1): number {
    return this.pkts[(e << 1) | dir];
  }
  bytes(e: number, dir: 0 | 1): number {
    return this.f64[(e << 3) + F_BYTES + dir];
  }
  setOwner(e: number, owner: number): void {
    this.u32[(e << 4) + W_OWNER] = owner;
  }
  setFlags(e: number, flags: number): void {
    const r = (e << 4) + W_META;
    this.u32[r] = (this.u32[r] & 0xff00ffff) | ((flags & 0xff) << 16);
  }

  /** Bytes per entry with the table at maxEntries: records, counters and the index. */
  bytesPerEntry(): number {
    return (this.u32.byteLength + this.pkts.byteLength) / this.capacity + (indexSlots(this.max) * 8) / this.max;
  }

  row(entry: number): ConntrackRow {
    this.check(entry);
    const now = this.clock(),
      e = entry;
    return {
      entry,
      proto: this.proto(e),
      orig: { src: this.origSrc(e), sport: this.origSport(e), dst: this.origDst(e), dport: this.origDport(e) },
      reply: { src: this.replySrc(e), sport: this.replySport(e), dst: this.replyDst(e), dport: this.replyDport(e) },
      state: ctStateName(this.state(e)),
      secondsLeft: Math.max(0, Math.floor((this.expiresAt(e) - now) / 1000)),
      ageSeconds: Math.max(0, Math.floor((now - this.createdAt(e)) / 1000)),
      origPackets: this.packets(e, 0),
      origBytes: this.bytes(e, 0),
      replyPackets: this.packets(e, 1),
      replyBytes: this.bytes(e, 1),
      owner: this.owner(e),
      flags: this.flags(e),
    };
  }

  /** Live (unexpired) entries with expiry as remaining ms, so a restart on another clock can restore them. */
  snapshot(): ConntrackSnapshot {
    return takeSnapshot(this, this.clock());
  }

  /**
   * Adds a snapshot's entries (normally into an empty table), expiry relative
   * to this table's clock. Entries whose tuple is already tracked, or that do
   * not fit, are skipped (with `update`, an entry already tracked under both
   * tuples takes the snapshot's state, expiry and counters, keeping its owner).
   * Returns how many were restored or updated; throws
   * ERR_BAD_SNAPSHOT (before adding any) if the snapshot is malformed.
   */
  restore(s: ConntrackSnapshot, opts: { update?: boolean } = {}): number {
    checkSnapshot(s);
    const now = this.clock();
    let n = 0;
    for (const x of s.entries) {
      const [src, sport, dst, dport] = x.orig,
        [rSrc, rSport, rDst, rDport] = x.reply;
      let e = this.insert(x.proto, src, dst, (sport << 16) | dport, rSrc, rDst, (rSport << 16) | rDport);
      // update: an agent taking over refreshes what it restored from its predecessor's file with
      // the predecessor's last word (state, expiry, counters) — the same entry, both tuples equal
      if (e === -2 && opts.update) {
        const ref = this.lookup(x.proto, src, sport, dst, dport);
        e = ref >= 0 && (ref & 1) === 0 && this.sameReply(ref >> 1, rSrc, rSport, rDst, rDport) ? ref >> 1 : -1;
        if (e >= 0) {
          const owner = this.u32[(e << 4) + W_OWNER];
          this.u32[(e << 4) + W_META] = x.proto | (x.state << 8) | (x.flags << 16) | (x.track << 24);
          this.u32[(e << 4) + W_OWNER] = owner;
          this.f64[(e << 3) + F_EXPIRES] = now + x.remainingMs;
          this.f64[(e << 3) + F_BYTES] = x.bytes[0];
          this.f64[(e << 3) + F_BYTES + 1] = x.bytes[1];
          this.pkts[e << 1] = x.packets[0];
          this.pkts[(e << 1) | 1] = x.packets[1];
          n++;
          continue;
        }
      }
      if (e < 0) continue;
      this.u32[(e << 4) + W_META] = x.proto | (x.state << 8) | (x.flags << 16) | (x.track << 24);
      this.u32[(e << 4) + W_OWNER] = x.owner;
      this.f64[(e << 3) + F_EXPIRES] = now + x.remainingMs;
      this.f64[(e << 3) + F_CREATED] = now - x.ageMs;
      this.f64[(e << 3) + F_BYTES] = x.bytes[0];
      this.f64[(e << 3) + F_BYTES + 1] = x.bytes[1];
      this.pkts[e << 1] = x.packets[0];
      this.pkts[(e << 1) | 1] = x.packets[1];
      n++;
    }
    return n;
  }

  private sameReply(e: number, src: number, sport: number, dst: number, dport: number): boolean {
    const r = e << 4;
    return (
      this.u32[r + 8] === src >>> 0 &&
      this.u32[r + 9] === dst >>> 0 &&
      this.u32[r + 10] === ((sport << 16) | (dport & 0xffff)) >>> 0
    );
  }

  /** The index hash of a tuple; `ports` is sport << 16 | dport. Protected so tests can force collisions. */
  protected hashTuple(proto: number, src: number, dst: number, ports: number): number {
    return murmurFinalize(murmurMixBlock(murmurMixBlock(murmurMixBlock(this.seed ^ proto, src), dst), ports) ^ 12) | 0;
  }

  /**
   * The index probe (layout: conntrack-index.ts), kept a method: it is the
   * lookup path's one call, compares records, and reports its probe count
   * through a field rather than an allocated result.
   */
  private find(proto: number, src: number, dst: number, ports: number, h: number): number {
    const idx = this.index,
      u32 = this.u32,
      mask = this.mask;
    let probes = 1;
    for (let i = h & mask; idx[i << 1] !== 0; i = (i + 1) & mask, probes++) {
      if (idx[(i << 1) + 1] !== h) continue;
      const ref = idx[i << 1] - 1,
        w = ref << 3;
      if (u32[w] === src && u32[w + 1] === dst && u32[w + 2] === ports && (u32[(w & ~15) + W_META] & 0xff) === proto) {
        this.probes = probes;
        return ref;
      }
    }
    this.probes = probes;
    return -1;
  }

  /** New record with both tuples indexed: entry, -1 when full, -2 when a tuple is tracked (an expired holder is reclaimed). */
  private insert(
    proto: number,
    src: number,
    dst: number,
    ports: number,
    rSrc: number,
    rDst: number,
    rPorts: number,
  ): number {
    src >>>= 0;
    dst >>>= 0;
    ports >>>= 0;
    rSrc >>>= 0;
    rDst >>>= 0;
    rPorts >>>= 0;
    const h0 = this.hashTuple(proto, src, dst, ports),
      h1 = this.hashTuple(proto, rSrc, rDst, rPorts);
    if (this.tracked(proto, src, dst, ports, h0) || this.tracked(proto, rSrc, rDst, rPorts, h1)) return -2;
    if (this.count >= this.max) this.sweep(this.reclaimBudget);
    if (this.count >= this.max) {
      this.stats.insertFailed++;
      return -1;
    }
    let e = this.freeHead;
    if (e >= 0) this.freeHead = this.u32[e << 4] | 0;
    else {
      if (this.used === this.capacity) this.grow();
      e = this.used++;
    }
    const r = e << 4,
      u32 = this.u32;
    u32[r] = src;
    u32[r + 1] = dst;
    u32[r + 2] = ports;
    u32[r + 8] = rSrc;
    u32[r + 9] = rDst;
    u32[r + 10] = rPorts;
    u32[r + W_META] = proto | (TCP_CLOSE << 8); // non-free until the caller writes the real state
    indexPut(this.index, this.mask, e << 1, h0);
    if (!sameTuples(u32, r)) indexPut(this.index, this.mask, (e << 1) | 1, h1);
    this.count++;
    this.stats.created++;
    return e;
  }

  private tracked(proto: number, src: number, dst: number, ports: number, h: number): boolean {
    const ref = this.find(proto, src, dst, ports, h);
    if (ref < 0) return false;
    if (this.f64[((ref >> 1) << 3) + F_EXPIRES] > this.clock()) return true;
    this.expire(ref >> 1);
    return false;
  }

  private expire(e: number): void {
    const owner = this.owner(e),
      flags = this.flags(e);
    this.unlink(e);
    this.stats.expired++;
    this.onRemoved?.(owner, flags);
  }

  private unlink(e: number): void {
    const r = e << 4,
      u32 = this.u32,
      proto = u32[r + W_META] & 0xff;
    indexDelete(this.index, this.mask, e << 1, this.hashTuple(proto, u32[r], u32[r + 1], u32[r + 2]));
    if (!sameTuples(u32, r))
      indexDelete(this.index, this.mask, (e << 1) | 1, this.hashTuple(proto, u32[r + 8], u32[r + 9], u32[r + 10]));
    u32.fill(0, r, r + REC_WORDS);
    u32[r] = this.freeHead;
    this.pkts[e << 1] = 0;
    this.pkts[(e << 1) | 1] = 0;
    this.freeHead = e;
    this.count--;
  }

  private grow(): void {
    const cap = Math.min(this.capacity * 2, this.max);
    const buf = new ArrayBuffer(cap * REC_WORDS * 4);
    new Uint32Array(buf).set(this.u32);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
    const pkts = new Float64Array(cap * 2);
    pkts.set(this.pkts);
    this.pkts = pkts;
    const slots = indexSlots(cap);
    this.index = indexRebuild(this.index, slots);
    this.mask = slots - 1;
    this.capacity = cap;
  }

  private check(entry: number): void {
    if (!this.has(entry)) throw new ConntrackError('ERR_NO_ENTRY', `no conntrack entry ${entry}`);
  }
}

/**
 * A socket connected to itself (no NAT) has equal original and reply
 * tuples; only the original is indexed, so lookup answers dir 0 for it
 * whatever order a rebuild leaves the index in.
 */
function sameTuples(u32: Uint32Array, r: number): boolean {
  return u32[r] === u32[r + 8] && u32[r + 1] === u32[r + 9] && u32[r + 2] === u32[r + 10];
}
