import { connectLatency, iperfGbps, type ConnectLatency } from './measure.js';
import { describeLatency } from './services-objects.js';
import { HTTP_PORT, IPERF_PORT } from './netpol-mix.js';

/**
 * One visit to one condition of `bench netpol` (kernel, podwire with 0 or
 * with 1,000 policies): the client pod → server pod pair's iperf3
 * throughput (best of `rounds`) and connect() latency to the server's
 * port 80 (SYN → SYN-ACK, connect-latency.c). A condition visited more
 * than once (podwire's two, taking turns) keeps the best of its visits —
 * the one other load on the shared machine disturbed least — and each
 * visit's figures, so the spread shows. A control pod beside the server
 * (same node, selected by no policy) separates what the server's verdict
 * costs from what merely holding 1,000 policies does.
 */
export interface Visit {
  gbps: number;
  latency: ConnectLatency;
  /** connect() to the control pod, when the pair has one */
  control?: ConnectLatency;
}

export interface Condition {
  gbps: number;
  p50Us: number;
  p99Us: number;
  failures: number;
  retransmitted: number;
  visits: { gbps: number; p50Us: number; p99Us: number }[];
  /** the control pod's best p50 (NaN without one) */
  controlP50Us: number;
}

export interface Pair {
  clientNs: string;
  serverNs: string;
  serverIp: string;
  /** a pod on the server's node that no policy selects (nginx :80): its connect() latency beside the server's, in the same visit */
  controlIp?: string;
}

export async function visit(
  pair: Pair,
  o: { rounds: number; seconds: number; samples: number; connectBin: string; dir: string },
  what: string,
  log: (m: string) => void,
): Promise<Visit> {
  let gbps = 0;
  for (let i = 0; i < o.rounds; i++)
    gbps = Math.max(gbps, await iperfGbps(pair.serverNs, pair.clientNs, pair.serverIp, o.seconds, IPERF_PORT));
  const latency = await connectLatency(o.connectBin, pair.clientNs, [pair.serverIp], HTTP_PORT, o.samples, o.dir);
  log(
    `  ${what}: iperf3 ${gbps.toFixed(2)} Gbit/s (best of ${o.rounds} × ${o.seconds} s); connect() ${describeLatency(latency)}`,
  );
  if (!pair.controlIp) return { gbps, latency };
  const control = await connectLatency(o.connectBin, pair.clientNs, [pair.controlIp], HTTP_PORT, o.samples, o.dir);
  log(`    control, connect() to ${pair.controlIp} (same node, no policy selects it): ${describeLatency(control)}`);
  return { gbps, latency, control };
}

export function conditionOf(visits: readonly Visit[]): Condition {
  return {
    gbps: Math.max(...visits.map((v) => v.gbps)),
    p50Us: Math.min(...visits.map((v) => v.latency.p50Us)),
    p99Us: Math.min(...visits.map((v) => v.latency.p99Us)),
    failures: visits.reduce((s, v) => s + v.latency.failures, 0),
    retransmitted: visits.reduce((s, v) => s + v.latency.retransmitted, 0),
    visits: visits.map((v) => ({ gbps: v.gbps, p50Us: v.latency.p50Us, p99Us: v.latency.p99Us })),
    controlP50Us: visits.every((v) => v.control) ? Math.min(...visits.map((v) => v.control!.p50Us)) : NaN,
  };
}
