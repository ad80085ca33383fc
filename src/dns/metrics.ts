import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The DNS server's Prometheus metrics under CoreDNS's names and labels
 * (CoreDNS 1.10's label sets, before the `view` label), in a registry of
 * their own: one per process, kept across reloads as CoreDNS keeps its
 * global registry. Served by the `prometheus` plugin at /metrics.
 */

/** CoreDNS's plugin.TimeBuckets: 0.25 ms … 8 s, doubling */
const TIME_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
const SIZE_BUCKETS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

/** Query types CoreDNS counts by name; the rest are "other". */
const MONITORED_TYPES = new Set([
  'A',
  'AAAA',
  'CNAME',
  'DNSKEY',
  'DS',
  'MX',
  'NSEC3',
  'NSEC',
  'NS',
  'PTR',
  'RRSIG',
  'SOA',
  'SRV',
  'TXT',
  'HTTPS',
  'SVCB',
  'IXFR',
  'AXFR',
  'ANY',
]);
export const qtypeLabel = (t: string): string => (MONITORED_TYPES.has(t) ? t : 'other');

export class DnsMetrics {
  readonly registry = new Registry();
  private readonly reg = [this.registry];

  readonly requests = new Counter({
    name: 'coredns_dns_requests_total',
    help: 'Counter of DNS requests made per zone, protocol and family.',
    labelNames: ['server', 'zone', 'proto', 'family', 'type'],
    registers: this.reg,
  });
  readonly doRequests = new Counter({
    name: 'coredns_dns_do_requests_total',
    help: 'Counter of DNS requests with DO bit set per zone.',
    labelNames: ['server', 'zone'],
    registers: this.reg,
  });
  readonly responses = new Counter({
    name: 'coredns_dns_responses_total',
    help: 'Counter of response status codes.',
    labelNames: ['server', 'zone', 'rcode', 'plugin'],
    registers: this.reg,
  });
  readonly duration = new Histogram({
    name: 'coredns_dns_request_duration_seconds',
    help: 'Histogram of the time (in seconds) each request took per zone.',
    labelNames: ['server', 'zone', 'type'],
    buckets: TIME_BUCKETS,
    registers: this.reg,
  });
  readonly requestSize = new Histogram({
    name: 'coredns_dns_request_size_bytes',
    help: 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.',
    labelNames: ['server', 'zone', 'proto'],
    buckets: SIZE_BUCKETS,
    registers: this.reg,
  });
  readonly responseSize = new Histogram({
    name: 'coredns_dns_response_size_bytes',
    help: 'Size of the returned response in bytes.',
    labelNames: ['server', 'zone', 'proto'],
    buckets: SIZE_BUCKETS,
    registers: this.reg,
  });
  readonly panics = new Counter({
    name: 'coredns_panics_total',
    help: 'A metrics that counts the number of panics.',
    registers: this.reg,
  });

  readonly cacheHits = new Counter({
    name: 'coredns_cache_hits_total',
    help: 'The count of cache hits.',
    labelNames: ['server', 'type'],
    registers: this.reg,
  });
  readonly cacheMisses = new Counter({
    name: 'coredns_cache_misses_total',
    help: 'The count of cache misses.',
    labelNames: ['server'],
    registers: this.reg,
  });
  readonly cacheEntries = new Gauge({
    name: 'coredns_cache_entries',
    help: 'The number of elements in the cache.',
    labelNames: ['server', 'type'],
    registers: this.reg,
  });

  readonly forwardRequests = new Counter({
    name: 'coredns_forward_requests_total',
    help: 'Counter of requests made per upstream.',
    labelNames: ['to'],
    registers: this.reg,
  });
  readonly forwardResponses = new Counter({
    name: 'coredns_forward_responses_total',
    help: 'Counter of responses received per upstream.',
    labelNames: ['to', 'rcode'],
    registers: this.reg,
  });
  readonly forwardDuration = new Histogram({
    name: 'coredns_forward_request_duration_seconds',
    help: 'Histogram of the time each request took.',
    labelNames: ['to'],
    buckets: TIME_BUCKETS,
    registers: this.reg,
  });
  readonly forwardHealthcheckFailures = new Counter({
    name: 'coredns_forward_healthcheck_failures_total',
    help: 'Counter of the number of failed healthchecks.',
    labelNames: ['to'],
    registers: this.reg,
  });
  readonly forwardHealthcheckBroken = new Counter({
    name: 'coredns_forward_healthcheck_broken_total',
    help: 'Counter of the number of complete failures of the healthchecks.',
    registers: this.reg,
  });
  readonly forwardMaxConcurrentRejects = new Counter({
    name: 'coredns_forward_max_concurrent_rejects_total',
    help: 'Counter of the number of queries rejected because the concurrent queries were at maximum.',
    registers: this.reg,
  });

  readonly reloadFailed = new Counter({
    name: 'coredns_reload_failed_total',
    help: 'Counter of the number of failed reload attempts.',
    registers: this.reg,
  });
  readonly buildInfo = new Gauge({
    name: 'coredns_build_info',
    help: "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
    labelNames: ['version', 'revision', 'goversion'],
    registers: this.reg,
  });
  readonly pluginEnabled = new Gauge({
    name: 'coredns_plugin_enabled',
    help: 'A metric that indicates whether a plugin is enabled on per server and zone basis.',
    labelNames: ['server', 'zone', 'name'],
    registers: this.reg,
  });

  /** podwire's own: datagrams and TCP messages dropped before the chain (garbage, overload), by reason */
  readonly dropped = new Counter({
    name: 'podwire_dns_dropped_total',
    help: 'Messages the server dropped without answering, by reason (garbage, overload).',
    labelNames: ['server', 'reason'],
    registers: this.reg,
  });

  constructor(version = 'podwire') {
    this.buildInfo.set({ version, revision: 'podwire', goversion: `node${process.versions.node}` }, 1);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
