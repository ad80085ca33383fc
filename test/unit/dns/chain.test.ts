import { describe, expect, it } from 'vitest';
import type { Packet } from 'dns-packet';
import { compose, PLUGIN_ORDER, sortByOrder, wrote, type PluginInstance, type Query } from '../../../src/dns/chain.js';
import { parseCorefile } from '../../../src/dns/corefile.js';
import { KubernetesZone } from '../../../src/dns/kubernetes-zone.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import { buildConfig, lineLogger, type BuildDeps } from '../../../src/dns/plugins/index.js';
import { replyTo } from '../../../src/dns/wire.js';

/** CoreDNS v1.11.3's plugin.cfg (the add-on's image), in order: the chain order, whatever order a Corefile writes. */
const COREDNS_PLUGIN_CFG = `root metadata geoip cancel tls timeouts reload nsid bufsize bind debug trace ready health pprof prometheus errors log dnstap local dns64 acl any chaos loadbalance tsig cache rewrite header dnssec autopath minimal template transfer hosts route53 azure clouddns k8s_external kubernetes file auto secondary etcd loop forward grpc erratic whoami on sign view`;

function mkQuery(name: string, type = 'A'): Query {
  return {
    msg: {
      id: 1,
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
    startNs: process.hrtime.bigint(),
    internal: false,
    depth: 0,
    lookup: async () => null,
  };
}

const tracer = (name: string, trail: string[]): PluginInstance => ({
  name,
  async serve(q, next) {
    trail.push(`${name}>`);
    const o = await next(q);
    trail.push(`<${name}`);
    return o;
  },
});

describe('the plugin chain', () => {
  it('PLUGIN_ORDER is CoreDNS plugin.cfg’s order of the plugins podwire implements', () => {
    const cfg = COREDNS_PLUGIN_CFG.split(' ');
    expect([...PLUGIN_ORDER]).toEqual(cfg.filter((p) => (PLUGIN_ORDER as readonly string[]).includes(p)));
    expect([...PLUGIN_ORDER]).toEqual(
      'reload ready health prometheus errors log loadbalance cache rewrite kubernetes loop forward'.split(' '),
    );
  });

  it('sortByOrder puts plugins in chain order, whatever order they came in', () => {
    const names = ['forward', 'cache', 'loop', 'errors', 'kubernetes', 'log', 'rewrite', 'prometheus', 'loadbalance'];
    expect(sortByOrder(names.map((name) => ({ name }))).map((p) => p.name)).toEqual([
      'prometheus',
      'errors',
      'log',
      'loadbalance',
      'cache',
      'rewrite',
      'kubernetes',
      'loop',
      'forward',
    ]);
  });

  it('compose: each plugin wraps the rest; the end of the chain is SERVFAIL "no next plugin found"', async () => {
    const trail: string[] = [];
    const h = compose([tracer('a', trail), { name: 'health' }, tracer('b', trail)]);
    const o = await h(mkQuery('x.example'));
    expect(trail).toEqual(['a>', 'b>', '<b', '<a']);
    expect(o).toMatchObject({ msg: null, rcode: 'SERVFAIL' });
    expect(o.error!.message).toBe('plugin/b: no next plugin found');
  });

  it('a Corefile’s directives run in plugin.cfg order: log and cache see the name asked, kubernetes the rewritten one, forward is never asked', async () => {
    const text = `.:53 {
    forward . 192.0.2.53
    kubernetes cluster.local {
        ttl 30
    }
    cache 30
    rewrite name exact db.example.org db.default.svc.cluster.local
    log
    errors
    prometheus :0
}
`;
    const lines: string[] = [];
    const metrics = new DnsMetrics();
    let zone!: KubernetesZone;
    const deps: BuildDeps = {
      metrics,
      log: lineLogger((l) => lines.push(l)),
      out: (l) => lines.push(l),
      zoneFor: (opts) => {
        zone = new KubernetesZone({ zones: opts.zones, ttl: opts.ttl });
        zone.setService({
          metadata: { name: 'db', namespace: 'default' },
          spec: { clusterIP: '10.96.0.50', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
        });
        return { zone, synced: () => true };
      },
      loopProbe: async () => ({}) as Packet,
      fatal: () => {},
      allPlugins: () => [],
      exchange: async () => {
        throw new Error('forward must not be asked');
      },
    };
    const built = buildConfig(parseCorefile(text), deps);
    expect(built.plugins.map((p) => p.name)).toEqual([
      'prometheus',
      'errors',
      'log',
      'cache',
      'rewrite',
      'kubernetes',
      'forward',
    ]);
    const [block] = built.ports.get(53)!;
    const o = await block.handler(mkQuery('db.example.org'));
    expect(o.plugin).toBe('kubernetes');
    expect(o.msg!.questions![0].name).toBe('db.example.org');
    expect(o.msg!.answers).toEqual([
      expect.objectContaining({ name: 'db.example.org', type: 'A', data: '10.96.0.50', ttl: 30 }),
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[INFO\] 10\.244\.1\.2:5000 - 1 "A IN db\.example\.org\. udp 40 false 512" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/,
    );
    // the second time the cache answers (it keyed the name as asked)
    const again = await block.handler(mkQuery('db.example.org'));
    expect(again.plugin).toBe('cache');
    expect(again.msg!.answers![0].name).toBe('db.example.org');
    expect(await metrics.text()).toContain(
      'coredns_dns_responses_total{server="dns://:53",zone=".",rcode="NOERROR",plugin="cache"} 1',
    );
  });

  it('setup errors are CorefileErrors with the directive’s line', () => {
    const deps = {
      metrics: new DnsMetrics(),
      log: lineLogger(() => {}),
      out: () => {},
      readFile: () => 'search example\n',
    } as unknown as BuildDeps;
    expect(() => buildConfig(parseCorefile('.:53 {\n  errors\n  forward . /etc/resolv.conf\n}\n'), deps)).toThrow(
      /^Corefile:3: forward: no nameservers found in \/etc\/resolv.conf$/,
    );
    expect(() => buildConfig(parseCorefile('.:53 {\n  rewrite ttl example.org 10\n}\n'), deps)).toThrow(
      /^Corefile:2: rewrite: the ttl field is not implemented/,
    );
  });

  it('wrote() reads the rcode from the message', () => {
    expect(wrote('x', replyTo(mkQuery('a').msg, 3)).rcode).toBe('NXDOMAIN');
  });
});

describe('the CoreDNS image', () => {
  const tools = { workloadBin: '/opt/podwire/build/Release/podwire-workload', busyboxDir: '/run/podwire/busybox-bin' };
  const cli = ['coredns', '--configmap', 'kube-system/coredns'];
  it('runs `podwire coredns` for coredns/coredns, registry.k8s.io/coredns/coredns and k8s.gcr.io/coredns, any tag', async () => {
    const { launchFor } = await import('../../../src/kubelet/images.js');
    for (const image of [
      'coredns/coredns',
      'coredns/coredns:1.11.1',
      'registry.k8s.io/coredns/coredns:v1.11.3',
      'k8s.gcr.io/coredns:1.7.0',
      'registry.k8s.io/coredns/coredns@sha256:abcd',
    ]) {
      const l = launchFor({ name: 'coredns', image, args: ['-conf', '/etc/coredns/Corefile'] }, tools);
      expect(l).toEqual({
        argv: [process.execPath, '/opt/podwire/bin/podwire.js', ...cli, '-conf', '/etc/coredns/Corefile'],
        builtin: 'coredns',
        pathPrepend: [],
      });
    }
    expect(
      launchFor(
        { name: 'c', image: 'coredns/coredns', command: ['/coredns'], args: ['-dns.port', '1053'] },
        tools,
      ).argv.slice(2),
    ).toEqual([...cli, '-dns.port', '1053']);
    expect(launchFor({ name: 'c', image: 'coredns/coredns', command: ['sleep', '1'] }, tools).argv).toEqual([
      'sleep',
      '1',
    ]);
  });
});
