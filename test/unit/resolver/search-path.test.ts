import { describe, it, expect } from 'vitest';
import {
  parseResolverConf,
  searchPlan,
  resolveLikeLibc,
  lookupHosts,
  type Outcome,
  type Try,
  type LibcFlavor,
} from '../../../src/resolver/index.js';

// The resolv.conf the kubelet writes for a pod in namespace default.
const POD_RESOLV =
  'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n';
const conf = (flavor: LibcFlavor = 'glibc', text = POD_RESOLV) => parseResolverConf(text, { flavor, env: {} });
const names = (input: string, flavor: LibcFlavor = 'glibc', text = POD_RESOLV) =>
  searchPlan(input, conf(flavor, text)).candidates.map((c) => c.name);

/** A DNS server that knows `zone` (name -> address); everything else NXDOMAIN, unless `special` says otherwise. */
function fakeServer(zone: Record<string, string>, special: Record<string, Outcome> = {}) {
  const asked: string[] = [];
  const ask = async (name: string): Promise<Try[]> => {
    asked.push(name);
    const outcome: Outcome =
      special[name] ??
      (zone[name]
        ? { kind: 'answer', rcode: 'NOERROR', addresses: [zone[name]] }
        : { kind: 'answer', rcode: 'NXDOMAIN', addresses: [] });
    return [{ server: '10.96.0.10', outcome, latencyMs: 0.5 }];
  };
  return { ask, asked };
}

describe('resolv.conf as the C library reads it', () => {
  it('reads the kubelet’s file: nameserver, search list, ndots; defaults for the rest', () => {
    expect(conf()).toMatchObject({
      nameservers: ['10.96.0.10'],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeoutS: 5,
      attempts: 2,
      ignored: [],
    });
  });

  it('keeps 3 nameservers (MAXNS), says which it ignored; none means 127.0.0.1', () => {
    const c = conf('glibc', 'nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\n');
    expect(c.nameservers).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    expect(c.ignored).toEqual(['nameserver 4.4.4.4 (only the first 3 are used)']);
    expect(conf('glibc', 'search a\n').nameservers).toEqual(['127.0.0.1']);
  });

  it('the last search or domain line wins; domain is a one-domain list; comments (# and ;) are skipped', () => {
    expect(conf('glibc', 'search a.example b.example\ndomain c.example\n').search).toEqual(['c.example']);
    expect(conf('glibc', 'domain c.example\n# search x\n; search y\nsearch d.example.\n').search).toEqual([
      'd.example',
    ]);
  });

  it('caps ndots at 15, attempts at 5 and timeout at 30 (glibc) or 10 and 60 (musl); options lines add up', () => {
    const g = conf('glibc', 'options ndots:40 attempts:9\noptions timeout:99 rotate\n');
    expect(g).toMatchObject({ ndots: 15, attempts: 5, timeoutS: 30, rotate: true });
    expect(conf('musl', 'options ndots:40 attempts:9 timeout:99\n')).toMatchObject({
      ndots: 15,
      attempts: 9,
      timeoutS: 60,
    });
  });

  it('glibc honours LOCALDOMAIN and RES_OPTIONS from the environment; musl does not', () => {
    const env = { LOCALDOMAIN: 'x.example y.example', RES_OPTIONS: 'ndots:2' };
    expect(parseResolverConf(POD_RESOLV, { flavor: 'glibc', env })).toMatchObject({
      search: ['x.example', 'y.example'],
      ndots: 2,
    });
    expect(parseResolverConf(POD_RESOLV, { flavor: 'musl', env })).toMatchObject({
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
    });
  });

  it('glibc without a search line uses the host name’s domain', () => {
    expect(
      parseResolverConf('nameserver 10.0.0.1\n', { env: {}, hostname: 'web-0.web.default.svc.cluster.local' }).search,
    ).toEqual(['web.default.svc.cluster.local']);
  });

  it('search list limits: glibc takes any number of domains; musl keeps 255 characters of the line', () => {
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example.com`);
    expect(conf('glibc', `search ${many.join(' ')}\n`).search).toHaveLength(40);
    const m = conf('musl', `search ${many.join(' ')}\n`);
    expect(m.search.join(' ').length).toBeLessThanOrEqual(255);
    expect(m.search.length).toBeLessThan(40);
    expect(m.ignored).toContain('search line past 255 characters');
  });
});

describe('the search list and ndots (glibc)', () => {
  it('a short name (0 dots < ndots:5): each search domain first, then the name as it is', () => {
    expect(names('backend')).toEqual([
      'backend.default.svc.cluster.local.',
      'backend.svc.cluster.local.',
      'backend.cluster.local.',
      'backend.',
    ]);
    expect(searchPlan('backend', conf()).why).toBe('0 dots < ndots:5: the 3 search domains first, then as it is');
  });

  it('api.example.com has 2 dots < 5: three NXDOMAINs before the name itself (the ndots:5 cost)', () => {
    expect(names('api.example.com')).toEqual([
      'api.example.com.default.svc.cluster.local.',
      'api.example.com.svc.cluster.local.',
      'api.example.com.cluster.local.',
      'api.example.com.',
    ]);
  });

  it('dots ≥ ndots: the name as it is first, then the search list', () => {
    expect(names('a.b.c.d.e.example')).toEqual([
      'a.b.c.d.e.example.',
      'a.b.c.d.e.example.default.svc.cluster.local.',
      'a.b.c.d.e.example.svc.cluster.local.',
      'a.b.c.d.e.example.cluster.local.',
    ]);
    expect(names('api.example.com', 'glibc', POD_RESOLV.replace('ndots:5', 'ndots:2'))[0]).toBe('api.example.com.');
  });

  it('a trailing dot is absolute: the name only', () => {
    expect(names('api.example.com.')).toEqual(['api.example.com.']);
    expect(names('backend.')).toEqual(['backend.']);
  });

  it('no-tld-query: a single label is never asked as it is; with a dot it still is', () => {
    const t = POD_RESOLV + 'options no-tld-query\n';
    expect(names('backend', 'glibc', t)).toEqual([
      'backend.default.svc.cluster.local.',
      'backend.svc.cluster.local.',
      'backend.cluster.local.',
    ]);
    expect(names('backend.default', 'glibc', t).pop()).toBe('backend.default.');
  });

  it('no search list: as it is only', () => {
    expect(names('backend', 'glibc', 'nameserver 10.96.0.10\n')).toEqual(['backend.']);
  });

  it('a candidate over 253 characters is not asked; glibc ends the search list there, then asks the name as it is', async () => {
    const long = `${'x'.repeat(60)}.${'y'.repeat(60)}.${'z'.repeat(78)}`; // 200 chars, 2 dots
    const text = `search ${'d'.repeat(50)}.example.com default.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`;
    const s = fakeServer({});
    const r = await resolveLikeLibc(long, conf('glibc', text), s.ask);
    expect(r.skipped.map((c) => c.via)).toEqual([
      { kind: 'search', domain: `${'d'.repeat(50)}.example.com`, index: 1, of: 2 },
    ]);
    expect(s.asked).toEqual([`${long}.`]);
    const m = fakeServer({});
    await resolveLikeLibc(long, conf('musl', text), m.ask);
    expect(m.asked).toEqual([`${long}.default.svc.cluster.local.`, `${long}.`]); // musl skips it and goes on
  });
});

describe('the search list and ndots (musl)', () => {
  it('dots < ndots: search domains, then as it is; dots ≥ ndots or a trailing dot: as it is only', () => {
    expect(names('backend', 'musl')).toEqual([
      'backend.default.svc.cluster.local.',
      'backend.svc.cluster.local.',
      'backend.cluster.local.',
      'backend.',
    ]);
    expect(names('a.b.c.d.e.example', 'musl')).toEqual(['a.b.c.d.e.example.']);
    expect(names('backend.', 'musl')).toEqual(['backend.']);
  });
});

describe('resolving as the library does: where the search stops', () => {
  const zone = {
    'backend.default.svc.cluster.local.': '10.96.1.2',
    'api.example.com.': '172.28.0.200',
    'backend.other.svc.cluster.local.': '10.96.7.7',
  };

  it('backend: answered by the first search domain, one query', async () => {
    const s = fakeServer(zone);
    const r = await resolveLikeLibc('backend', conf(), s.ask);
    expect(r.addresses).toEqual(['10.96.1.2']);
    expect(r.answered?.candidate.via).toEqual({ kind: 'search', domain: 'default.svc.cluster.local', index: 1, of: 3 });
    expect(s.asked).toHaveLength(1);
  });

  it('backend.other: NXDOMAIN for the first expansion, answered by svc.cluster.local', async () => {
    const s = fakeServer(zone);
    const r = await resolveLikeLibc('backend.other', conf(), s.ask);
    expect(s.asked).toEqual(['backend.other.default.svc.cluster.local.', 'backend.other.svc.cluster.local.']);
    expect(r.answered?.candidate.via).toMatchObject({ index: 2 });
  });

  it('api.example.com: 3 NXDOMAIN, then answered as it is (4 queries)', async () => {
    const s = fakeServer(zone);
    const r = await resolveLikeLibc('api.example.com', conf(), s.ask);
    expect(s.asked).toHaveLength(4);
    expect(r.answered?.candidate.via).toEqual({ kind: 'as-is' });
    expect(
      r.queries
        .slice(0, 3)
        .every((q) => q.tries[0].outcome.kind === 'answer' && q.tries[0].outcome.rcode === 'NXDOMAIN'),
    ).toBe(true);
  });

  it('a name that exists nowhere: every expansion NXDOMAIN, nothing answered', async () => {
    const s = fakeServer(zone);
    const r = await resolveLikeLibc('nosuch', conf(), s.ask);
    expect(s.asked).toEqual([
      'nosuch.default.svc.cluster.local.',
      'nosuch.svc.cluster.local.',
      'nosuch.cluster.local.',
      'nosuch.',
    ]);
    expect(r.answered).toBeUndefined();
  });

  it('NODATA: glibc goes on to the next domain, musl stops there', async () => {
    const special: Record<string, Outcome> = {
      'x.default.svc.cluster.local.': { kind: 'answer', rcode: 'NOERROR', addresses: [] },
    };
    const g = fakeServer({ 'x.svc.cluster.local.': '10.96.3.3' }, special);
    expect((await resolveLikeLibc('x', conf(), g.ask)).addresses).toEqual(['10.96.3.3']);
    const m = fakeServer({ 'x.svc.cluster.local.': '10.96.3.3' }, special);
    expect((await resolveLikeLibc('x', conf('musl'), m.ask)).addresses).toEqual([]);
    expect(m.asked).toEqual(['x.default.svc.cluster.local.']);
  });

  it('SERVFAIL: glibc goes on; musl stops', async () => {
    const special: Record<string, Outcome> = {
      'x.default.svc.cluster.local.': { kind: 'answer', rcode: 'SERVFAIL', addresses: [] },
    };
    const g = fakeServer({ 'x.': '1.2.3.4' }, special);
    expect((await resolveLikeLibc('x', conf(), g.ask)).addresses).toEqual(['1.2.3.4']);
    expect(g.asked).toHaveLength(4);
    const m = fakeServer({ 'x.': '1.2.3.4' }, special);
    await resolveLikeLibc('x', conf('musl'), m.ask);
    expect(m.asked).toHaveLength(1);
  });

  it('no answer: glibc ends the search list but still asks the name as it is; musl gives up', async () => {
    const special: Record<string, Outcome> = { 'x.default.svc.cluster.local.': { kind: 'timeout' } };
    const g = fakeServer({}, special);
    await resolveLikeLibc('x', conf(), g.ask);
    expect(g.asked).toEqual(['x.default.svc.cluster.local.', 'x.']);
    const m = fakeServer({}, special);
    await resolveLikeLibc('x', conf('musl'), m.ask);
    expect(m.asked).toEqual(['x.default.svc.cluster.local.']);
  });

  it('refused (ICMP port unreachable, e.g. a Service without endpoints): glibc stops at once', async () => {
    const g = fakeServer({}, { 'x.default.svc.cluster.local.': { kind: 'refused' } });
    await resolveLikeLibc('x', conf(), g.ask);
    expect(g.asked).toEqual(['x.default.svc.cluster.local.']);
  });

  it('dots ≥ ndots, glibc: as it is first, and on NXDOMAIN the search list after it', async () => {
    const s = fakeServer({ 'a.b.svc.cluster.local.': '10.96.9.9' });
    const r = await resolveLikeLibc('a.b', conf('glibc', POD_RESOLV.replace('ndots:5', 'ndots:1')), s.ask);
    expect(s.asked).toEqual(['a.b.', 'a.b.default.svc.cluster.local.', 'a.b.svc.cluster.local.']);
    expect(r.addresses).toEqual(['10.96.9.9']);
  });
});

describe('/etc/hosts (asked before DNS)', () => {
  const hosts =
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n10.244.1.2\tclient\n10.1.2.3\tfoo.remote bar.remote # hostAliases\n';
  it('finds a name or an alias, case-insensitively; the first line wins; comments and IPv6 skipped', () => {
    expect(lookupHosts(hosts, 'CLIENT')).toEqual({ address: '10.244.1.2', names: ['client'], line: 3 });
    expect(lookupHosts(hosts, 'bar.remote')?.address).toBe('10.1.2.3');
    expect(lookupHosts(hosts, 'hostAliases')).toBeNull();
    expect(lookupHosts('::1 localhost\n', 'localhost')).toBeNull();
  });
});
