import { Registry, Counter, Gauge } from 'prom-client';
import { ipv4ToString } from '../packet/index.js';
import { DROP_REASONS, type LbState, type Pipeline } from '../dataplane/index.js';
import { formatFrontend, protoName, type Backend, type Frontend } from '../lb/index.js';

export interface MetricsSource {
  node: string;
  pipeline: Pipeline;
  /** pod name by IP (uint32) */
  podName(ip: number): string | undefined;
  /** peer node name by node IP (uint32) */
  peerName(ip: number): string | undefined;
  kernelDrops(): { pods: number; underlay: number };
  internalErrors(): number;
  /** the agent's Service load balancer and conntrack (absent or null: no Service metrics) */
  services?(): LbState | null;
}

/**
 * Prometheus metrics of one agent (prom-client). Values are read from the
 * pipeline's plain counters when scraped: the hot path never touches
 * prom-client. Every series carries node="…".
 */
export function agentMetrics(src: MetricsSource): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ node: src.node });
  const c = () => src.pipeline.counters;
  // Mirror an external monotonic counter: reset, then set to the current total.
  const mirror = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (set: (labels: Record<string, string>, v: number) => void) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, v) => {
          if (v > 0) this.inc(labels, v);
        });
      },
    });

  mirror('podwire_received_frames_total', 'Frames the agent received, by port', ['port'], (set) => {
    set({ port: 'pods' }, c().podRx);
    set({ port: 'underlay' }, c().underlayRx);
  });
  mirror('podwire_received_bytes_total', 'Bytes the agent received, by port', ['port'], (set) => {
    set({ port: 'pods' }, c().podRxBytes);
    set({ port: 'underlay' }, c().underlayRxBytes);
  });
  mirror(
    'podwire_forwarded_packets_total',
    'Packets forwarded: to a local pod (frames) or over VXLAN (wire packets after segmentation)',
    ['to'],
    (set) => {
      set({ to: 'local_pod' }, c().localTx);
      set({ to: 'vxlan' }, c().vxlanTx);
    },
  );
  mirror('podwire_forwarded_bytes_total', 'Bytes forwarded, by destination kind', ['to'], (set) => {
    set({ to: 'local_pod' }, c().localTxBytes);
    set({ to: 'vxlan' }, c().vxlanTxBytes);
  });
  mirror('podwire_drops_total', 'Frames the pipeline dropped, by reason', ['reason'], (set) => {
    DROP_REASONS.forEach(([name], i) => set({ reason: name }, c().drops[i]));
  });
  mirror(
    'podwire_kernel_socket_drops_total',
    'Frames the kernel dropped before the agent read them (socket buffer full)',
    ['port'],
    (set) => {
      const k = src.kernelDrops();
      set({ port: 'pods' }, k.pods);
      set({ port: 'underlay' }, k.underlay);
    },
  );
  mirror('podwire_vxlan_packets_total', 'VXLAN packets exchanged with each peer node', ['peer', 'direction'], (set) => {
    for (const [ip, t] of src.pipeline.peerTraffic) {
      const peer = src.peerName(ip) ?? ipv4ToString(ip);
      set({ peer, direction: 'tx' }, t.txPackets);
      set({ peer, direction: 'rx' }, t.rxPackets);
    }
  });
  mirror(
    'podwire_vxlan_bytes_total',
    'VXLAN bytes (outer headers included) exchanged with each peer node',
    ['peer', 'direction'],
    (set) => {
      for (const [ip, t] of src.pipeline.peerTraffic) {
        const peer = src.peerName(ip) ?? ipv4ToString(ip);
        set({ peer, direction: 'tx' }, t.txBytes);
        set({ peer, direction: 'rx' }, t.rxBytes);
      }
    },
  );
  mirror(
    'podwire_pod_frames_total',
    'Frames per pod: sent by it (from_pod) and delivered to it (to_pod); a GSO super-frame counts once',
    ['pod', 'ip', 'direction'],
    (set) => {
      for (const [ip, t] of src.pipeline.neighbors.trafficEntries()) {
        const labels = { pod: src.podName(ip) ?? '', ip: ipv4ToString(ip) };
        set({ ...labels, direction: 'from_pod' }, t.fromPodFrames);
        set({ ...labels, direction: 'to_pod' }, t.toPodFrames);
      }
    },
  );
  mirror(
    'podwire_pod_bytes_total',
    'Bytes per pod (IP packets), sent and delivered',
    ['pod', 'ip', 'direction'],
    (set) => {
      for (const [ip, t] of src.pipeline.neighbors.trafficEntries()) {
        const labels = { pod: src.podName(ip) ?? '', ip: ipv4ToString(ip) };
        set({ ...labels, direction: 'from_pod' }, t.fromPodBytes);
        set({ ...labels, direction: 'to_pod' }, t.toPodBytes);
      }
    },
  );
  serviceMetrics(registry, src, mirror);
  policyMetrics(registry, src, mirror);
  new Gauge({
    name: 'podwire_internal_errors',
    help: 'Batches lost to an exception in the pipeline (a bug; expected 0)',
    registers: [registry],
    collect() {
      this.set(src.internalErrors());
    },
  });
  return registry;
}

type Mirror = (
  name: string,
  help: string,
  labelNames: string[],
  fill: (set: (labels: Record<string, string>, v: number) => void) => void,
) => Counter;

/** `10.96.1.2:8080/TCP`; NodePort frontends (ip 0) as `<node IP>:<nodePort>/TCP`, as `lb show` prints them */
const frontendText = (f: Frontend, nodeIp: number) =>
  formatFrontend(ipv4ToString(f.ip === 0 ? nodeIp : f.ip), f.port, f.proto);

/**
 * kube-proxy's part. Backend counters are kept per Service port, not per
 * frontend (the ClusterIP, NodePort and LoadBalancer frontends of one port
 * share their Backend objects), so those series are labelled by the port
 * (`8080/TCP`, the Service's own port), not by a frontend: one series per
 * endpoint of the Service, which is the cardinality kube-proxy's users
 * already accept for endpoints. Backend-state gauges are per frontend
 * (traffic policies make their usable sets differ).
 */
/** NetworkPolicy: verdicts per policy (read from the compiled set's counters, kept across recompiles by the agent). */
function policyMetrics(registry: Registry, src: MetricsSource, mirror: Mirror): void {
  const set = () => src.pipeline.policy;
  mirror(
    'podwire_policy_verdicts_total',
    'New connections judged by NetworkPolicy, per policy: allowed = a rule of this policy allowed it; denied = the pod was isolated by this policy (among others) and no rule allowed it',
    ['policy', 'direction', 'verdict'],
    (put) => {
      for (const p of set()?.policies ?? []) {
        put({ policy: p.key, direction: 'ingress', verdict: 'allowed' }, p.counters.ingressAllowed);
        put({ policy: p.key, direction: 'ingress', verdict: 'denied' }, p.counters.ingressDenied);
        put({ policy: p.key, direction: 'egress', verdict: 'allowed' }, p.counters.egressAllowed);
        put({ policy: p.key, direction: 'egress', verdict: 'denied' }, p.counters.egressDenied);
      }
    },
  );
  new Gauge({
    name: 'podwire_policies',
    help: "NetworkPolicies the agent enforces (the whole cluster's)",
    registers: [registry],
    collect() {
      this.set(set()?.policies.length ?? 0);
    },
  });
  new Gauge({
    name: 'podwire_policy_isolated_pods',
    help: 'Pods of the cluster that at least one NetworkPolicy selects',
    registers: [registry],
    collect() {
      this.set(set()?.isolatedPods ?? 0);
    },
  });
}

function serviceMetrics(registry: Registry, src: MetricsSource, mirror: Mirror): void {
  const lb = () => (src.services ? src.services() : src.pipeline.lb);
  /** each Backend once, with its Service and port */
  const eachBackend = (fn: (service: string, port: string, b: Backend) => void) => {
    const l = lb();
    if (!l) return;
    for (const s of l.table.services()) {
      const seen = new Set<Backend>();
      for (const f of s.frontends) {
        for (const b of f.allBackends) {
          if (seen.has(b)) continue;
          seen.add(b);
          fn(s.service, `${f.port}/${protoName(f.proto)}`, b); // the first frontend is the ClusterIP one: the Service's port
        }
      }
    }
  };
  const backendCounter = (name: string, help: string, value: (b: Backend) => number) =>
    mirror(name, help, ['service', 'port', 'backend'], (set) =>
      eachBackend((service, port, b) => set({ service, port, backend: b.name }, value(b))),
    );
  backendCounter(
    'podwire_service_backend_connections_total',
    'New connections a Service port sent to each backend',
    (b) => b.connections,
  );
  backendCounter(
    'podwire_service_backend_packets_total',
    'Packets of translated connections, per backend (both directions)',
    (b) => b.packets,
  );
  backendCounter(
    'podwire_service_backend_bytes_total',
    'Bytes (IP) of translated connections, per backend (both directions)',
    (b) => b.bytes,
  );
  new Gauge({
    name: 'podwire_service_backend_active_connections',
    help: 'Connections with a live conntrack entry, per backend (what the lc scheduler compares)',
    labelNames: ['service', 'port', 'backend'],
    registers: [registry],
    collect() {
      this.reset();
      eachBackend((service, port, b) => this.set({ service, port, backend: b.name }, b.active));
    },
  });
  new Gauge({
    name: 'podwire_service_backends',
    help: 'Endpoints of each Service frontend by state: ready, terminating (serving or not), not_ready; usable = where new flows may go after traffic policy',
    labelNames: ['service', 'frontend', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const l = lb();
      if (!l) return;
      const nodeIp = src.pipeline.id.nodeIp;
      for (const f of l.table.frontends()) {
        const labels = { service: f.service, frontend: frontendText(f, nodeIp) };
        let ready = 0;
        let terminating = 0;
        for (const b of f.allBackends) {
          if (b.terminating) terminating++;
          else if (b.ready) ready++;
        }
        this.set({ ...labels, state: 'ready' }, ready);
        this.set({ ...labels, state: 'terminating' }, terminating);
        this.set({ ...labels, state: 'not_ready' }, f.allBackends.length - ready - terminating);
        this.set({ ...labels, state: 'usable' }, f.backends.length);
      }
    },
  });
  const gauge = (name: string, help: string, value: (l: LbState) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const l = lb();
        if (l) this.set(value(l));
      },
    });
  gauge('podwire_conntrack_entries', 'Connection-tracking entries in use', (l) => l.conntrack.size);
  gauge('podwire_conntrack_max', 'Connection-tracking table limit (--conntrack-max)', (l) => l.conntrack.maxEntries);
  gauge('podwire_services', 'Services this agent proxies', (l) => l.table.serviceCount);
  gauge(
    'podwire_service_frontends',
    'Service frontends (ClusterIP, NodePort, LoadBalancer, external IPs) this agent answers for',
    (l) => l.table.frontendCount,
  );
  const total = (name: string, help: string, value: (l: LbState) => number) =>
    mirror(name, help, [], (set) => {
      const l = lb();
      if (l) set({}, value(l));
    });
  total(
    'podwire_conntrack_insert_failed_total',
    'New flows refused because the conntrack table was full (drop reason conntrack-full)',
    (l) => l.conntrack.stats.insertFailed,
  );
  total(
    'podwire_conntrack_expired_total',
    'Conntrack entries removed by their timeout',
    (l) => l.conntrack.stats.expired,
  );
  total(
    'podwire_lb_rejected_total',
    'Connections refused (TCP reset / ICMP port unreachable) for a Service without endpoints or port',
    (l) => l.stats.rejected,
  );
  total('podwire_service_new_flows_total', 'New flows translated to a Service backend', (l) => l.stats.newServiceFlows);
  total(
    'podwire_masquerade_new_flows_total',
    'New pod flows to outside the cluster masqueraded to the node address',
    (l) => l.stats.newMasqueradeFlows,
  );
  total(
    'podwire_service_affinity_hits_total',
    'New flows sent to a backend by sessionAffinity ClientIP',
    (l) => l.stats.affinityHits,
  );
}
