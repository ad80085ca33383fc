import type { KubeObject } from '../control/client/index.js';
import type { ConnectLatency } from './measure.js';

/**
 * The objects `bench services` writes, the same for podwire's API server
 * and for the kernel side's iptables rules: Services without a selector,
 * each with one hand-written EndpointSlice naming the same 4 real backend
 * pods (a Deployment's), as a controller or an operator would write them.
 */
export const BENCH_NS = 'default';
export const SERVICE_PORT = 80;
export const BACKEND_PORT = 80;

export interface BenchPod {
  name: string;
  ip: string;
  node: string;
}

export const benchServiceName = (i: number) => `bench-${String(i).padStart(5, '0')}`;

export function benchService(name: string, port = SERVICE_PORT, targetPort = BACKEND_PORT): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: BENCH_NS, labels: { app: 'svcbench' } },
    spec: { ports: [{ port, targetPort, protocol: 'TCP' }] },
  };
}

export function benchSlice(service: string, backends: readonly BenchPod[], port = BACKEND_PORT): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-bench`,
      namespace: BENCH_NS,
      labels: { 'kubernetes.io/service-name': service, app: 'svcbench' },
    },
    addressType: 'IPv4',
    ports: [{ name: '', port, protocol: 'TCP' }],
    endpoints: backends.map((b) => ({
      addresses: [b.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: b.node,
      targetRef: { kind: 'Pod', namespace: BENCH_NS, name: b.name },
    })),
  };
}

/** Runs `fn` over `items`, `width` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  width: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function describeLatency(l: ConnectLatency): string {
  const lost = l.retransmitted
    ? `; ${l.retransmitted} waited for a SYN retransmission (≥ 1 s), p99 of the rest ${l.p99FirstSynUs} µs`
    : '';
  return `p50 ${l.p50Us} µs, p99 ${l.p99Us} µs (${l.samples} samples, ${l.failures} failed, ${l.portsReused} on a source port used before${lost})`;
}
