import { describe, it, expect } from 'vitest';
import {
  podDnsConfig,
  podDnsType,
  parseResolvConf,
  formatResolvConf,
  podHostnameAndDomain,
  kernelHostname,
  managedHostsFile,
  podFiles,
  PodHostnameError,
  type DnsSettings,
  type PodDnsSpec,
} from '../../../src/kubelet/index.js';

// The pod's resolv.conf, hosts and hostname as the kubelet makes them
// (pkg/kubelet/network/dns/dns.go; kubelet_pods.go's managed hosts file).

const NODE_RESOLV =
  '# from the node\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch corp.example. lab.example\noptions timeout:2 attempts:3\n';
const node = parseResolvConf(NODE_RESOLV);
const lab: DnsSettings = {
  clusterDns: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  host: { servers: ['10.255.255.53'], searches: [], options: [] },
};
const withNode: DnsSettings = { ...lab, host: node };
const resolv = (ns: string, spec: PodDnsSpec, s: DnsSettings = lab) =>
  formatResolvConf(podDnsConfig(ns, spec, s).config);

describe('parseResolvConf (the node’s file, read as the kubelet reads it)', () => {
  it('accumulates nameservers, keeps the last search line (trailing dots dropped) and the last options line', () => {
    expect(node).toEqual({
      servers: ['192.168.1.1', '192.168.1.2'],
      searches: ['corp.example', 'lab.example'],
      options: ['timeout:2', 'attempts:3'],
    });
    expect(
      parseResolvConf(
        'search a.example\nsearch b.example\noptions ndots:1\noptions rotate\n# nameserver 9.9.9.9\nnameserver\n',
      ),
    ).toEqual({ servers: [], searches: ['b.example'], options: ['rotate'] });
  });
});

describe('dnsPolicy', () => {
  it('ClusterFirst (the default): the cluster DNS, the namespace’s search list, ndots:5 — the file every pod has', () => {
    expect(resolv('default', {})).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
    expect(resolv('shop', { dnsPolicy: 'ClusterFirst' })).toBe(
      'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });

  it('ClusterFirst appends the node’s search domains (none in the lab), never its nameservers or options', () => {
    expect(resolv('default', {}, withNode)).toBe(
      'search default.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
    // a node search domain equal to a cluster one is not repeated
    expect(
      podDnsConfig(
        'default',
        {},
        { ...lab, host: { servers: [], searches: ['cluster.local', 'x.example'], options: [] } },
      ).config.searches,
    ).toEqual(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'x.example']);
  });

  it('Default: the node’s resolver file (as containerd writes it)', () => {
    expect(resolv('default', { dnsPolicy: 'Default' }, withNode)).toBe(
      'search corp.example lab.example\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions timeout:2 attempts:3\n',
    );
    expect(resolv('default', { dnsPolicy: 'Default' })).toBe('nameserver 10.255.255.53\n');
    // --resolv-conf "": the local machine's resolver, no search
    expect(resolv('default', { dnsPolicy: 'Default' }, { ...lab, host: null })).toBe(
      'search .\nnameserver 127.0.0.1\n',
    );
  });

  it('None: only the pod’s dnsConfig', () => {
    expect(resolv('default', { dnsPolicy: 'None' })).toBe('');
    expect(
      resolv(
        'default',
        {
          dnsPolicy: 'None',
          dnsConfig: {
            nameservers: ['1.1.1.1'],
            searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'],
            options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
          },
        },
        withNode,
      ),
    ).toBe('search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 1.1.1.1\noptions ndots:2 edns0\n');
  });

  it('ClusterFirstWithHostNet is ClusterFirst; ClusterFirst on the host network is Default', () => {
    expect(podDnsType({ dnsPolicy: 'ClusterFirstWithHostNet' })).toBe('cluster');
    expect(podDnsType({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true })).toBe('cluster');
    expect(podDnsType({ dnsPolicy: 'ClusterFirst', hostNetwork: true })).toBe('host');
    expect(podDnsType({ dnsPolicy: 'ClusterFirst' })).toBe('cluster');
    expect(podDnsType({})).toBe('cluster');
    expect(podDnsType({ dnsPolicy: 'Default' })).toBe('host');
    expect(podDnsType({ dnsPolicy: 'None' })).toBe('none');
    expect(resolv('default', { dnsPolicy: 'ClusterFirstWithHostNet' })).toBe(resolv('default', {}));
  });

  it('ClusterFirst without a cluster DNS falls back to Default, with a MissingClusterDNS warning', () => {
    const r = podDnsConfig('default', {}, { ...withNode, clusterDns: [] });
    expect(formatResolvConf(r.config)).toBe(resolv('default', { dnsPolicy: 'Default' }, withNode));
    expect(r.warnings).toEqual([
      {
        reason: 'MissingClusterDNS',
        message:
          'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
      },
    ]);
  });

  it('without a cluster domain there are no cluster search domains', () => {
    expect(resolv('default', {}, { ...withNode, clusterDomain: '' })).toBe(
      'search corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });
});

describe('dnsConfig merged as the kubelet merges it', () => {
  it('nameservers and searches appended without duplicates; options by name, the pod’s winning', () => {
    const r = podDnsConfig(
      'default',
      {
        dnsConfig: {
          nameservers: ['10.96.0.10', '8.8.8.8'],
          searches: ['svc.cluster.local', 'extra.example'],
          options: [{ name: 'ndots', value: '2' }, { name: 'single-request-reopen' }, { name: 'timeout', value: '1' }],
        },
      },
      lab,
    );
    expect(r.config).toEqual({
      servers: ['10.96.0.10', '8.8.8.8'],
      searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'extra.example'],
      options: ['ndots:2', 'single-request-reopen', 'timeout:1'],
    });
    expect(r.warnings).toEqual([]);
  });

  it('Default merges with the node’s options by name', () => {
    const r = podDnsConfig(
      'default',
      {
        dnsPolicy: 'Default',
        dnsConfig: {
          options: [
            { name: 'attempts', value: '5' },
            { name: 'ndots', value: '1' },
          ],
        },
      },
      withNode,
    );
    expect(r.config.options).toEqual(['timeout:2', 'attempts:5', 'ndots:1']);
  });

  it('at most 3 nameservers (DNSConfigForming)', () => {
    const r = podDnsConfig('default', { dnsConfig: { nameservers: ['1.1.1.1', '8.8.8.8', '9.9.9.9'] } }, lab);
    expect(r.config.servers).toEqual(['10.96.0.10', '1.1.1.1', '8.8.8.8']);
    expect(r.warnings).toEqual([
      {
        reason: 'DNSConfigForming',
        message:
          'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.96.0.10 1.1.1.1 8.8.8.8',
      },
    ]);
  });

  it('at most 32 search domains, none over 253 characters, a search line of at most 2048', () => {
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const r = podDnsConfig('default', { dnsConfig: { searches: many } }, lab);
    expect(r.config.searches).toHaveLength(32);
    expect(r.config.searches.slice(0, 4)).toEqual([
      'default.svc.cluster.local',
      'svc.cluster.local',
      'cluster.local',
      'd0.example',
    ]);
    expect(r.config.searches[31]).toBe('d28.example');
    expect(r.warnings[0]).toEqual({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${r.config.searches.join(' ')}`,
    });

    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.example`; // 263 characters
    expect(
      podDnsConfig('default', { dnsPolicy: 'None', dnsConfig: { searches: ['ok.example', long] } }, lab).config
        .searches,
    ).toEqual(['ok.example']);

    const wide = Array.from({ length: 12 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(198)}.example`); // 12 × 208 characters
    const w = podDnsConfig('default', { dnsPolicy: 'None', dnsConfig: { searches: wide } }, lab);
    expect(w.config.searches).toEqual(wide.slice(0, 9)); // 9 × 208 + 8 spaces = 1880; a tenth would be 2089
    expect(w.config.searches.join(' ').length).toBeLessThanOrEqual(2048);
    expect(w.warnings).toHaveLength(1);
  });
});

describe('hostname, subdomain, FQDN', () => {
  it('the pod’s name, or spec.hostname; a subdomain gives the domain a headless Service answers for', () => {
    expect(podHostnameAndDomain('web-0', 'default', {}, 'cluster.local')).toEqual({ hostname: 'web-0', domain: '' });
    expect(
      podHostnameAndDomain('web-0', 'shop', { hostname: 'db', subdomain: 'db-headless' }, 'cluster.local'),
    ).toEqual({ hostname: 'db', domain: 'db-headless.shop.svc.cluster.local' });
  });

  it('a long pod name is cut to 63 characters, without a trailing - or .', () => {
    const name = `${'a'.repeat(61)}-.b`;
    expect(podHostnameAndDomain(name, 'default', {}, 'cluster.local').hostname).toBe('a'.repeat(61));
  });

  it('an invalid hostname or subdomain is an error', () => {
    expect(() => podHostnameAndDomain('p', 'default', { hostname: 'Bad_Name' }, 'cluster.local')).toThrow(
      PodHostnameError,
    );
    expect(() => podHostnameAndDomain('p', 'default', { subdomain: 'a.b' }, 'cluster.local')).toThrow(
      /Subdomain "a.b" is not a valid DNS label/,
    );
  });

  it('setHostnameAsFQDN makes the kernel hostname the FQDN (only with a subdomain; at most 64 characters)', () => {
    expect(kernelHostname('web-0', 'web.default.svc.cluster.local', true)).toBe('web-0.web.default.svc.cluster.local');
    expect(kernelHostname('web-0', 'web.default.svc.cluster.local', false)).toBe('web-0');
    expect(kernelHostname('web-0', '', true)).toBe('web-0');
    expect(() => kernelHostname('h'.repeat(40), 'web.default.svc.cluster.local', true)).toThrow(
      'FQDN hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh.web.default.svc.cluster.local is too long (64 characters is the max, 70 characters requested)',
    );
  });
});

describe('the managed hosts file', () => {
  const head =
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

  it('localhost lines, then the pod’s IP and hostname', () => {
    expect(managedHostsFile(['10.244.1.5'], 'client', '')).toBe(`${head}10.244.1.5\tclient\n`);
  });

  it('with a subdomain, the FQDN first', () => {
    expect(managedHostsFile(['10.244.1.5'], 'web-0', 'web.default.svc.cluster.local')).toBe(
      `${head}10.244.1.5\tweb-0.web.default.svc.cluster.local\tweb-0\n`,
    );
  });

  it('hostAliases after their own comment, one line per IP', () => {
    const aliases = [
      { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
      { ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] },
    ];
    expect(managedHostsFile(['10.244.1.5'], 'hostaliases-pod', '', aliases)).toBe(
      `${head}10.244.1.5\thostaliases-pod\n\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\tbar.remote\n`,
    );
  });
});

describe('podFiles: the three files of one pod', () => {
  it('resolv.conf, hosts and hostname, and the containers’ hostname', () => {
    const pod = {
      metadata: { name: 'web-0', namespace: 'shop' },
      spec: {
        hostname: 'web-0',
        subdomain: 'web',
        setHostnameAsFQDN: true,
        dnsConfig: { options: [{ name: 'ndots', value: '2' }] },
      },
    };
    const f = podFiles(pod, ['10.244.2.7'], {
      clusterDns: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      hostResolvConf: 'nameserver 10.255.255.53\n',
    });
    expect(f.files['resolv.conf']).toBe(
      'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:2\n',
    );
    expect(f.files.hosts.split('\n').slice(-2)).toEqual(['10.244.2.7\tweb-0.web.shop.svc.cluster.local\tweb-0', '']);
    expect(f.files.hostname).toBe('web-0.web.shop.svc.cluster.local\n');
    expect(f.hostname).toBe('web-0.web.shop.svc.cluster.local');
    expect(f.warnings).toEqual([]);
  });
});
