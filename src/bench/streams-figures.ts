/**
 * The arithmetic of `bench streams` (pure, so tests read it): percentiles of
 * exec round trips, throughput of one transfer, the ratios the RESULT line
 * carries.
 */

/** The q-quantile (0..1) of samples, nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  if (!samples.length) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const median = (xs: readonly number[]) => quantile(xs, 0.5);

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export interface StreamsMeasured {
  /** wall time of each `kubectl exec POD -- true`, ms */
  execMs: number[];
  /** wall time of each `kubectl get pod POD` (same kubectl, same API server, no stream): the floor exec stands on */
  getMs: number[];
  /** MB/s (10^6 bytes) of each download, per path */
  mbps: {
    /** kubectl port-forward, WebSocket tunnel (SPDY/3.1+portforward.k8s.io) */
    portForwardWs: number[];
    /** kubectl port-forward, Upgrade: SPDY/3.1 */
    portForwardSpdy: number[];
    /** curl from the pod's node to the pod's IP (cbr0 and the node's agent) */
    directSameNode: number[];
    /** curl from the other node to the pod's IP (VXLAN through both agents) */
    directOtherNode: number[];
  };
  bytes: number;
  kubectl: string;
  loadBefore: number[];
  loadAfter: number[];
}

export function streamsResult(m: StreamsMeasured) {
  const med = (k: keyof StreamsMeasured['mbps']) => r1(median(m.mbps[k]));
  const pfWs = median(m.mbps.portForwardWs);
  const pfSpdy = median(m.mbps.portForwardSpdy);
  const same = median(m.mbps.directSameNode);
  const other = median(m.mbps.directOtherNode);
  return {
    kubectl: m.kubectl,
    exec: {
      samples: m.execMs.length,
      p50Ms: r1(quantile(m.execMs, 0.5)),
      p99Ms: r1(quantile(m.execMs, 0.99)),
      getP50Ms: r1(quantile(m.getMs, 0.5)),
      /** exec's p50 over a plain `kubectl get pod`'s: what the stream (upgrade, proxy, nsenter, the command) adds */
      p50OverGet: r3(quantile(m.execMs, 0.5) / quantile(m.getMs, 0.5)),
    },
    portForward: {
      bytes: m.bytes,
      wsMBps: med('portForwardWs'),
      spdyMBps: med('portForwardSpdy'),
      directSameNodeMBps: med('directSameNode'),
      directOtherNodeMBps: med('directOtherNode'),
      wsOverDirectSameNode: r3(pfWs / same),
      spdyOverDirectSameNode: r3(pfSpdy / same),
      wsOverDirectOtherNode: r3(pfWs / other),
      spdyOverDirectOtherNode: r3(pfSpdy / other),
      wsOverSpdy: r3(pfWs / pfSpdy),
    },
    loadBefore: m.loadBefore,
    loadAfter: m.loadAfter,
  };
}

export type StreamsResult = ReturnType<typeof streamsResult>;
