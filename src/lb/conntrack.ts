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
 * A tuple ref (entry << 1 | dir) starts at word ref * 8. The index is open
 * addressing with linear probing over [ref + 1 (0 = empty), hash] pairs in
 * one Int32Array, sized to a power of two ≥ 4 × capacity (two tuples per
 * entry at load ≤ 0.5, so probes stay short); comparing the stored hash
 * first means a probe past a neighbour does not touch its record. Deletion
 * is backward-shift (no tombstones), so churn never lengthens probes.
 * 64 + 16 + 32 (index) = 112 bytes per entry. Arrays start at
 * `initialEntries` and double up to maxEntries: a node with 3 flows does
 * not hold 131072 records; a doubling copies the records and re-inserts
 * the index from its stored hashes (amortised O(1) per create, never on
 * the lookup path).
 *
 * Measured with benchConntrackLookup (1024 active flows, 2-core EPYC VM):
 * ~29 ns per lookup at 1k and at 100k entries, mean probe length 1.3-1.6.
 * With every one of 100k flows equally active, 150-250 ns: each lookup then
 * misses the CPU caches twice (index slot, record), whatever the hash.
 */
import { murmurFinalize, murmurMixBlock } from '../packet/murmur3.js';
import { PROTO_TCP, PROTO_UDP } from './types.js';
import {
  CT_FREE, CT_REPLIED, CT_STATE_NAMES, CT_UNREPLIED, DEFAULT_TIMEOUTS, SEEN_ORIG, SEEN_REPLY, TCP_CLOSE,
  TCP_NONE, ctStateName, tcpNext, timeoutTable, type ConntrackTimeouts,
} from './tcp-state.js';

export type ConntrackErrorCode = 'ERR_BAD_OPTIONS' | 'ERR_BAD_TUPLE' | 'ERR_TUPLE_EXISTS' | 'ERR_NO_ENTRY' | 'ERR_BAD_SNAPSHOT';

export class ConntrackError extends Error {
  override readonly name = 'ConntrackError';
  constructor(readonly code: ConntrackErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ConntrackOptions {
  /** default 131072, kube-proxy's --conntrack-min */
  maxEntries?: number;
  /** records allocated up front (default 256); doubles up to maxEntries */
  initialEntries?: number;
  /** ms, monotonic; default performance.now */
  clock?: () => number;
  timeouts?: Partial<ConntrackTimeouts>;
  onRemoved?: (owner: number, flags: number) => void;
  /** default random per table, as Linux's nf_conntrack_hash_rnd: clients choose ports, so a fixed hash could be flooded with collisions */
  hashSeed?: number;
  /** slots create() examines for expired entries when the table is full (default 1024) */
  reclaimBudget?: number;
}

export interface ConntrackStats {
  created: number; // incl. restored
  removed: number; // remove() and removeWhere()
  expired: number; // timed out (lookup, sweep, reclaim)
  insertFailed: number; // create() on a full table
  lookups: number;
  found: number;
  /** index slots probed by lookups (searched / lookups = mean probe length) */
  searched: number;
}

export interface ConntrackTuple { src: number; sport: number; dst: number; dport: number }
export interface ConntrackRow {
  entry: number; proto: number; orig: ConntrackTuple; reply: ConntrackTuple; state: string;
  secondsLeft: number; ageSeconds: number; origPackets: number; origBytes: number;
  replyPackets: number; replyBytes: number; owner: number; flags: number;
}
/** [src, sport, dst, dport] */
export type SnapshotTuple = [number, number, number, number];
export interface ConntrackSnapshotEntry {
  proto: number; orig: SnapshotTuple; reply: SnapshotTuple; state: number; track: number; owner: number;
  flags: number; remainingMs: number; ageMs: number; packets: [number, number]; bytes: [number, number];
}
export interface ConntrackSnapshot { version: 1; entries: ConntrackSnapshotEntry[] }

export const DEFAULT_MAX_ENTRIES = 131072;
/** a 1 Hz sweep covers a full default table in 8 s, ~100 µs per call */
export const DEFAULT_SWEEP_BUDGET = 16384;
const MAX_ENTRIES_LIMIT = 1 << 24; // entry << 4 (record word offsets) must stay within int32
const REC_WORDS = 16;
const W_META = 3;
const W_OWNER = 11;
const F_EXPIRES = 2;
const F_CREATED = 3;
const F_BYTES = 6;

export class Conntrack {
  readonly stats: ConntrackStats = { created: 0, removed: 0, expired: 0, insertFailed: 0, lookups: 0, found: 0, searched: 0 };
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
    this.max = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!isInt(this.max, 1, MAX_ENTRIES_LIMIT)) throw new ConntrackError('ERR_BAD_OPTIONS', `maxEntries must be 1..${MAX_ENTRIES_LIMIT}`);
    this.capacity = Math.min(opts.initialEntries ?? 256, this.max);
    if (!isInt(this.capacity, 1, this.max)) throw new ConntrackError('ERR_BAD_OPTIONS', 'initialEntries must be ≥ 1');
    this.reclaimBudget = opts.reclaimBudget ?? 1024;
    if (!isInt(this.reclaimBudget, 1, Infinity)) throw new ConntrackError('ERR_BAD_OPTIONS', 'reclaimBudget must be ≥ 1');
    const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    for (const [k, v] of Object.entries(timeouts)) {
      if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new ConntrackError('ERR_BAD_OPTIONS', `timeouts.${k} must be > 0 ms`);
    }
    this.tmo = timeoutTable(timeouts);
    this.genericMs = timeouts.genericMs;
    this.clock = opts.clock ?? (() => performance.now());
    this.onRemoved = opts.onRemoved;
    this.seed = (opts.hashSeed ?? Math.random() * 0x1_0000_0000) | 0;
    const buf = new ArrayBuffer(this.capacity * REC_WORDS * 4);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
    this.pkts = new Float64Array(this.capacity * 2);
    this.index = new Int32Array(indexSlots(this.capacity) * 2);
    this.mask = indexSlots(this.capacity) - 1;
  }

  get size(): number { return this.count; }
  get maxEntries(): number { return this.max; }

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
    proto: number, src: number, sport: number, dst: number, dport: number,
    rSrc: number, rSport: number, rDst: number, rDport: number, owner: number, flags: number,
  ): number {
    if (!(isInt(proto, 0, 255) && isInt(src, 0, 0xffffffff) && isInt(dst, 0, 0xffffffff) && isInt(rSrc, 0, 0xffffffff) &&
      isInt(rDst, 0, 0xffffffff) && isInt(sport, 0, 0xffff) && isInt(dport, 0, 0xffff) && isInt(rSport, 0, 0xffff) &&
      isInt(rDport, 0, 0xffff) && isInt(owner, -0x8000_0000, 0x7fff_ffff) && isInt(flags, 0, 255))) {
      throw new ConntrackError('ERR_BAD_TUPLE', `bad tuple ${[proto, src, sport, dst, dport, rSrc, rSport, rDst, rDport, owner, flags]}`);
    }
    const e = this.insert(proto, src, dst, (sport << 16) | dport, rSrc, rDst, (rSport << 16) | rDport);
    if (e === -2) throw new ConntrackError('ERR_TUPLE_EXISTS', `a tuple of ${proto} ${src}:${sport} → ${dst}:${dport} is tracked`);
    if (e < 0) return -1;
    const tcp = proto === PROTO_TCP;
    this.u32[(e << 4) + W_META] = proto | ((tcp ? TCP_NONE : CT_UNREPLIED) << 8) | (flags << 16);
    this.u32[(e << 4) + W_OWNER] = owner;
    const now = this.clock();
    this.f64[(e << 3) + F_CREATED] = now;
    this.f64[(e << 3) + F_EXPIRES] = now + (tcp || proto === PROTO_UDP ? this.tmo[tcp ? TCP_NONE : CT_UNREPLIED] : this.genericMs);
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
    const owner = this.owner(entry), flags = this.flags(entry);
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
  proto(e: number): number { return this.u32[(e << 4) + W_META] & 0xff; }
  state(e: number): number { return (this.u32[(e << 4) + W_META] >>> 8) & 0xff; }
  flags(e: number): number { return (this.u32[(e << 4) + W_META] >>> 16) & 0xff; }
  /** SEEN_ / FIN_ / CLOSER_ bits of tcp-state.ts */
  track(e: number): number { return this.u32[(e << 4) + W_META] >>> 24; }
  owner(e: number): number { return this.u32[(e << 4) + W_OWNER] | 0; }
  origSrc(e: number): number { return this.u32[e << 4]; }
  origDst(e: number): number { return this.u32[(e << 4) + 1]; }
  origSport(e: number): number { return this.u32[(e << 4) + 2] >>> 16; }
  origDport(e: number): number { return this.u32[(e << 4) + 2] & 0xffff; }
  replySrc(e: number): number { return this.u32[(e << 4) + 8]; }
  replyDst(e: number): number { return this.u32[(e << 4) + 9]; }
  replySport(e: number): number { return this.u32[(e << 4) + 10] >>> 16; }
  replyDport(e: number): number { return this.u32[(e << 4) + 10] & 0xffff; }
  expiresAt(e: number): number { return this.f64[(e << 3) + F_EXPIRES]; }
  createdAt(e: number): number { return this.f64[(e << 3) + F_CREATED]; }
  packets(e: number, dir: 0 | 1): number { return this.pkts[(e << 1) | dir]; }
  bytes(e: number, dir: 0 | 1): number { return this.f64[(e << 3) + F_BYTES + dir]; }
  setOwner(e: number, owner: number): void { this.u32[(e << 4) + W_OWNER] = owner; }
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
    const now = this.clock(), e = entry;
    return {
      entry, proto: this.proto(e),
      orig: { src: this.origSrc(e), sport: this.origSport(e), dst: this.origDst(e), dport: this.origDport(e) },
      reply: { src: this.replySrc(e), sport: this.replySport(e), dst: this.replyDst(e), dport: this.replyDport(e) },
      state: ctStateName(this.state(e)),
      secondsLeft: Math.max(0, Math.floor((this.expiresAt(e) - now) / 1000)),
      ageSeconds: Math.max(0, Math.floor((now - this.createdAt(e)) / 1000)),
      origPackets: this.packets(e, 0), origBytes: this.bytes(e, 0),
      replyPackets: this.packets(e, 1), replyBytes: this.bytes(e, 1),
      owner: this.owner(e), flags: this.flags(e),
    };
  }

  /** Live (unexpired) entries with expiry as remaining ms, so a restart on another clock can restore them. */
  snapshot(): ConntrackSnapshot {
    const now = this.clock();
    const entries: ConntrackSnapshotEntry[] = [];
    this.forEach((e) => {
      const remainingMs = this.expiresAt(e) - now;
      if (remainingMs <= 0) return;
      entries.push({
        proto: this.proto(e), state: this.state(e), track: this.track(e), owner: this.owner(e), flags: this.flags(e),
        orig: [this.origSrc(e), this.origSport(e), this.origDst(e), this.origDport(e)],
        reply: [this.replySrc(e), this.replySport(e), this.replyDst(e), this.replyDport(e)],
        remainingMs, ageMs: now - this.createdAt(e),
        packets: [this.packets(e, 0), this.packets(e, 1)], bytes: [this.bytes(e, 0), this.bytes(e, 1)],
      });
    });
    return { version: 1, entries };
  }

  /**
   * Adds a snapshot's entries (normally into an empty table), expiry relative
   * to this table's clock. Entries whose tuple is already tracked, or that do
   * not fit, are skipped. Returns how many were restored; throws
   * ERR_BAD_SNAPSHOT (before adding any) if the snapshot is malformed.
   */
  restore(s: ConntrackSnapshot): number {
    if (s?.version !== 1 || !Array.isArray(s.entries)) throw new ConntrackError('ERR_BAD_SNAPSHOT', 'not a version 1 conntrack snapshot');
    s.entries.forEach((x, i) => {
      if (!validEntry(x)) throw new ConntrackError('ERR_BAD_SNAPSHOT', `snapshot entry ${i} is malformed: ${JSON.stringify(x)}`);
    });
    const now = this.clock();
    let n = 0;
    for (const x of s.entries) {
      const [src, sport, dst, dport] = x.orig, [rSrc, rSport, rDst, rDport] = x.reply;
      const e = this.insert(x.proto, src, dst, (sport << 16) | dport, rSrc, rDst, (rSport << 16) | rDport);
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

  /** The index hash of a tuple; `ports` is sport << 16 | dport. Protected so tests can force collisions. */
  protected hashTuple(proto: number, src: number, dst: number, ports: number): number {
    return murmurFinalize(murmurMixBlock(murmurMixBlock(murmurMixBlock(this.seed ^ proto, src), dst), ports) ^ 12) | 0;
  }

  private find(proto: number, src: number, dst: number, ports: number, h: number): number {
    const idx = this.index, u32 = this.u32, mask = this.mask;
    let probes = 1;
    for (let i = h & mask; idx[i << 1] !== 0; i = (i + 1) & mask, probes++) {
      if (idx[(i << 1) + 1] !== h) continue;
      const ref = idx[i << 1] - 1, w = ref << 3;
      if (u32[w] === src && u32[w + 1] === dst && u32[w + 2] === ports && (u32[(w & ~15) + W_META] & 0xff) === proto) {
        this.probes = probes;
        return ref;
      }
    }
    this.probes = probes;
    return -1;
  }

  /** New record with both tuples indexed: entry, -1 when full, -2 when a tuple is tracked (an expired holder is reclaimed). */
  private insert(proto: number, src: number, dst: number, ports: number, rSrc: number, rDst: number, rPorts: number): number {
    src >>>= 0; dst >>>= 0; ports >>>= 0; rSrc >>>= 0; rDst >>>= 0; rPorts >>>= 0;
    const h0 = this.hashTuple(proto, src, dst, ports), h1 = this.hashTuple(proto, rSrc, rDst, rPorts);
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
    const r = e << 4, u32 = this.u32;
    u32[r] = src; u32[r + 1] = dst; u32[r + 2] = ports;
    u32[r + 8] = rSrc; u32[r + 9] = rDst; u32[r + 10] = rPorts;
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
    const owner = this.owner(e), flags = this.flags(e);
    this.unlink(e);
    this.stats.expired++;
    this.onRemoved?.(owner, flags);
  }

  private unlink(e: number): void {
    const r = e << 4, u32 = this.u32, proto = u32[r + W_META] & 0xff;
    indexDelete(this.index, this.mask, e << 1, this.hashTuple(proto, u32[r], u32[r + 1], u32[r + 2]));
    if (!sameTuples(u32, r)) indexDelete(this.index, this.mask, (e << 1) | 1, this.hashTuple(proto, u32[r + 8], u32[r + 9], u32[r + 10]));
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
    const old = this.index, slots = indexSlots(cap);
    this.index = new Int32Array(slots * 2);
    this.mask = slots - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) indexPut(this.index, this.mask, old[i] - 1, old[i + 1]);
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

function indexSlots(entries: number): number {
  let n = 8;
  while (n < entries * 4) n *= 2;
  return n;
}

function indexPut(idx: Int32Array, mask: number, ref: number, h: number): void {
  let i = h & mask;
  while (idx[i << 1] !== 0) i = (i + 1) & mask;
  idx[i << 1] = ref + 1;
  idx[(i << 1) + 1] = h;
}

/** Backward-shift deletion (Knuth 6.4 Algorithm R): later members of the cluster move up into the hole if that does not pass their home slot. */
function indexDelete(idx: Int32Array, mask: number, ref: number, h: number): void {
  let i = h & mask;
  while (idx[i << 1] !== ref + 1) i = (i + 1) & mask;
  for (let j = (i + 1) & mask; idx[j << 1] !== 0; j = (j + 1) & mask) {
    const home = idx[(j << 1) + 1] & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      idx[i << 1] = idx[j << 1];
      idx[(i << 1) + 1] = idx[(j << 1) + 1];
      i = j;
    }
  }
  idx[i << 1] = 0;
  idx[(i << 1) + 1] = 0;
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function validEntry(x: ConntrackSnapshotEntry): boolean {
  const tuple = (t: unknown): boolean => Array.isArray(t) && t.length === 4 &&
    isInt(t[0], 0, 0xffffffff) && isInt(t[1], 0, 0xffff) && isInt(t[2], 0, 0xffffffff) && isInt(t[3], 0, 0xffff);
  const pair = (p: unknown): boolean => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && v >= 0);
  if (!(x && typeof x === 'object' && isInt(x.proto, 0, 255) && tuple(x.orig) && tuple(x.reply))) return false;
  const tcpState = x.state >= TCP_NONE && x.state <= TCP_CLOSE;
  return (x.proto === PROTO_TCP ? tcpState : x.state === CT_UNREPLIED || x.state === CT_REPLIED) &&
    isInt(x.state, 1, CT_STATE_NAMES.length - 1) && isInt(x.track, 0, 255) && isInt(x.owner, -0x8000_0000, 0x7fff_ffff) &&
    isInt(x.flags, 0, 255) && typeof x.remainingMs === 'number' && Number.isFinite(x.remainingMs) &&
    typeof x.ageMs === 'number' && Number.isFinite(x.ageMs) && pair(x.packets) && pair(x.bytes);
}

/**
 * Micro-benchmark for `npm run bench -- services`: a table of `entries` TCP
 * flows, then `lookups` hits, both directions, in pseudo-random order over
 * `activeFlows` of them spread across the table. Real traffic has a working
 * set: most entries of a big table are idle. With activeFlows = entries the
 * benchmark measures memory latency instead (every lookup a cache miss),
 * which no hash layout removes. The clock is a constant, so the table, not
 * performance.now, is measured.
 */
export function benchConntrackLookup(
  entries: number, lookups: number, activeFlows = 1024,
): { nsPerLookup: number; probesPerLookup: number } {
  const ct = new Conntrack({ maxEntries: Math.max(DEFAULT_MAX_ENTRIES, entries), clock: () => 0, hashSeed: 1 });
  const VIP = 0x0a600001; // 10.96.0.1:80 → backends 10.244.x.y:8080
  const client = (i: number): number => 0x0a000000 + Math.floor(i / 50000);
  const port = (i: number): number => 10000 + (i % 50000);
  const backend = (i: number): number => 0x0af40000 + (i % 4096);
  for (let i = 0; i < entries; i++) ct.create(PROTO_TCP, client(i), port(i), VIP, 80, backend(i), 8080, client(i), port(i), 0, 0);
  let x = 0x9e3779b9;
  const rnd = (): number => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; // xorshift32
    return x >>> 0;
  };
  const active = Math.min(activeFlows, entries);
  const q = new Uint32Array(active * 8); // per flow: original then reply tuple, [src, sport, dst, dport]
  for (let k = 0; k < active; k++) {
    const i = rnd() % entries;
    q.set([client(i), port(i), VIP, 80, backend(i), 8080, client(i), port(i)], k * 8);
  }
  const order = new Uint32Array(lookups).map(() => (rnd() % (active * 2)) << 2);
  const run = (n: number): number => {
    let sink = 0;
    for (let k = 0; k < n; k++) {
      const b = order[k];
      sink ^= ct.lookup(PROTO_TCP, q[b], q[b + 1], q[b + 2], q[b + 3]);
    }
    return sink;
  };
  run(Math.min(lookups, 20000)); // warm up: let V8 optimise lookup
  const searched = ct.stats.searched, before = ct.stats.lookups;
  const t0 = process.hrtime.bigint();
  run(lookups);
  const ns = Number(process.hrtime.bigint() - t0);
  return { nsPerLookup: ns / lookups, probesPerLookup: (ct.stats.searched - searched) / (ct.stats.lookups - before) };
}
