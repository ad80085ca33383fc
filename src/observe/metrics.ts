import { Registry, Counter, Gauge } from 'prom-client';
import { ipv4ToString } from '../packet/index.js';
import { DROP_REASONS, type Pipeline } from '../dataplane/index.js';

export interface MetricsSource {
  node: string;
  pipeline: Pipeline;
  /** pod name by IP (uint32) */
  podName(ip: number): string | undefined;
  /** peer node name by node IP (uint32) */
  peerName(ip: number): string | undefined;
  kernelDrops(): { pods: number; underlay: number };
  internalErrors(): number;
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
  const mirror = (name: string, help: string, labelNames: string[], fill: (set: (labels: Record<string, string>, v: number) => void) => void) =>
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
  mirror('podwire_forwarded_packets_total', 'Packets forwarded: to a local pod (frames) or over VXLAN (wire packets after segmentation)', ['to'], (set) => {
    set({ to: 'local_pod' }, c().localTx);
    set({ to: 'vxlan' }, c().vxlanTx);
  });
  mirror('podwire_forwarded_bytes_total', 'Bytes forwarded, by destination kind', ['to'], (set) => {
    set({ to: 'local_pod' }, c().localTxBytes);
    set({ to: 'vxlan' }, c().vxlanTxBytes);
  });
  mirror('podwire_drops_total', 'Frames the pipeline dropped, by reason', ['reason'], (set) => {
    DROP_REASONS.forEach(([name], i) => set({ reason: name }, c().drops[i]));
  });
  mirror('podwire_kernel_socket_drops_total', 'Frames the kernel dropped before the agent read them (socket buffer full)', ['port'], (set) => {
    const k = src.kernelDrops();
    set({ port: 'pods' }, k.pods);
    set({ port: 'underlay' }, k.underlay);
  });
  mirror('podwire_vxlan_packets_total', 'VXLAN packets exchanged with each peer node', ['peer', 'direction'], (set) => {
    for (const [ip, t] of src.pipeline.peerTraffic) {
      const peer = src.peerName(ip) ?? ipv4ToString(ip);
      set({ peer, direction: 'tx' }, t.txPackets);
      set({ peer, direction: 'rx' }, t.rxPackets);
    }
  });
  mirror('podwire_vxlan_bytes_total', 'VXLAN bytes (outer headers included) exchanged with each peer node', ['peer', 'direction'], (set) => {
    for (const [ip, t] of src.pipeline.peerTraffic) {
      const peer = src.peerName(ip) ?? ipv4ToString(ip);
      set({ peer, direction: 'tx' }, t.txBytes);
      set({ peer, direction: 'rx' }, t.rxBytes);
    }
  });
  mirror('podwire_pod_frames_total', 'Frames per pod: sent by it (from_pod) and delivered to it (to_pod); a GSO super-frame counts once', ['pod', 'ip', 'direction'], (set) => {
    for (const [ip, t] of src.pipeline.neighbors.trafficEntries()) {
      const labels = { pod: src.podName(ip) ?? '', ip: ipv4ToString(ip) };
      set({ ...labels, direction: 'from_pod' }, t.fromPodFrames);
      set({ ...labels, direction: 'to_pod' }, t.toPodFrames);
    }
  });
  mirror('podwire_pod_bytes_total', 'Bytes per pod (IP packets), sent and delivered', ['pod', 'ip', 'direction'], (set) => {
    for (const [ip, t] of src.pipeline.neighbors.trafficEntries()) {
      const labels = { pod: src.podName(ip) ?? '', ip: ipv4ToString(ip) };
      set({ ...labels, direction: 'from_pod' }, t.fromPodBytes);
      set({ ...labels, direction: 'to_pod' }, t.toPodBytes);
    }
  });
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
