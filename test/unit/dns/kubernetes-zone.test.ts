import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planEndpointSlices } from '../../../src/control/controllers/endpoint-slices.js';
import { KubernetesZone, ZoneConfigError, type KubernetesZoneOptions } from '../../../src/dns/kubernetes-zone.js';
import { cidrToReverseZones, ipToReverse, reverseToIp } from '../../../src/dns/names.js';
import { formatRecord } from '../../../src/dns/records.js';
import type { ZoneAnswer } from '../../../src/dns/types.js';

// ---- objects shaped as the API server stores them (src/control/api/schemas) ----

const NOW_MS = 1_700_000_000_000;
const SERIAL = 1_700_000_000;

interface PodOpts {
  ns?: string;
  ready?: boolean;
  hostname?: string;
  subdomain?: string;
  node?: string;
}

function pod(name: string, ip: string, labels: Record<string, string>, o: PodOpts = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'default', uid: `uid-${name}`, labels },
    spec: {
      nodeName: o.node ?? 'node-1',
      containers: [
        { name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
      ],
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

function service(name: string, spec: Record<string, unknown>, ns = 'default') {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, uid: `uid-svc-${name}` },
    spec: { type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ...spec },
  };
}

const nginx = service('nginx', {
  selector: { app: 'nginx' },
  clusterIP: '10.96.0.20',
  clusterIPs: ['10.96.0.20'],
  ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
});
const nginxPods = [
  pod('nginx-7c5ddbdf54-abcde', '10.244.1.5', { app: 'nginx' }),
  pod('nginx-7c5ddbdf54-fghij', '10.244.2.7', { app: 'nginx' }, { node: 'node-2' }),
];

const postgres = service('postgres', {
  selector: { app: 'postgres' },
  clusterIP: 'None',
  clusterIPs: ['None'],
  ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
});
const pg = (i: number, ip: string, ready = true) =>
  pod(`postgres-${i}`, ip, { app: 'postgres' }, { hostname: `postgres-${i}`, subdomain: 'postgres', ready });
const postgresPods = [pg(0, '10.244.1.10'), pg(1, '10.244.2.11'), pg(2, '10.244.1.12', false)];

/** headless, no ports, pods without hostnames */
const peers = service('peers', { selector: { app: 'peers' }, clusterIP: 'None', clusterIPs: ['None'] });
const peersPods = [pod('peers-a', '10.244.1.20', { app: 'peers' }), pod('peers-b', '10.244.2.21', { app: 'peers' })];

const search = service('search', { type: 'ExternalName', externalName: 'www.example.com' });

const kubeDns = service(
  'kube-dns',
  {
    selector: { 'k8s-app': 'kube-dns' },
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
    ],
  },
  'kube-system',
);
const corednsPods = [pod('coredns-5d78c9869d-aaaaa', '10.244.0.2', { 'k8s-app': 'kube-dns' }, { ns: 'kube-system' })];

const dual = service('dual', {
  selector: { app: 'dual' },
  clusterIP: '10.96.0.30',
  clusterIPs: ['10.96.0.30', 'fd00:10:96::30'],
  ipFamilies: ['IPv4', 'IPv6'],
  ipFamilyPolicy: 'RequireDualStack',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
});

let suffixes = 0;
/** The Service, its pods, and the EndpointSlices the controller makes of them. */
function feed(zone: KubernetesZone, svc: any, pods: any[], existing: any[] = []): any[] {
  zone.setService(svc);
  for (const p of pods) zone.setPod(p);
  const plan = planEndpointSlices(svc, pods, existing, () => `s${(suffixes++).toString().padStart(4, '0')}`);
  for (const s of [...plan.create, ...plan.update]) zone.setSlice(s);
  for (const s of plan.delete) zone.deleteSlice(s);
  return [
    ...plan.create,
    ...plan.update,
    ...existing.filter((e) => ![...plan.update, ...plan.delete].some((u) => u.metadata.name === e.metadata.name)),
  ];
}

function cluster(opts: Partial<KubernetesZoneOptions> = {}) {
  const zone = new KubernetesZone({
    zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
    pods: 'insecure',
    ttl: 30,
    fallthrough: ['in-addr.arpa', 'ip6.arpa'],
    now: () => NOW_MS,
    ...opts,
  });
  const slices = {
    nginx: feed(zone, nginx, nginxPods),
    postgres: feed(zone, postgres, postgresPods),
    peers: feed(zone, peers, peersPods),
    kubeDns: feed(zone, kubeDns, corednsPods),
    dual: feed(zone, dual, []),
  };
  zone.setService(search);
  return { zone, slices };
}

/** An answer as zone-file lines. */
function show(a: ZoneAnswer | null) {
  if (!a) return null;
  return {
    rcode: a.rcode,
    aa: a.authoritative,
    answers: a.answers.map(formatRecord),
    authority: a.authority.map(formatRecord),
    additional: a.additional.map(formatRecord),
  };
}
const SOA = `cluster.local.\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. ${SERIAL} 7200 1800 86400 30`;
const nodata = { rcode: 'NOERROR', aa: true, answers: [], authority: [SOA], additional: [] };
const nxdomain = { ...nodata, rcode: 'NXDOMAIN' };
const ok = (answers: string[], additional: string[] = []) => ({
  rcode: 'NOERROR',
  aa: true,
  answers,
  authority: [],
  additional,
});

describe('KubernetesZone: Services', () => {
  const { zone } = cluster();

  it('answers a ClusterIP Service with its ClusterIP', () => {
    expect(show(zone.resolve('nginx.default.svc.cluster.local', 'A'))).toEqual(
      ok(['nginx.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.20']),
    );
  });

  it('answers a headless Service with every ready endpoint', () => {
    expect(show(zone.resolve('postgres.default.svc.cluster.local', 'A'))).toEqual(
      ok([
        'postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.10',
        'postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.11',
      ]),
    );
  });

  it('names StatefulSet pods <hostname>.<service> and leaves the unready one out', () => {
    expect(show(zone.resolve('postgres-0.postgres.default.svc.cluster.local', 'A'))).toEqual(
      ok(['postgres-0.postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.10']),
    );
    expect(show(zone.resolve('postgres-1.postgres.default.svc.cluster.local', 'A'))?.answers).toEqual([
      'postgres-1.postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.11',
    ]);
    expect(show(zone.resolve('postgres-2.postgres.default.svc.cluster.local', 'A'))).toEqual(nxdomain);
  });

  it('names endpoints without a hostname by their dashed address (headless, no ports)', () => {
    expect(show(zone.resolve('peers.default.svc.cluster.local', 'A'))?.answers).toHaveLength(2);
    expect(show(zone.resolve('10-244-2-21.peers.default.svc.cluster.local', 'A'))).toEqual(
      ok(['10-244-2-21.peers.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.21']),
    );
    expect(show(zone.resolve('peers-a.peers.default.svc.cluster.local', 'A'))).toEqual(nxdomain);
  });

  it('with endpoint_pod_names, names them by pod (a slice hostname still wins)', () => {
    const { zone: z } = cluster({ endpointPodNames: true });
    expect(show(z.resolve('peers-a.peers.default.svc.cluster.local', 'A'))?.answers).toEqual([
      'peers-a.peers.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.20',
    ]);
    expect(show(z.resolve('10-244-1-20.peers.default.svc.cluster.local', 'A'))).toEqual(nxdomain);
    expect(show(z.resolve('postgres-0.postgres.default.svc.cluster.local', 'A'))?.answers).toHaveLength(1);
    expect(show(z.resolve('_pg._tcp.postgres.default.svc.cluster.local', 'SRV'))?.answers[0]).toContain(
      'postgres-0.postgres.default.svc.cluster.local.',
    );
  });

  it('answers SRV for a ClusterIP named port: one record to the Service name, its address in additional', () => {
    expect(show(zone.resolve('_http._tcp.nginx.default.svc.cluster.local', 'SRV'))).toEqual(
      ok(
        ['_http._tcp.nginx.default.svc.cluster.local.\t30\tIN\tSRV\t0 100 80 nginx.default.svc.cluster.local.'],
        ['nginx.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.20'],
      ),
    );
    // without _port._proto: every port (CoreDNS)
    expect(show(zone.resolve('kube-dns.kube-system.svc.cluster.local', 'SRV'))).toEqual(
      ok(
        [
          'kube-dns.kube-system.svc.cluster.local.\t30\tIN\tSRV\t0 33 53 kube-dns.kube-system.svc.cluster.local.',
          'kube-dns.kube-system.svc.cluster.local.\t30\tIN\tSRV\t0 33 9153 kube-dns.kube-system.svc.cluster.local.',
        ],
        ['kube-dns.kube-system.svc.cluster.local.\t30\tIN\tA\t10.96.0.10'],
      ),
    );
    expect(show(zone.resolve('_dns._udp.kube-dns.kube-system.svc.cluster.local', 'SRV'))?.answers).toEqual([
      '_dns._udp.kube-dns.kube-system.svc.cluster.local.\t30\tIN\tSRV\t0 100 53 kube-dns.kube-system.svc.cluster.local.',
    ]);
  });

  it('answers SRV for a headless named port: one per endpoint, by its per-endpoint name', () => {
    expect(show(zone.resolve('_pg._tcp.postgres.default.svc.cluster.local', 'SRV'))).toEqual(
      ok(
        [
          '_pg._tcp.postgres.default.svc.cluster.local.\t30\tIN\tSRV\t0 50 5432 postgres-0.postgres.default.svc.cluster.local.',
          '_pg._tcp.postgres.default.svc.cluster.local.\t30\tIN\tSRV\t0 50 5432 postgres-1.postgres.default.svc.cluster.local.',
        ],
        [
          'postgres-0.postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.10',
          'postgres-1.postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.11',
        ],
      ),
    );
  });

  it('has no SRV for an unknown port or protocol, or for a portless Service', () => {
    expect(show(zone.resolve('_https._tcp.nginx.default.svc.cluster.local', 'SRV'))).toEqual(nxdomain);
    expect(show(zone.resolve('_http._udp.nginx.default.svc.cluster.local', 'SRV'))).toEqual(nxdomain);
    expect(show(zone.resolve('peers.default.svc.cluster.local', 'SRV'))).toEqual(nodata);
  });

  it('answers an ExternalName Service with a CNAME, whatever the type asked, without chasing it', () => {
    const cname = ['search.default.svc.cluster.local.\t30\tIN\tCNAME\twww.example.com.'];
    for (const t of ['A', 'AAAA', 'CNAME', 'SRV', 'TXT'])
      expect(show(zone.resolve('search.default.svc.cluster.local', t)), t).toEqual(ok(cname));
    expect(show(zone.resolve('_http._tcp.search.default.svc.cluster.local', 'SRV'))).toEqual(nxdomain);
    expect(show(zone.resolve('www.search.default.svc.cluster.local', 'A'))).toEqual(nxdomain);
  });

  it('answers AAAA from an IPv6 ClusterIP, and NODATA for an IPv4-only Service', () => {
    expect(show(zone.resolve('dual.default.svc.cluster.local', 'AAAA'))).toEqual(
      ok(['dual.default.svc.cluster.local.\t30\tIN\tAAAA\tfd00:10:96::30']),
    );
    expect(show(zone.resolve('dual.default.svc.cluster.local', 'A'))?.answers).toEqual([
      'dual.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.30',
    ]);
    expect(show(zone.resolve('_http._tcp.dual.default.svc.cluster.local', 'SRV'))).toEqual(
      ok(
        ['_http._tcp.dual.default.svc.cluster.local.\t30\tIN\tSRV\t0 50 80 dual.default.svc.cluster.local.'],
        [
          'dual.default.svc.cluster.local.\t30\tIN\tA\t10.96.0.30',
          'dual.default.svc.cluster.local.\t30\tIN\tAAAA\tfd00:10:96::30',
        ],
      ),
    );
    expect(show(zone.resolve('nginx.default.svc.cluster.local', 'AAAA'))).toEqual(nodata);
    expect(show(zone.resolve('postgres.default.svc.cluster.local', 'AAAA'))).toEqual(nodata);
  });
});

describe('KubernetesZone: NXDOMAIN vs NODATA, SOA, case', () => {
  const { zone } = cluster();

  it('NXDOMAIN for unknown names, with the SOA as CoreDNS writes it', () => {
    for (const n of [
      'nope.default.svc.cluster.local',
      'nginx.nons.svc.cluster.local',
      'nons.svc.cluster.local',
      'foo.cluster.local',
      'a.b.c.nginx.default.svc.cluster.local',
      'nginx.default.xyz.cluster.local',
    ])
      expect(show(zone.resolve(n, 'A')), n).toEqual(nxdomain);
  });

  it('NODATA for names that exist without records of the type, and for empty non-terminals', () => {
    for (const [n, t] of [
      ['nginx.default.svc.cluster.local', 'TXT'],
      ['nginx.default.svc.cluster.local', 'MX'],
      ['nginx.default.svc.cluster.local', 'CNAME'],
      ['nginx.default.svc.cluster.local', 'PTR'],
      ['default.svc.cluster.local', 'A'],
      ['svc.cluster.local', 'A'],
      ['pod.cluster.local', 'A'],
      ['default.pod.cluster.local', 'A'],
      ['cluster.local', 'A'],
      ['dns-version.cluster.local', 'A'],
      ['nginx.default.svc.cluster.local', 'ANY'],
    ])
      expect(show(zone.resolve(n, t)), `${n} ${t}`).toEqual(nodata);
  });

  it('answers SOA at the apex, and the TXT dns-version', () => {
    expect(show(zone.resolve('cluster.local', 'SOA'))).toEqual(ok([SOA]));
    expect(show(zone.resolve('dns-version.cluster.local', 'TXT'))).toEqual(
      ok(['dns-version.cluster.local.\t28800\tIN\tTXT\t"1.1.0"']),
    );
  });

  it('matches names case-insensitively and answers with the spelling asked (a trailing dot is fine)', () => {
    expect(show(zone.resolve('NGINX.Default.SVC.Cluster.Local.', 'a'))).toEqual(
      ok(['NGINX.Default.SVC.Cluster.Local.\t30\tIN\tA\t10.96.0.20']),
    );
    expect(show(zone.resolve('_HTTP._Tcp.nginx.default.svc.CLUSTER.local', 'SRV'))?.answers).toEqual([
      '_HTTP._Tcp.nginx.default.svc.CLUSTER.local.\t30\tIN\tSRV\t0 100 80 nginx.default.svc.CLUSTER.local.',
    ]);
    expect(show(zone.resolve('Nope.default.svc.Cluster.Local', 'A'))?.authority).toEqual([
      SOA.replace('cluster.local.\t', 'Cluster.Local.\t').replace(
        /(ns\.dns|hostmaster)\.cluster\.local/g,
        '$1.Cluster.Local',
      ),
    ]);
  });

  it('is not authoritative outside its zones (null: the next plugin)', () => {
    expect(zone.resolve('www.example.com', 'A')).toBeNull();
    expect(zone.resolve('local', 'A')).toBeNull();
    expect(zone.resolve('', 'A')).toBeNull();
  });

  it('caps the SOA TTL at 300 and keeps the zone TTL as its minimum', () => {
    const z = new KubernetesZone({ zones: ['cluster.local'], ttl: 3600, now: () => NOW_MS });
    expect(show(z.resolve('x.cluster.local', 'A'))?.authority).toEqual([
      `cluster.local.\t300\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. ${SERIAL} 7200 1800 86400 3600`,
    ]);
  });

  it('moves the serial to the time of the last change', () => {
    let now = NOW_MS;
    const z = new KubernetesZone({ zones: ['cluster.local'], now: () => now });
    expect(z.serial).toBe(SERIAL);
    now += 42_000;
    z.setService(nginx);
    expect(z.serial).toBe(SERIAL + 42);
  });

  it('refuses zone transfers; answers SERVFAIL instead of NXDOMAIN until synced', () => {
    expect(zone.resolve('cluster.local', 'AXFR')?.rcode).toBe('REFUSED');
    const z = new KubernetesZone({ zones: ['cluster.local'], synced: false, now: () => NOW_MS });
    expect(z.resolve('nope.default.svc.cluster.local', 'A')?.rcode).toBe('SERVFAIL');
    expect(z.resolve('svc.cluster.local', 'A')?.rcode).toBe('NOERROR');
    z.markSynced();
    expect(z.resolve('nope.default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
  });
});

describe('KubernetesZone: reverse (PTR)', () => {
  const { zone } = cluster();

  it('answers PTR for a ClusterIP with the Service name', () => {
    expect(show(zone.resolve('20.0.96.10.in-addr.arpa', 'PTR'))).toEqual(
      ok(['20.0.96.10.in-addr.arpa.\t30\tIN\tPTR\tnginx.default.svc.cluster.local.']),
    );
  });

  it('answers PTR for an endpoint address with its per-endpoint name (StatefulSet pods: hostname.subdomain)', () => {
    expect(show(zone.resolve('10.1.244.10.in-addr.arpa', 'PTR'))).toEqual(
      ok(['10.1.244.10.in-addr.arpa.\t30\tIN\tPTR\tpostgres-0.postgres.default.svc.cluster.local.']),
    );
    expect(show(zone.resolve('21.2.244.10.in-addr.arpa', 'PTR'))?.answers).toEqual([
      '21.2.244.10.in-addr.arpa.\t30\tIN\tPTR\t10-244-2-21.peers.default.svc.cluster.local.',
    ]);
  });

  it('answers PTR in ip6.arpa for an IPv6 ClusterIP', () => {
    const name = ipToReverse('fd00:10:96::30')!;
    expect(show(zone.resolve(name, 'PTR'))?.answers).toEqual([
      `${name}.\t30\tIN\tPTR\tdual.default.svc.cluster.local.`,
    ]);
  });

  it('falls through for unknown addresses in a fallthrough zone, NXDOMAIN otherwise', () => {
    expect(zone.resolve('1.2.3.4.in-addr.arpa', 'PTR')).toBeNull();
    expect(zone.resolve('12.1.244.10.in-addr.arpa', 'PTR')).toBeNull(); // the unready pod
    const z = new KubernetesZone({ zones: ['cluster.local', 'in-addr.arpa'], now: () => NOW_MS });
    expect(z.resolve('1.2.3.4.in-addr.arpa', 'PTR')?.rcode).toBe('NXDOMAIN');
    expect(z.resolve('in-addr.arpa', 'PTR')?.rcode).toBe('NOERROR');
    expect(show(z.resolve('in-addr.arpa', 'SOA'))?.answers[0]).toMatch(
      /^in-addr\.arpa\.\t5\tIN\tSOA\tns\.dns\.in-addr\.arpa\. hostmaster\.in-addr\.arpa\. /,
    );
  });

  it('answers NODATA for other types at an address with a PTR', () => {
    expect(zone.resolve('20.0.96.10.in-addr.arpa', 'A')?.rcode).toBe('NOERROR');
    expect(zone.resolve('20.0.96.10.in-addr.arpa', 'A')?.answers).toEqual([]);
  });

  it('falls through NXDOMAIN everywhere with fallthrough "."', () => {
    const z = new KubernetesZone({ zones: ['cluster.local'], fallthrough: ['.'], now: () => NOW_MS });
    expect(z.resolve('nope.default.svc.cluster.local', 'A')).toBeNull();
    expect(z.resolve('svc.cluster.local', 'A')?.rcode).toBe('NOERROR'); // NODATA does not fall through
  });

  it('reads and writes reverse names', () => {
    expect(reverseToIp('10.1.244.10.in-addr.arpa')).toBe('10.244.1.10');
    expect(reverseToIp('1.244.10.in-addr.arpa')).toBeNull();
    expect(reverseToIp(ipToReverse('2001:db8::1')!)).toBe('2001:db8::1');
    expect(cidrToReverseZones('10.96.0.0/12')).toHaveLength(16);
    expect(cidrToReverseZones('10.96.0.0/12')![0]).toBe('96.10.in-addr.arpa');
    expect(cidrToReverseZones('10.96.0.0/12')![15]).toBe('111.10.in-addr.arpa');
    expect(cidrToReverseZones('10.0.0.0/8')).toEqual(['10.in-addr.arpa']);
    expect(cidrToReverseZones('fd00::/8')).toEqual(['d.f.ip6.arpa']);
  });
});

describe('KubernetesZone: pods', () => {
  it('insecure: any a-b-c-d in an existing namespace', () => {
    const { zone } = cluster();
    expect(show(zone.resolve('10-244-1-5.default.pod.cluster.local', 'A'))).toEqual(
      ok(['10-244-1-5.default.pod.cluster.local.\t30\tIN\tA\t10.244.1.5']),
    );
    expect(show(zone.resolve('1-2-3-4.default.pod.cluster.local', 'A'))?.answers).toEqual([
      '1-2-3-4.default.pod.cluster.local.\t30\tIN\tA\t1.2.3.4',
    ]);
    expect(show(zone.resolve('fd00--1.default.pod.cluster.local', 'AAAA'))?.answers).toEqual([
      'fd00--1.default.pod.cluster.local.\t30\tIN\tAAAA\tfd00::1',
    ]);
    expect(show(zone.resolve('10-244-1-5.default.pod.cluster.local', 'AAAA'))).toEqual(nodata);
    expect(show(zone.resolve('blah.default.pod.cluster.local', 'A'))).toEqual(nxdomain);
    expect(show(zone.resolve('1-2-3-4.nons.pod.cluster.local', 'A'))).toEqual(nxdomain);
    expect(show(zone.resolve('default.pod.cluster.local', 'A'))).toEqual(nodata);
  });

  it('verified: only addresses of pods in that namespace', () => {
    const { zone } = cluster({ pods: 'verified' });
    expect(show(zone.resolve('10-244-1-5.default.pod.cluster.local', 'A'))?.answers).toEqual([
      '10-244-1-5.default.pod.cluster.local.\t30\tIN\tA\t10.244.1.5',
    ]);
    expect(show(zone.resolve('1-2-3-4.default.pod.cluster.local', 'A'))).toEqual(nxdomain);
    expect(show(zone.resolve('10-244-0-2.default.pod.cluster.local', 'A'))).toEqual(nxdomain); // coredns runs in kube-system
    expect(show(zone.resolve('10-244-0-2.kube-system.pod.cluster.local', 'A'))?.answers).toHaveLength(1);
    zone.deletePod(nginxPods[0]);
    expect(show(zone.resolve('10-244-1-5.default.pod.cluster.local', 'A'))).toEqual(nxdomain);
    zone.setPod({ ...nginxPods[1], metadata: { ...nginxPods[1].metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } });
    expect(show(zone.resolve('10-244-2-7.default.pod.cluster.local', 'A'))).toEqual(nxdomain);
  });

  it('disabled: no pod records at all', () => {
    const { zone } = cluster({ pods: 'disabled' });
    expect(show(zone.resolve('10-244-1-5.default.pod.cluster.local', 'A'))).toEqual(nxdomain);
    expect(show(zone.resolve('default.pod.cluster.local', 'A'))).toEqual(nxdomain);
    expect(show(zone.resolve('pod.cluster.local', 'A'))).toEqual(nodata);
  });
});

describe('KubernetesZone: changes from the informers', () => {
  it('drops an endpoint that becomes unready, and keeps it with publishNotReadyAddresses', () => {
    const { zone, slices } = cluster();
    const pods = [pg(0, '10.244.1.10', false), pg(1, '10.244.2.11'), pg(2, '10.244.1.12', false)];
    const now = feed(zone, postgres, pods, slices.postgres);
    expect(show(zone.resolve('postgres.default.svc.cluster.local', 'A'))?.answers).toEqual([
      'postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.2.11',
    ]);
    expect(zone.resolve('postgres-0.postgres.default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    expect(zone.resolve('10.1.244.10.in-addr.arpa', 'PTR')).toBeNull();

    const publishing = { ...postgres, spec: { ...postgres.spec, publishNotReadyAddresses: true } };
    feed(zone, publishing, pods, now);
    expect(show(zone.resolve('postgres.default.svc.cluster.local', 'A'))?.answers).toHaveLength(3);
    expect(show(zone.resolve('postgres-2.postgres.default.svc.cluster.local', 'A'))?.answers).toEqual([
      'postgres-2.postgres.default.svc.cluster.local.\t30\tIN\tA\t10.244.1.12',
    ]);
  });

  it('a headless Service whose last endpoint leaves is NXDOMAIN (CoreDNS), its namespace still NODATA', () => {
    const { zone, slices } = cluster();
    feed(zone, peers, [], slices.peers);
    expect(show(zone.resolve('peers.default.svc.cluster.local', 'A'))).toEqual(nxdomain);
    expect(show(zone.resolve('default.svc.cluster.local', 'A'))).toEqual(nodata);
  });

  it('forgets deleted Services and slices', () => {
    const { zone, slices } = cluster();
    zone.deleteService(nginx);
    expect(show(zone.resolve('nginx.default.svc.cluster.local', 'A'))).toEqual(nxdomain);
    expect(zone.resolve('20.0.96.10.in-addr.arpa', 'PTR')).toBeNull();
    expect(zone.resolve('5.1.244.10.in-addr.arpa', 'PTR')?.answers.map(formatRecord)).toEqual([
      '5.1.244.10.in-addr.arpa.\t30\tIN\tPTR\t10-244-1-5.nginx.default.svc.cluster.local.',
    ]); // its endpoints still have names
    for (const s of slices.nginx) zone.deleteSlice(s);
    expect(zone.resolve('5.1.244.10.in-addr.arpa', 'PTR')).toBeNull();
    for (const s of slices.postgres) zone.deleteSlice(s);
    expect(show(zone.resolve('postgres.default.svc.cluster.local', 'A'))).toEqual(nxdomain);
  });

  it('knows a namespace from its Namespace object or from what lives in it', () => {
    const z = new KubernetesZone({ zones: ['cluster.local'], now: () => NOW_MS });
    expect(z.resolve('empty.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    z.setNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } });
    expect(z.resolve('empty.svc.cluster.local', 'A')?.rcode).toBe('NOERROR');
    z.deleteNamespace({ metadata: { name: 'empty' } });
    expect(z.resolve('empty.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    z.setService(nginx);
    expect(z.resolve('default.svc.cluster.local', 'A')?.rcode).toBe('NOERROR');
    z.deleteService(nginx);
    expect(z.resolve('default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
  });

  it('exposes only the configured namespaces', () => {
    const { zone } = cluster({ namespaces: ['kube-system'] });
    expect(zone.resolve('nginx.default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    expect(zone.resolve('kube-dns.kube-system.svc.cluster.local', 'A')?.answers).toHaveLength(1);
  });

  it('with ignoreEmptyService, a ClusterIP Service without endpoints is NXDOMAIN', () => {
    const { zone } = cluster({ ignoreEmptyService: true });
    expect(zone.resolve('dual.default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    expect(zone.resolve('nginx.default.svc.cluster.local', 'A')?.answers).toHaveLength(1);
  });

  it('with noendpoints, headless Services have no records', () => {
    const { zone } = cluster({ noEndpoints: true });
    expect(zone.resolve('postgres.default.svc.cluster.local', 'A')?.rcode).toBe('NXDOMAIN');
    expect(zone.resolve('nginx.default.svc.cluster.local', 'A')?.answers).toHaveLength(1);
  });
});

describe('KubernetesZone: NS and configuration', () => {
  it('answers NS at the apex with the Service in front of this server, its address in additional', () => {
    const { zone } = cluster({ localIps: ['10.244.0.2'] });
    expect(show(zone.resolve('cluster.local', 'NS'))).toEqual(
      ok(
        ['cluster.local.\t30\tIN\tNS\tkube-dns.kube-system.svc.cluster.local.'],
        ['kube-dns.kube-system.svc.cluster.local.\t30\tIN\tA\t10.96.0.10'],
      ),
    );
  });

  it('falls back to ns.dns.<zone> at its own addresses', () => {
    const { zone } = cluster({ localIps: ['172.28.0.10'] });
    expect(show(zone.resolve('cluster.local', 'NS'))).toEqual(
      ok(['cluster.local.\t30\tIN\tNS\tns.dns.cluster.local.'], ['ns.dns.cluster.local.\t30\tIN\tA\t172.28.0.10']),
    );
    expect(show(zone.resolve('ns.dns.cluster.local', 'A'))).toEqual(
      ok(['ns.dns.cluster.local.\t30\tIN\tA\t172.28.0.10']),
    );
    expect(show(cluster().zone.resolve('cluster.local', 'NS'))).toEqual(nodata);
  });

  it('rejects what CoreDNS rejects', () => {
    expect(() => new KubernetesZone({ zones: ['in-addr.arpa'] })).toThrow(ZoneConfigError);
    expect(() => new KubernetesZone({ zones: ['cluster.local'], ttl: 3601 })).toThrow('ttl must be in range [0, 3600]');
    expect(() => new KubernetesZone({ zones: ['cluster.local', '10.96.0.0/40'] })).toThrow(ZoneConfigError);
  });

  it('serves reverse zones given as CIDRs', () => {
    const { zone } = cluster({ zones: ['cluster.local', '10.96.0.0/12'], fallthrough: [] });
    expect(zone.resolve('20.0.96.10.in-addr.arpa', 'PTR')?.answers).toHaveLength(1);
    expect(zone.resolve('10.1.244.10.in-addr.arpa', 'PTR')).toBeNull(); // outside 10.96/12
  });
});

describe('KubernetesZone: robustness', () => {
  const { zone } = cluster({ localIps: ['10.244.0.2'] });
  const label = fc.constantFrom(
    'nginx',
    'postgres',
    'postgres-0',
    'peers',
    'search',
    'dual',
    'kube-dns',
    'default',
    'kube-system',
    'svc',
    'pod',
    'cluster',
    'local',
    'in-addr',
    'arpa',
    'ip6',
    '_http',
    '_tcp',
    '10',
    '244',
    '1',
    '10-244-1-5',
    'fd00--1',
    'dns-version',
    'ns',
    'dns',
    'NGINX',
    '',
    '-',
    '*',
  );
  const qtype = fc.oneof(
    fc.constantFrom('A', 'AAAA', 'SRV', 'PTR', 'TXT', 'CNAME', 'SOA', 'NS', 'MX', 'ANY', 'AXFR', 'a', 'UNKNOWN_99'),
    fc.string(),
  );

  it('never throws and never fails for any qname/qtype', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.array(label, { maxLength: 8 }).map((ls) => ls.join('.')),
        ),
        qtype,
        (q, t) => {
          const a = zone.resolve(q, t);
          if (a) expect(a.rcode).not.toBe('SERVFAIL');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('answers every name it serves with owner names as asked', () => {
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('A', 'AAAA', 'SRV', 'PTR', 'TXT'),
        (ls, t) => {
          const name = [...ls, 'cluster', 'local'].join('.');
          const a = zone.resolve(name, t);
          if (!a) return;
          for (const r of a.answers) expect(r.name).toBe(name);
          expect(a.answers.length > 0 || a.authority.length === 1).toBe(true);
        },
      ),
    );
  });

  it('tolerates malformed objects from the informers', () => {
    const z = new KubernetesZone({ zones: ['cluster.local'] });
    for (const o of [
      {},
      { metadata: null },
      { metadata: { name: 'x' } },
      { metadata: { name: 'x', namespace: 'y' }, spec: null, status: 7, endpoints: 'no', ports: [null] },
    ] as any[]) {
      z.setService(o);
      z.setSlice(o);
      z.setPod(o);
      z.deleteService(o);
      z.deleteSlice(o);
      z.deletePod(o);
    }
    z.setSlice({
      metadata: { name: 's', namespace: 'y', labels: { 'kubernetes.io/service-name': 'x' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['not-an-ip', '10.0.0.1'], conditions: null }],
      ports: null,
    });
    z.setService({ metadata: { name: 'x', namespace: 'y' }, spec: { clusterIP: 'None' } });
    expect(z.resolve('x.y.svc.cluster.local', 'A')?.answers.map(formatRecord)).toEqual([
      'x.y.svc.cluster.local.\t5\tIN\tA\t10.0.0.1',
    ]);
  });
});
