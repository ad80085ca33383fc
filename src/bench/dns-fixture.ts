/**
 * What `bench dns` serves, made once and given to both servers (pure):
 * `services` ClusterIP Services in namespace `bench` with one ready
 * endpoint each, `pods` Pods; the same Services' A records as a hosts file
 * for dnsmasq; the names dnsperf asks; podwire's Corefile.
 *
 *   cluster names   svc-N.bench.svc.cluster.local   A 10.96.x.y   (answered from memory:
 *                   podwire's kubernetes zone behind its cache; dnsmasq's addn-hosts)
 *   forwarded names ext-N.example.com               A 198.18.x.y  (both forward every query
 *                   to the same small upstream: podwire's `.` block has no cache,
 *                   dnsmasq runs with its cache off)
 */
export interface DnsFixture {
  /** Services, EndpointSlices and Pods, as `podwire coredns --zone-fixture` reads them */
  objects: Record<string, unknown>[];
  /** dnsmasq --addn-hosts: the Services' A records */
  hosts: string;
  /** dnsmasq upstream's --addn-hosts: the outside names */
  upstreamHosts: string;
  /** dnsperf data files */
  clusterQueries: string;
  forwardQueries: string;
}

export const CLUSTER_ZONE = 'cluster.local';
export const BENCH_NAMESPACE = 'bench';

const addr = (base: string, i: number) => `${base}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
export const serviceIp = (i: number) => addr('10.96', i + 1000); // 10.96.4.x and up: clear of the lab's
export const podIp = (i: number) => addr('10.244', i);
export const outsideIp = (i: number) => addr('198.18', i); // RFC 2544's benchmarking range

export function dnsFixture(services: number, pods: number, outsideNames = 1000): DnsFixture {
  const objects: Record<string, unknown>[] = [];
  const ns = BENCH_NAMESPACE;
  for (let i = 0; i < pods; i++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `pod-${i}`,
        namespace: ns,
        uid: `pod-uid-${i}`,
        labels: { app: `svc-${i % Math.max(services, 1)}` },
      },
      spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'nginx' }] },
      status: {
        phase: 'Running',
        podIP: podIp(i),
        podIPs: [{ ip: podIp(i) }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
  }
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, uid: `svc-uid-${i}` },
      spec: {
        type: 'ClusterIP',
        clusterIP: serviceIp(i),
        clusterIPs: [serviceIp(i)],
        selector: { app: name },
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      },
    });
    const pod = pods ? i % pods : -1;
    objects.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-abcde`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints:
        pod < 0
          ? []
          : [
              {
                addresses: [podIp(pod)],
                conditions: { ready: true, serving: true, terminating: false },
                targetRef: { kind: 'Pod', name: `pod-${pod}`, namespace: ns },
              },
            ],
    });
  }
  const svcNames = Array.from({ length: services }, (_, i) => `svc-${i}.${ns}.svc.${CLUSTER_ZONE}`);
  const outside = Array.from({ length: outsideNames }, (_, i) => `ext-${i}.example.com`);
  return {
    objects,
    hosts: svcNames.map((n, i) => `${serviceIp(i)} ${n}\n`).join(''),
    upstreamHosts: outside.map((n, i) => `${outsideIp(i)} ${n}\n`).join(''),
    clusterQueries: svcNames.map((n) => `${n} A\n`).join(''),
    forwardQueries: outside.map((n) => `${n} A\n`).join(''),
  };
}

/** podwire's Corefile: the kubernetes zone behind a cache, every other name forwarded uncached. */
export function benchCorefile(port: number, upstream: string): string {
  return `${CLUSTER_ZONE}:${port} {
    errors
    kubernetes ${CLUSTER_ZONE} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loadbalance
}
.:${port} {
    errors
    forward . ${upstream}
}
`;
}

/** dnsperf's summary: queries per second, completed and lost. */
export function parseDnsperf(out: string): { qps: number; completed: number; lost: number; avgLatencyMs: number } {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
  };
}

/** dnsperf -v: one line per answered query, `> RCODE name type seconds`; latencies in ms, sorted. */
export function parseDnsperfLatencies(out: string): number[] {
  const ms: number[] = [];
  for (const m of out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) ms.push(Number(m[1]) * 1000);
  return ms.sort((a, b) => a - b);
}

/** nearest rank */
export function rank(sorted: readonly number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : NaN;
}
