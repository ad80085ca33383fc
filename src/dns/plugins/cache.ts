import type { Answer, Packet, SoaAnswer } from 'dns-packet';
import { wrote, type Handler, type Outcome, type PluginInstance, type Query } from '../chain.js';
import type { DnsMetrics } from '../metrics.js';
import { canonicalName, FLAG_AA, FLAG_CD, FLAG_RA, FLAG_TC, inZone, replyTo } from '../wire.js';

/**
 * `cache [TTL] [ZONES…] { success CAPACITY [TTL [MINTTL]]; denial CAPACITY
 * [TTL [MINTTL]]; servfail DURATION }`: CoreDNS's cache — a success cache
 * and a denial cache, each bounded (10000 entries by default, oldest out
 * first), keyed by name, type, class and the DO and CD bits.
 *
 * TTLs: a positive reply is kept for its smallest record TTL, capped at TTL
 * (3600 s by default) and at least MINTTL (5 s); a denial (NXDOMAIN, NODATA)
 * for the negative TTL of RFC 2308 §5 — min(SOA TTL, SOA MINIMUM) — capped
 * at the denial TTL (1800 s by default); an upstream's SERVFAIL for 5 s.
 * Not kept: truncated replies, NXDOMAIN without an SOA, other errors, and
 * replies that came without a message (no upstream answered). The reply
 * written from the cache counts its TTLs down; the one passing through has
 * its TTLs capped so the client never sees 1799 then 8.
 */
export interface CacheOptions {
  zones?: string[];
  successCapacity?: number;
  /** seconds */
  successTtl?: number;
  successMinTtl?: number;
  denialCapacity?: number;
  denialTtl?: number;
  denialMinTtl?: number;
  servfailTtl?: number;
}

export const CACHE_DEFAULTS = { capacity: 10000, maxTtl: 3600, maxDenialTtl: 1800, minTtl: 5, servfailTtl: 5 };

type Kind = 'success' | 'denial';

interface Item {
  kind: Kind;
  msg: Packet;
  /** ms */
  storedAt: number;
  /** seconds */
  ttl: number;
}

/** A map that holds at most `capacity` entries, dropping the oldest insertion first. */
export class BoundedMap<K, V> {
  private readonly m = new Map<K, V>();
  constructor(readonly capacity: number) {}
  get size(): number {
    return this.m.size;
  }
  get(k: K): V | undefined {
    return this.m.get(k);
  }
  delete(k: K): void {
    this.m.delete(k);
  }
  set(k: K, v: V): void {
    if (this.capacity <= 0) return;
    this.m.delete(k);
    while (this.m.size >= this.capacity) this.m.delete(this.m.keys().next().value as K);
    this.m.set(k, v);
  }
}

/** The response type the cache sees (CoreDNS's response.Typify, narrowed). */
export function cacheClass(m: Packet): Kind | 'servfail' | null {
  const flags = m.flags ?? 0;
  if (flags & FLAG_TC) return null;
  const rcode = flags & 0xf;
  const soa = (m.authorities ?? []).some((a) => a.type === 'SOA');
  if (rcode === 0) return (m.answers ?? []).length === 0 && soa ? 'denial' : 'success';
  if (rcode === 3) return soa ? 'denial' : null;
  if (rcode === 2) return 'servfail';
  return null;
}

const records = (m: Packet): Answer[] => [
  ...(m.answers ?? []),
  ...(m.authorities ?? []),
  ...(m.additionals ?? []).filter((a) => a.type !== 'OPT'),
];

/** Seconds a reply may be cached, before the configured caps. */
export function replyTtl(m: Packet, kind: Kind): number {
  const rrs = records(m);
  if (!rrs.length) return CACHE_DEFAULTS.minTtl;
  let ttl = Infinity;
  for (const rr of rrs) {
    ttl = Math.min(ttl, (rr as { ttl?: number }).ttl ?? 0);
    if (kind === 'denial' && rr.type === 'SOA') ttl = Math.min(ttl, (rr as SoaAnswer).data.minimum ?? ttl);
  }
  return ttl;
}

const withTtl = (rrs: Answer[] | undefined, ttl: number): Answer[] =>
  (rrs ?? []).map((rr) => (rr.type === 'OPT' ? rr : { ...rr, ttl: Math.min((rr as { ttl?: number }).ttl ?? 0, ttl) }));
const capTtls = (m: Packet, ttl: number): Packet => ({
  ...m,
  answers: withTtl(m.answers, ttl),
  authorities: withTtl(m.authorities, ttl),
  additionals: withTtl(m.additionals, ttl),
});

export class CachePlugin implements PluginInstance {
  readonly name = 'cache';
  private readonly success: BoundedMap<string, Item>;
  private readonly denial: BoundedMap<string, Item>;
  private readonly zones: string[];
  private readonly o: Required<Omit<CacheOptions, 'zones'>>;

  constructor(
    private readonly metrics: DnsMetrics | null,
    opts: CacheOptions = {},
    /** ms */
    private readonly now: () => number = Date.now,
  ) {
    this.zones = opts.zones?.length ? opts.zones : ['.'];
    this.o = {
      successCapacity: opts.successCapacity ?? CACHE_DEFAULTS.capacity,
      successTtl: opts.successTtl ?? CACHE_DEFAULTS.maxTtl,
      successMinTtl: opts.successMinTtl ?? CACHE_DEFAULTS.minTtl,
      denialCapacity: opts.denialCapacity ?? CACHE_DEFAULTS.capacity,
      denialTtl: opts.denialTtl ?? CACHE_DEFAULTS.maxDenialTtl,
      denialMinTtl: opts.denialMinTtl ?? CACHE_DEFAULTS.minTtl,
      servfailTtl: opts.servfailTtl ?? CACHE_DEFAULTS.servfailTtl,
    };
    this.success = new BoundedMap(this.o.successCapacity);
    this.denial = new BoundedMap(this.o.denialCapacity);
  }

  get entries(): { success: number; denial: number } {
    return { success: this.success.size, denial: this.denial.size };
  }

  private key(q: Query): string | null {
    const question = q.msg.questions?.[0];
    if (!question) return null;
    const cd = ((q.msg.flags ?? 0) & FLAG_CD) !== 0;
    return `${canonicalName(question.name)}|${question.type}|${question.class ?? 'IN'}|${q.do ? 1 : 0}${cd ? 1 : 0}`;
  }

  /** Remaining TTL of a fresh item, else null (and the stale item goes). */
  private lookup(key: string, now: number): { item: Item; left: number } | null {
    for (const map of [this.success, this.denial]) {
      const item = map.get(key);
      if (!item) continue;
      const left = item.ttl - Math.floor((now - item.storedAt) / 1000);
      if (left > 0) return { item, left };
      map.delete(key);
    }
    return null;
  }

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const question = q.msg.questions?.[0];
    const key = this.key(q);
    if (!question || key === null || !this.zones.some((z) => inZone(question.name, z))) return next(q);
    const now = this.now();
    const hit = this.lookup(key, now);
    if (hit) {
      if (!q.internal) this.metrics?.cacheHits.inc({ server: q.server, type: hit.item.kind });
      const reply = replyTo(q.msg, (hit.item.msg.flags ?? 0) & 0xf);
      // as CoreDNS: AA always set on cached replies (old stub resolvers drop non-authoritative ones);
      // every record carries the item's remaining TTL
      const flags = (reply.flags ?? 0) | FLAG_AA | ((hit.item.msg.flags ?? 0) & FLAG_RA);
      const ttlNow = (rrs: Answer[] | undefined) => (rrs ?? []).map((rr) => ({ ...rr, ttl: hit.left }) as Answer);
      const m: Packet = { ...hit.item.msg, id: q.msg.id, flags, questions: [question] };
      return wrote('cache', {
        ...m,
        answers: ttlNow(m.answers),
        authorities: ttlNow(m.authorities),
        additionals: ttlNow(m.additionals),
      });
    }
    if (!q.internal) this.metrics?.cacheMisses.inc({ server: q.server });
    const o = await next(q);
    if (!o.msg) return o;
    const cls = cacheClass(o.msg);
    if (cls === null) return o;
    let ttl: number;
    let kind: Kind;
    if (cls === 'servfail') [kind, ttl] = ['denial', this.o.servfailTtl];
    else if (cls === 'denial')
      [kind, ttl] = ['denial', clamp(replyTtl(o.msg, 'denial'), this.o.denialMinTtl, this.o.denialTtl)];
    else [kind, ttl] = ['success', clamp(replyTtl(o.msg, 'success'), this.o.successMinTtl, this.o.successTtl)];
    const capped = capTtls(o.msg, ttl);
    if (ttl > 0) {
      const stored: Packet = { ...capped, additionals: (capped.additionals ?? []).filter((a) => a.type !== 'OPT') };
      (kind === 'success' ? this.success : this.denial).set(key, { kind, msg: stored, storedAt: now, ttl });
      (kind === 'success' ? this.denial : this.success).delete(key);
      this.metrics?.cacheEntries.set({ server: q.server, type: 'success' }, this.success.size);
      this.metrics?.cacheEntries.set({ server: q.server, type: 'denial' }, this.denial.size);
    }
    return { ...o, msg: capped };
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
