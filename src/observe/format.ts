import type { FlowEvent } from './flow-log.js';

/** Name an address the way a learner knows it: the pod's name when it is a pod. */
export type Namer = (ip: string) => string | undefined;

/** One Hubble-like text line per event. */
export function formatFlow(e: FlowEvent, name: Namer = () => undefined): string {
  const t = e.time.slice(11, 23);
  const end = (ip: string, port?: number) => {
    const n = name(ip);
    const p = port !== undefined ? `:${port}` : '';
    return n ? `${n}${p} (${ip})` : `${ip || '?'}${p}`;
  };
  const what = [e.proto, e.tcpFlags ? `[${e.tcpFlags}]` : '', e.icmpType !== undefined ? `type ${e.icmpType}` : ''].filter(Boolean).join(' ');
 const verdict = e.verdict === 'DROPPED' ? `DROPPED (${e.reason})${e.outerSrc ? ` in VXLAN ${e.outerSrc} -> ${e.outerDst}` : ''}` : `FORWARDED ${e.to === 'vxlan' ? `via vxlan to ${e.peerNode}` : 'to local pod'}`;
  return `${t}  ${e.node}  ${end(e.src, e.srcPort)} -> ${end(e.dst, e.dstPort)}  ${what}  ${verdict}  ${e.packets} pkt ${e.bytes} B`;
}

export interface FlowFilter {
  pod?: string;
  podIps?: Set<string>;
  verdict?: string;
  port?: number;
  node?: string;
}

export function matchFlow(e: FlowEvent, f: FlowFilter): boolean {
  if (f.verdict && e.verdict !== f.verdict.toUpperCase()) return false;
  if (f.node && e.node !== f.node) return false;
  if (f.port !== undefined && e.srcPort !== f.port && e.dstPort !== f.port) return false;
  if (f.podIps && !f.podIps.has(e.src) && !f.podIps.has(e.dst)) return false;
  return true;
}
