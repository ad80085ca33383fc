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
  if (e.verdict === 'TRANSLATED') {
    // client -> what it asked for => where it goes (and as whom, when the source changes too)
    const snat = e.nat === 'dnat+snat' || e.nat === 'masquerade' ? ` SNAT ${e.newSrc}:${e.newSrcPort}` : '';
    if (e.nat === 'masquerade') {
      return `${t}  ${e.node}  masquerade: ${end(e.src, e.srcPort)} -> ${end(e.dst, e.dstPort)}${snat}  ${what}  TRANSLATED (masquerade)`;
    }
    const backend = `${e.newDst}:${e.newDstPort}${e.backend ? ` (${e.backend})` : ''}`;
    return `${t}  ${e.node}  ${e.service}: ${end(e.src, e.srcPort)} -> ${e.dst}:${e.dstPort} => ${backend}${snat}  ${what}  TRANSLATED (${e.frontendType ?? 'Service'})`;
  }
  const verdict =
    e.verdict === 'DROPPED'
      ? `DROPPED (${e.reason}${e.detail ? `: ${e.detail}` : ''})${e.outerSrc ? ` in VXLAN ${e.outerSrc} -> ${e.outerDst}` : ''}`
      : `FORWARDED ${e.to === 'vxlan' ? `via vxlan to ${e.peerNode}` : e.to === 'underlay' ? 'out of eth0' : 'to local pod'}${e.service ? ` (Service ${e.service})` : ''}`;
  return `${t}  ${e.node}  ${end(e.src, e.srcPort)} -> ${end(e.dst, e.dstPort)}  ${what}  ${verdict}  ${e.packets} pkt ${e.bytes} B`;
}

export interface FlowFilter {
  pod?: string;
  podIps?: Set<string>;
  verdict?: string;
  port?: number;
  node?: string;
  /** a Service: "name" (any namespace) or "namespace/name"; its translations, the flows they start, and drops about it */
  service?: string;
}

/** Is `service` ("ns/name") the one a filter names ("name" or "ns/name")? */
export function serviceMatches(service: string | undefined, want: string): boolean {
  if (!service) return false;
  return service === want || (!want.includes('/') && service.endsWith(`/${want}`));
}

export function matchFlow(e: FlowEvent, f: FlowFilter): boolean {
  if (f.verdict && e.verdict !== f.verdict.toUpperCase()) return false;
  if (f.node && e.node !== f.node) return false;
  if (f.port !== undefined && e.srcPort !== f.port && e.dstPort !== f.port && e.newDstPort !== f.port) return false;
  if (f.podIps && !f.podIps.has(e.src) && !f.podIps.has(e.dst) && !(e.newDst && f.podIps.has(e.newDst))) return false;
  if (f.service && !serviceMatches(e.service, f.service) && !(e.verdict === 'DROPPED' && serviceMatches(e.detail, f.service))) return false;
  return true;
}
