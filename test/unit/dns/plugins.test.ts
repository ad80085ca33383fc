import { describe, expect, it } from 'vitest';
import packet, { type Answer, type Packet } from 'dns-packet';
import { wrote, type Handler, type Outcome, type Query } from '../../../src/dns/chain.js';
import { parseCorefile } from '../../../src/dns/corefile.js';
import { pluginOptions } from '../../../src/dns/corefile-plugins.js';
import { KubernetesZone } from '../../../src/dns/kubernetes-zone.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import { ErrorsPlugin } from '../../../src/dns/plugins/errors.js';
import { ForwardPlugin } from '../../../src/dns/plugins/forward.js';
import { HealthPlugin, ReadyPlugin } from '../../../src/dns/plugins/health.js';
import { HttpEndpoints } from '../../../src/dns/plugins/http.js';
import { KubernetesPlugin } from '../../../src/dns/plugins/kubernetes.js';
import { LoadbalancePlugin } from '../../../src/dns/plugins/loadbalance.js';
import { durationText, LogPlugin } from '../../../src/dns/plugins/log.js';
import { lineLogger } from '../../../src/dns/plugins/log-sink.js';
import { LoopPlugin } from '../../../src/dns/plugins/loop.js';
import { PrometheusPlugin } from '../../../src/dns/plugins/prometheus.js';
import { RewritePlugin } from '../../../src/dns/plugins/rewrite.js';
import { expandUpstreams, type Exchange, type UpstreamAddr } from '../../../src/dns/plugins/upstream.js';
import { encodeMessage, FLAG_AA, FLAG_TC, replyTo } from '../../../src/dns/wire.js';
import type { Directive } from '../../../src/dns/types.js';

function mkQuery(name: string, type = 'A', over: Partial<Query> = {}): Query {
  return {
    msg: {
      id: 1234,
      type: 'query',
      flags: 0x100,
      questions: [{ name, type: type as 'A', class: 'IN' }],
      answers: [],
      authorities: [],
      additionals: [],
    },
    size: 51,
    proto: 'udp',
    remote: { address: '10.244.1.2', port: 45678, family: 4 },
    opt: null,
    bufSize: 512,
    do: false,
    server: 'dns://:53',
    zone: '.',
    startNs: 1_000_000_000n,
    internal: false,
    depth: 0,
    lookup: async () => null,
    ...over,
  };
}

/** The one directive of a one-line Corefile body. */
const directive = (line: string): Directive => parseCorefile(`.:53 {\n${line}\n}\n`)[0].directives[0];

const answerA =
  (ip: string, ttl = 5): Handler =>
  async (q) => {
    const m = replyTo(q.msg);
    m.flags = (m.flags ?? 0) | FLAG_AA;
    m.answers = [{ name: q.msg.questions![0].name, type: 'A', class: 'IN', ttl, data: ip }];
    return wrote('kubernetes', m);
  };

describe('errors', () => {
  it('logs an error a plugin returned, as CoreDNS: rcode number, name, type, message', async () => {
    const lines: string[] = [];
    const p = new ErrorsPlugin(lineLogger((l) => lines.push(l)));
    await p.serve(mkQuery('Example.ORG', 'AAAA'), async () => ({
      msg: null,
      rcode: 'SERVFAIL',
      plugin: 'forward',
      error: new Error('read udp 8.8.8.8:53: i/o timeout'),
    }));
    await p.serve(mkQuery('ok.example'), answerA('1.2.3.4'));
    expect(lines).toEqual(['[ERROR] plugin/errors: 2 example.org. AAAA: read udp 8.8.8.8:53: i/o timeout']);
  });
});

describe('log', () => {
  it('one line per query in CoreDNS’s common log format', async () => {
    const lines: string[] = [];
    const p = new LogPlugin(
      (l) => lines.push(l),
      {},
      () => 1_000_123_000n,
    );
    await p.serve(mkQuery('backend.default.svc.cluster.local'), answerA('10.96.0.20'));
    expect(lines).toEqual([
      '[INFO] 10.244.1.2:45678 - 1234 "A IN backend.default.svc.cluster.local. udp 51 false 512" NOERROR qr,aa,rd 67 0.000123s',
    ]);
  });

  it('prints what the client got: a reply cut to its buffer carries tc, SERVFAIL for no reply, IPv6 remotes in brackets', async () => {
    const lines: string[] = [];
    const p = new LogPlugin(
      (l) => lines.push(l),
      {},
      () => 1_000_000_000n,
    );
    const many: Handler = async (q) => {
      const m = replyTo(q.msg);
      m.answers = Array.from(
        { length: 60 },
        (_, i) => ({ name: 'x.example', type: 'A', ttl: 5, data: `10.0.0.${i}` }) as Answer,
      );
      return wrote('forward', m);
    };
    await p.serve(mkQuery('x.example'), many);
    await p.serve(
      mkQuery('y.example', 'MX', {
        proto: 'tcp',
        bufSize: 65535,
        remote: { address: 'fd00::1', port: 53000, family: 6 },
      }),
      async () => ({ msg: null, rcode: 'SERVFAIL', plugin: '' }),
    );
    expect(lines[0]).toMatch(
      /^\[INFO\] 10\.244\.1\.2:45678 - 1234 "A IN x\.example\. udp 51 false 512" NOERROR qr,tc,rd (\d+) 0s$/,
    );
    expect(Number(/rd (\d+)/.exec(lines[0])![1])).toBeLessThanOrEqual(512);
    expect(lines[1]).toBe('[INFO] [fd00::1]:53000 - 1234 "MX IN y.example. tcp 51 false 65535" SERVFAIL qr,rd 27 0s');
  });

  it('honours name scopes and classes (log . { class denial })', async () => {
    const lines: string[] = [];
    const p = new LogPlugin((l) => lines.push(l), pluginOptions.log(directive('log . {\n class denial\n}')));
    await p.serve(mkQuery('ok.example'), answerA('1.2.3.4'));
    await p.serve(mkQuery('nope.example'), async (q) => wrote('x', replyTo(q.msg, 3)));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain('NXDOMAIN');
  });

  it("durations print as Go’s FormatFloat(…, 'f', -1) does", () => {
    expect(durationText(123_000n)).toBe('0.000123s');
    expect(durationText(1_500_000_000n)).toBe('1.5s');
    expect(durationText(7n)).toBe('0.000000007s');
  });
});

describe('loadbalance', () => {
  it('shuffles A records (round robin), CNAMEs stay first', async () => {
    const p = new LoadbalancePlugin();
    const next: Handler = async (q) => {
      const m = replyTo(q.msg);
      m.answers = [
        { name: 'w', type: 'CNAME', ttl: 5, data: 'web' },
        ...[1, 2, 3, 4].map((i) => ({ name: 'web', type: 'A', ttl: 5, data: `10.0.0.${i}` }) as Answer),
      ];
      return wrote('k', m);
    };
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const o = await p.serve(mkQuery('w'), next);
      expect(o.msg!.answers![0].type).toBe('CNAME');
      expect(
        o
          .msg!.answers!.slice(1)
          .map((a) => (a as { data: string }).data)
          .sort(),
      ).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
      firsts.add((o.msg!.answers![1] as { data: string }).data);
    }
    expect(firsts.size).toBe(4);
  });
});

describe('rewrite', () => {
  const rewrite = (line: string) => new RewritePlugin([pluginOptions.rewrite(directive(line))]);
  /** an upstream that answers the name it is asked, with a CNAME into the same zone for `cname` */
  const seen: string[] = [];
  const echo: Handler = async (q) => {
    const name = q.msg.questions![0].name;
    seen.push(name);
    const m = replyTo(q.msg);
    m.answers = [
      { name, type: 'CNAME', ttl: 5, data: `real.${name}` },
      { name: `real.${name}`, type: 'A', ttl: 5, data: '10.0.0.9' },
    ];
    return wrote('forward', m);
  };

  it('exact: the question is rewritten going down and everything rewritten back coming up', async () => {
    seen.length = 0;
    const o = await rewrite('rewrite name exact db.example.org db.default.svc.cluster.local').serve(
      mkQuery('DB.example.org'),
      echo,
    );
    expect(seen).toEqual(['db.default.svc.cluster.local']);
    expect(o.msg!.questions![0].name).toBe('DB.example.org');
    expect(o.msg!.answers!.map((a) => `${a.name} ${(a as { data: string }).data}`)).toEqual([
      'DB.example.org real.DB.example.org',
      'real.DB.example.org 10.0.0.9',
    ]);
  });

  it('suffix with answer auto: names and values mapped back by swapping the suffixes', async () => {
    seen.length = 0;
    const o = await rewrite('rewrite name suffix .schmoogle.com .google.com answer auto').serve(
      mkQuery('www.schmoogle.com'),
      echo,
    );
    expect(seen).toEqual(['www.google.com']);
    expect(o.msg!.answers!.map((a) => `${a.name} ${(a as { data: string }).data}`)).toEqual([
      'www.schmoogle.com real.www.schmoogle.com',
      'real.www.schmoogle.com 10.0.0.9',
    ]);
  });

  it('regex with an explicit answer name rule; without one the answer keeps the rewritten names', async () => {
    seen.length = 0;
    const explicit = rewrite(
      'rewrite stop name regex (.*)-(us-west-1)\\.example\\.org {1}.service.{2}.consul answer name (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.example.org',
    );
    const o = await explicit.serve(mkQuery('ftp-us-west-1.example.org'), echo);
    expect(seen).toEqual(['ftp.service.us-west-1.consul']);
    expect(o.msg!.questions![0].name).toBe('ftp-us-west-1.example.org');
    expect(o.msg!.answers![0].name).toBe('ftp-us-west-1.example.org');
    const plain = await rewrite('rewrite name substring service.us-west-1.example.org service.us-west-1.consul').serve(
      mkQuery('ftp.service.us-west-1.example.org'),
      echo,
    );
    expect(plain.msg!.questions![0].name).toBe('ftp.service.us-west-1.example.org');
    expect(plain.msg!.answers![0].name).toBe('ftp.service.us-west-1.consul');
  });

  it('names that do not match pass unchanged; continue lets a second rule apply', async () => {
    seen.length = 0;
    await rewrite('rewrite name exact a.example b.example').serve(mkQuery('c.example'), echo);
    const two = new RewritePlugin([
      pluginOptions.rewrite(directive('rewrite continue name prefix a. b.')),
      pluginOptions.rewrite(directive('rewrite name suffix .example .test answer auto')),
    ]);
    const o = await two.serve(mkQuery('a.x.example'), echo);
    expect(seen).toEqual(['c.example', 'b.x.test']);
    expect(o.msg!.questions![0].name).toBe('a.x.example');
  });
});

describe('kubernetes', () => {
  const zone = new KubernetesZone({ zones: ['cluster.local'], ttl: 5 });
  zone.setService({
    metadata: { name: 'backend', namespace: 'default' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] },
  });
  zone.setService({
    metadata: { name: 'search', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: 'search.example.com' },
  });
  zone.setService({
    metadata: { name: 'alias', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: 'backend.default.svc.cluster.local' },
  });
  const none: Handler = async () => ({ msg: null, rcode: 'SERVFAIL', plugin: '', error: new Error('next') });

  it('answers its zone, hands other names on', async () => {
    const p = new KubernetesPlugin(zone);
    const o = await p.serve(mkQuery('backend.default.svc.cluster.local'), none);
    expect(o.plugin).toBe('kubernetes');
    expect((o.msg!.flags ?? 0) & FLAG_AA).toBe(FLAG_AA);
    expect(o.msg!.answers).toEqual([expect.objectContaining({ type: 'A', data: '10.96.0.20', ttl: 5 })]);
    const nx = await p.serve(mkQuery('nope.default.svc.cluster.local'), none);
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.msg!.authorities![0].type).toBe('SOA');
    expect((await p.serve(mkQuery('example.org'), none)).error?.message).toBe('next');
  });

  it('chases an ExternalName CNAME through the chain and appends what it resolves to', async () => {
    const p = new KubernetesPlugin(zone);
    const asked: string[] = [];
    const lookup = async (name: string, type: string): Promise<Packet | null> => {
      asked.push(`${name} ${type}`);
      if (name === 'backend.default.svc.cluster.local')
        return (await p.serve(mkQuery(name, type, { internal: true }), none)).msg;
      return { ...replyTo(mkQuery(name, type).msg), answers: [{ name, type: 'A', ttl: 300, data: '93.184.216.34' }] };
    };
    const ext = await p.serve(
      mkQuery('search.default.svc.cluster.local', 'A', { lookup: lookup as Query['lookup'] }),
      none,
    );
    expect(ext.msg!.answers!.map((a) => `${a.type} ${(a as { data: string }).data}`)).toEqual([
      'CNAME search.example.com',
      'A 93.184.216.34',
    ]);
    const internal = await p.serve(
      mkQuery('alias.default.svc.cluster.local', 'A', { lookup: lookup as Query['lookup'] }),
      none,
    );
    expect(internal.msg!.answers!.map((a) => `${a.type} ${(a as { data: string }).data}`)).toEqual([
      'CNAME backend.default.svc.cluster.local',
      'A 10.96.0.20',
    ]);
    expect(asked).toEqual(['search.example.com A', 'backend.default.svc.cluster.local A']);
  });

  it('is not ready until synced', () => {
    let synced = false;
    const p = new KubernetesPlugin(zone, () => synced);
    expect(p.ready()).toBe(false);
    synced = true;
    expect(p.ready()).toBe(true);
  });
});

/** A fake upstream network: per address, what it answers (or throws) by protocol. */
function fakeNet(behaviour: (to: string, q: Packet, proto: 'udp' | 'tcp') => Packet | Error | Promise<Packet | Error>) {
  const log: string[] = [];
  const exchange: Exchange = async (to, buf, proto) => {
    const q = packet.decode(buf);
    const key = `${to.host}:${to.port}`;
    log.push(`${proto} ${key} ${q.questions![0].name} ${q.questions![0].type}`);
    const r = await behaviour(key, q, proto);
    if (r instanceof Error) throw r;
    return encodeMessage({ ...r, id: q.id }).buf;
  };
  return { log, exchange };
}

const up = (host: string): UpstreamAddr => ({ host, port: 53, family: 4 });
const answer = (q: Packet, ip: string, flags = 0): Packet => ({
  ...replyTo(q),
  flags: (replyTo(q).flags ?? 0) | flags | 0x80,
  answers: [{ name: q.questions![0].name, type: 'A', ttl: 60, data: ip }],
});

describe('forward', () => {
  it('forwards over UDP; a truncated reply is asked again over TCP; metrics per upstream', async () => {
    const metrics = new DnsMetrics();
    const net = fakeNet((_, q, proto) =>
      proto === 'udp' ? { ...replyTo(q), flags: (replyTo(q).flags ?? 0) | FLAG_TC } : answer(q, '93.184.216.34'),
    );
    const f = new ForwardPlugin({ from: '.', upstreams: [up('192.0.2.1')] }, metrics, null, net.exchange);
    const o = await f.serve(mkQuery('Example.COM'), async () => ({ msg: null, rcode: 'SERVFAIL', plugin: '' }));
    expect(net.log).toEqual(['udp 192.0.2.1:53 Example.COM A', 'tcp 192.0.2.1:53 Example.COM A']);
    expect(o.plugin).toBe('forward');
    expect(o.msg!.id).toBe(1234);
    expect(o.msg!.answers![0]).toMatchObject({ data: '93.184.216.34' });
    const text = await metrics.text();
    expect(text).toContain('coredns_forward_requests_total{to="192.0.2.1:53"} 1');
    expect(text).toContain('coredns_forward_responses_total{to="192.0.2.1:53",rcode="NOERROR"} 1');
    f.stop();
  });

  it('names outside FROM or in except go to the next plugin', async () => {
    const net = fakeNet((_, q) => answer(q, '1.1.1.1'));
    const f = new ForwardPlugin(
      { from: 'example.org.', upstreams: [up('192.0.2.1')], except: ['internal.example.org.'] },
      null,
      null,
      net.exchange,
    );
    const nextCalls: string[] = [];
    const next: Handler = async (q) => (
      nextCalls.push(q.msg.questions![0].name),
      { msg: null, rcode: 'NXDOMAIN', plugin: '' }
    );
    await f.serve(mkQuery('a.example.com'), next);
    await f.serve(mkQuery('db.internal.example.org'), next);
    await f.serve(mkQuery('www.example.org'), next);
    expect(nextCalls).toEqual(['a.example.com', 'db.internal.example.org']);
    expect(net.log).toEqual(['udp 192.0.2.1:53 www.example.org A']);
  });

  it('fails over to the next upstream; a failing one gets health checks (. IN NS) and is skipped once down', async () => {
    const metrics = new DnsMetrics();
    const net = fakeNet((to, q) =>
      to.startsWith('192.0.2.1') ? new Error(`read udp ${to}: i/o timeout`) : answer(q, '10.0.0.1'),
    );
    const f = new ForwardPlugin(
      { from: '.', upstreams: [up('192.0.2.1'), up('192.0.2.2')], policy: 'sequential', healthCheckMs: 1 },
      metrics,
      null,
      net.exchange,
    );
    const o = await f.serve(mkQuery('a.example'), async () => ({ msg: null, rcode: 'SERVFAIL', plugin: '' }));
    expect(o.msg!.answers![0]).toMatchObject({ data: '10.0.0.1' });
    for (const deadline = Date.now() + 5000; !f.upstreams[0].down && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 5));
    expect(f.upstreams[0].down).toBe(true);
    expect(net.log).toContain('udp 192.0.2.1:53 . NS');
    net.log.length = 0;
    await f.serve(mkQuery('b.example'), async () => ({ msg: null, rcode: 'SERVFAIL', plugin: '' }));
    expect(net.log.filter((l) => l.includes('b.example'))).toEqual(['udp 192.0.2.2:53 b.example A']);
    expect(await metrics.text()).toMatch(/coredns_forward_healthcheck_failures_total\{to="192.0.2.1:53"\} [2-9]/);
    f.stop();
  });

  it('all upstreams failing: SERVFAIL with the upstream’s error', async () => {
    const net = fakeNet((to) => new Error(`read udp ${to}: i/o timeout`));
    const f = new ForwardPlugin({ from: '.', upstreams: [up('192.0.2.1')], maxFails: 0 }, null, null, net.exchange);
    const o = await f.serve(mkQuery('a.example'), async () => ({ msg: null, rcode: 'NOERROR', plugin: '' }));
    expect(o).toMatchObject({ msg: null, rcode: 'SERVFAIL', plugin: 'forward' });
    expect(o.error!.message).toBe('read udp 192.0.2.1:53: i/o timeout');
    expect(net.log.length).toBe(3);
  });

  it('max_concurrent: queries past the bound are REFUSED at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const metrics = new DnsMetrics();
    const net = fakeNet(async (_, q) => (await gate, answer(q, '10.0.0.1')));
    const f = new ForwardPlugin(
      { from: '.', upstreams: [up('192.0.2.1')], maxConcurrent: 3 },
      metrics,
      null,
      net.exchange,
    );
    const outs: Promise<Outcome>[] = Array.from({ length: 5 }, (_, i) =>
      f.serve(mkQuery(`q${i}.example`), async () => ({ msg: null, rcode: 'SERVFAIL', plugin: '' })),
    );
    expect(f.concurrent).toBe(3);
    release();
    const rcodes = (await Promise.all(outs)).map((o) => o.rcode);
    expect(rcodes.sort()).toEqual(['NOERROR', 'NOERROR', 'NOERROR', 'REFUSED', 'REFUSED']);
    expect(await metrics.text()).toContain('coredns_forward_max_concurrent_rejects_total 2');
    expect(f.concurrent).toBe(0);
  });

  it('a reply for another question is not taken', async () => {
    const net = fakeNet((_, q) => ({
      ...answer(q, '6.6.6.6'),
      questions: [{ name: 'evil.example', type: 'A', class: 'IN' }],
    }));
    const f = new ForwardPlugin({ from: '.', upstreams: [up('192.0.2.1')], maxFails: 0 }, null, null, net.exchange);
    const o = await f.serve(mkQuery('a.example'), async () => ({ msg: null, rcode: 'NOERROR', plugin: '' }));
    expect(o.rcode).toBe('SERVFAIL');
  });

  it('resolv.conf targets become their nameservers', () => {
    expect(
      expandUpstreams(
        [
          { kind: 'file', path: '/etc/resolv.conf' },
          { kind: 'server', host: '1.1.1.1', port: 5353 },
        ],
        () => 'search x\nnameserver 10.0.0.2\nnameserver fd00::53\noptions ndots:5\n',
      ),
    ).toEqual([
      { host: '10.0.0.2', port: 53, family: 4 },
      { host: 'fd00::53', port: 53, family: 6 },
      { host: '1.1.1.1', port: 5353, family: 4 },
    ]);
  });
});

describe('loop', () => {
  it('stops the process when its probe comes back a third time', async () => {
    const fatal: string[] = [];
    let probeSent = '';
    const p = new LoopPlugin('.', {
      probe: async (q) => ((probeSent = q), {} as Packet),
      fatal: (m) => fatal.push(m),
      listen: ':53',
      setTimer: () => ({}),
    });
    p.start();
    expect(probeSent).toBe(p.qname);
    expect(p.qname).toMatch(/^\d+\.\d+\.$/);
    const next: Handler = async (q) => wrote('forward', replyTo(q.msg, 3));
    const probe = () =>
      mkQuery(p.qname.slice(0, -1), 'HINFO', { remote: { address: '127.0.0.1', port: 40000, family: 4 } });
    await p.serve(probe(), next);
    await p.serve(probe(), next);
    await p.serve(mkQuery('other.example', 'HINFO'), next);
    expect(fatal).toEqual([]);
    await p.serve(probe(), next);
    expect(fatal).toEqual([
      `plugin/loop: Loop (127.0.0.1:40000 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${p.qname}"`,
    ]);
  });

  it('turns itself off after the probe was answered', async () => {
    const timers: (() => void)[] = [];
    const p = new LoopPlugin('.', {
      probe: async () => ({}) as Packet,
      fatal: () => {},
      listen: ':53',
      setTimer: (fn) => (timers.push(fn), {}),
    });
    p.start();
    await new Promise((r) => setImmediate(r));
    expect(p.disabled).toBe(false);
    timers.forEach((t) => t());
    expect(p.disabled).toBe(true);
  });
});

describe('prometheus, health, ready', () => {
  it('counts requests and responses under CoreDNS’s names and labels', async () => {
    const metrics = new DnsMetrics();
    const p = new PrometheusPlugin(metrics, ['.', 'cluster.local.'], ':9153', () => 1_000_500_000n);
    await p.serve(mkQuery('backend.default.svc.cluster.local'), answerA('10.96.0.20'));
    await p.serve(mkQuery('example.org', 'MX', { proto: 'tcp' }), async (q) => wrote('forward', replyTo(q.msg, 3)));
    const t = await metrics.text();
    expect(t).toContain(
      'coredns_dns_requests_total{server="dns://:53",zone="cluster.local.",proto="udp",family="1",type="A"} 1',
    );
    expect(t).toContain('coredns_dns_requests_total{server="dns://:53",zone=".",proto="tcp",family="1",type="MX"} 1');
    expect(t).toContain(
      'coredns_dns_responses_total{server="dns://:53",zone="cluster.local.",rcode="NOERROR",plugin="kubernetes"} 1',
    );
    expect(t).toContain('coredns_dns_responses_total{server="dns://:53",zone=".",rcode="NXDOMAIN",plugin="forward"} 1');
    expect(t).toContain(
      'coredns_dns_request_duration_seconds_bucket{le="0.001",server="dns://:53",zone="cluster.local.",type="A"} 1',
    );
  });

  it('serve /health, /ready (503 naming who is not ready, then 200) and /metrics over HTTP', async () => {
    let synced = false;
    const metrics = new DnsMetrics();
    const k = new KubernetesPlugin(new KubernetesZone({ zones: ['cluster.local'] }), () => synced);
    const routes = [
      ...new HealthPlugin('127.0.0.1:0').routes,
      ...new ReadyPlugin('127.0.0.1:0', () => [k]).routes,
      ...new PrometheusPlugin(metrics, ['.'], '127.0.0.1:0').routes,
    ];
    const http = new HttpEndpoints(lineLogger(() => {}));
    await http.apply(routes);
    try {
      const port = http.port('127.0.0.1:0')!;
      const get = async (path: string) => {
        const r = await fetch(`http://127.0.0.1:${port}${path}`);
        return `${r.status} ${await r.text()}`;
      };
      expect(await get('/health')).toBe('200 OK');
      expect(await get('/ready')).toBe('503 kubernetes');
      synced = true;
      expect(await get('/ready')).toBe('200 OK');
      expect(await get('/metrics')).toContain('coredns_build_info');
      expect(await get('/nope')).toBe('404 404 page not found\n');
    } finally {
      await http.close();
    }
  });
});
