import { describe, expect, it } from 'vitest';
import type { Answer, Packet } from 'dns-packet';
import { wrote, type Handler, type Query } from '../../../src/dns/chain.js';
import { CachePlugin, BoundedMap, replyTtl } from '../../../src/dns/plugins/cache.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import { replyTo, FLAG_AA, FLAG_TC } from '../../../src/dns/wire.js';

function mkQuery(name: string, type = 'A', id = 1): Query {
  return {
    msg: {
      id,
      type: 'query',
      flags: 0x100,
      questions: [{ name, type: type as 'A', class: 'IN' }],
      answers: [],
      authorities: [],
      additionals: [],
    },
    size: 40,
    proto: 'udp',
    remote: { address: '10.244.1.2', port: 5000, family: 4 },
    opt: null,
    bufSize: 512,
    do: false,
    server: 'dns://:53',
    zone: '.',
    startNs: 0n,
    internal: false,
    depth: 0,
    lookup: async () => null,
  };
}

const soa = (zone: string, ttl: number, minimum: number): Answer => ({
  name: zone,
  type: 'SOA',
  class: 'IN',
  ttl,
  data: {
    mname: 'ns.dns.cluster.local',
    rname: 'hostmaster.cluster.local',
    serial: 1,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum,
  },
});

/** An upstream that counts its calls and answers what `answer` builds. */
function upstream(answer: (q: Query) => Packet | null) {
  const calls: string[] = [];
  const next: Handler = async (q) => {
    calls.push(q.msg.questions![0].name);
    const m = answer(q);
    return m ? wrote('forward', m) : { msg: null, rcode: 'SERVFAIL', plugin: 'forward', error: new Error('timeout') };
  };
  return { calls, next };
}

const positive = (ttl: number) => (q: Query) => {
  const m = replyTo(q.msg);
  m.answers = [{ name: q.msg.questions![0].name, type: 'A', class: 'IN', ttl, data: '10.96.0.10' }];
  return m;
};
const nxdomain = (soaTtl: number, minimum: number) => (q: Query) => {
  const m = replyTo(q.msg, 3);
  m.flags = (m.flags ?? 0) | FLAG_AA;
  m.authorities = [soa('cluster.local', soaTtl, minimum)];
  return m;
};

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (s: number) => (t += s * 1000) };
}

const ttls = (m: Packet | null) =>
  [...(m?.answers ?? []), ...(m?.authorities ?? [])].map((a) => (a as { ttl: number }).ttl);

describe('cache', () => {
  it('positive: kept for the smallest TTL capped by `cache N`, counted down, then asked again', async () => {
    const c = clock();
    const metrics = new DnsMetrics();
    const cache = new CachePlugin(metrics, { successTtl: 30 }, c.now);
    const up = upstream(positive(300));
    const first = await cache.serve(mkQuery('a.example'), up.next);
    expect(ttls(first.msg)).toEqual([30]); // the passing reply is capped too
    c.advance(10);
    const hit = await cache.serve(mkQuery('A.Example', 'A', 99), up.next);
    expect(up.calls).toEqual(['a.example']);
    expect(hit.plugin).toBe('cache');
    expect(hit.msg!.id).toBe(99);
    expect(hit.msg!.questions![0].name).toBe('A.Example');
    expect(ttls(hit.msg)).toEqual([20]);
    expect((hit.msg!.flags ?? 0) & FLAG_AA).toBe(FLAG_AA);
    c.advance(20);
    await cache.serve(mkQuery('a.example'), up.next);
    expect(up.calls).toEqual(['a.example', 'a.example']);
    const text = await metrics.text();
    expect(text).toContain('coredns_cache_hits_total{server="dns://:53",type="success"} 1');
    expect(text).toContain('coredns_cache_misses_total{server="dns://:53"} 2');
    expect(text).toContain('coredns_cache_entries{server="dns://:53",type="success"} 1');
  });

  it('a TTL below the minimum (5 s) is raised to it, as CoreDNS', async () => {
    const c = clock();
    const cache = new CachePlugin(null, {}, c.now);
    const up = upstream(positive(1));
    await cache.serve(mkQuery('a.example'), up.next);
    c.advance(4);
    await cache.serve(mkQuery('a.example'), up.next);
    expect(up.calls.length).toBe(1);
    c.advance(1);
    await cache.serve(mkQuery('a.example'), up.next);
    expect(up.calls.length).toBe(2);
  });

  it('negative (RFC 2308 §5): NXDOMAIN kept for min(SOA TTL, SOA MINIMUM), capped by the denial TTL', async () => {
    const c = clock();
    const metrics = new DnsMetrics();
    const cache = new CachePlugin(metrics, { denialTtl: 30 }, c.now);
    const up = upstream(nxdomain(60, 10));
    const first = await cache.serve(mkQuery('nope.cluster.local'), up.next);
    expect(ttls(first.msg)).toEqual([10]);
    c.advance(9);
    const hit = await cache.serve(mkQuery('nope.cluster.local'), up.next);
    expect(hit.msg!.flags! & 0xf).toBe(3);
    expect(ttls(hit.msg)).toEqual([1]);
    expect(up.calls.length).toBe(1);
    c.advance(1);
    await cache.serve(mkQuery('nope.cluster.local'), up.next);
    expect(up.calls.length).toBe(2);
    expect(await metrics.text()).toContain('coredns_cache_hits_total{server="dns://:53",type="denial"} 1');

    const capped = new CachePlugin(null, { denialTtl: 30 }, c.now);
    const first2 = await capped.serve(mkQuery('nope.cluster.local'), upstream(nxdomain(3600, 3600)).next);
    expect(ttls(first2.msg)).toEqual([30]);
  });

  it('NODATA (NOERROR, no answers, an SOA) is a denial too', async () => {
    const c = clock();
    const cache = new CachePlugin(null, {}, c.now);
    const up = upstream((q) => ({ ...nxdomain(30, 20)(q), flags: replyTo(q.msg).flags }));
    await cache.serve(mkQuery('svc.ns.svc.cluster.local', 'AAAA'), up.next);
    c.advance(19);
    await cache.serve(mkQuery('svc.ns.svc.cluster.local', 'AAAA'), up.next);
    expect(up.calls.length).toBe(1);
    expect(cache.entries).toEqual({ success: 0, denial: 1 });
  });

  it('does not keep: truncated replies, NXDOMAIN without SOA, REFUSED, a failure with no reply', async () => {
    const c = clock();
    const cache = new CachePlugin(null, {}, c.now);
    for (const make of [
      (q: Query) => ({ ...positive(60)(q), flags: (replyTo(q.msg).flags ?? 0) | FLAG_TC }),
      (q: Query) => replyTo(q.msg, 3),
      (q: Query) => replyTo(q.msg, 5),
      () => null,
    ]) {
      const up = upstream(make);
      await cache.serve(mkQuery('x.example'), up.next);
      await cache.serve(mkQuery('x.example'), up.next);
      expect(up.calls.length).toBe(2);
    }
    expect(cache.entries).toEqual({ success: 0, denial: 0 });
  });

  it('an upstream SERVFAIL reply is kept for 5 s', async () => {
    const c = clock();
    const cache = new CachePlugin(null, {}, c.now);
    const up = upstream((q) => replyTo(q.msg, 2));
    await cache.serve(mkQuery('x.example'), up.next);
    c.advance(4);
    await cache.serve(mkQuery('x.example'), up.next);
    expect(up.calls.length).toBe(1);
    c.advance(1);
    await cache.serve(mkQuery('x.example'), up.next);
    expect(up.calls.length).toBe(2);
  });

  it('keys by type and by the DO bit; names outside its zones pass by', async () => {
    const c = clock();
    const cache = new CachePlugin(null, { zones: ['cluster.local.'] }, c.now);
    const up = upstream(positive(60));
    await cache.serve(mkQuery('a.cluster.local', 'A'), up.next);
    await cache.serve(mkQuery('a.cluster.local', 'AAAA'), up.next);
    await cache.serve({ ...mkQuery('a.cluster.local', 'A'), do: true }, up.next);
    await cache.serve(mkQuery('a.example', 'A'), up.next);
    await cache.serve(mkQuery('a.example', 'A'), up.next);
    expect(up.calls.length).toBe(5);
    await cache.serve(mkQuery('a.cluster.local', 'A'), up.next);
    expect(up.calls.length).toBe(5);
  });

  it('is bounded: capacity entries at most, the oldest out first', async () => {
    const cache = new CachePlugin(null, { successCapacity: 100 }, clock().now);
    const up = upstream(positive(60));
    for (let i = 0; i < 1000; i++) await cache.serve(mkQuery(`n${i}.example`), up.next);
    expect(cache.entries.success).toBe(100);
    const m = new BoundedMap<number, number>(3);
    for (let i = 0; i < 5; i++) m.set(i, i);
    expect([m.get(0), m.get(1), m.get(2), m.get(4)]).toEqual([undefined, undefined, 2, 4]);
  });

  it('replyTtl: smallest record TTL; for a denial also the SOA MINIMUM', () => {
    const m: Packet = { answers: [], authorities: [soa('z', 100, 7)], additionals: [] };
    expect(replyTtl(m, 'denial')).toBe(7);
    expect(replyTtl(m, 'success')).toBe(100);
  });
});
