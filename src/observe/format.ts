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
  if (e.dns) return `${t}  ${e.node}  ${formatDns(e, end)}`;
  const what = [e.proto, e.tcpFlags ? `[${e.tcpFlags}]` : '', e.icmpType !== undefined ? `type ${e.icmpType}` : '']
    .filter(Boolean)
    .join(' ');
  if (e.verdict === 'TRANSLATED') {
    // client -> what it asked for => where it goes (and as whom, when the source changes too)
    const snat = e.nat === 'dnat+snat' || e.nat === 'masquerade' ? ` SNAT ${e.newSrc}:${e.newSrcPort}` : '';
    if (e.nat === 'masquerade') {
      return `${t}  ${e.node}  masquerade: ${end(e.src, e.srcPort)} -> ${end(e.dst, e.dstPort)}${snat}  ${what}  TRANSLATED (masquerade)`;
    }
    const backend = `${e.newDst}:${e.newDstPort}${e.backend ? ` (${e.backend})` : ''}`;
    return `${t}  ${e.node}  ${e.service}: ${end(e.src, e.srcPort)} -> ${e.dst}:${e.dstPort} => ${backend}${snat}  ${what}  TRANSLATED (${e.frontendType ?? 'Service'})`;
  }
  if (e.kind === 'policy-verdict') {
    return `${t}  ${e.node}  policy-verdict: ${end(e.src, e.srcPort)} -> ${end(e.dst, e.dstPort)}  ${what}  ${(e.direction ?? '').toUpperCase()} ALLOWED by ${e.policy} ${e.policyRule}`;
  }
  const verdict =
    e.verdict === 'DROPPED'
      ? `DROPPED (${e.reason}${e.detail ? `: ${e.detail}` : ''})${e.outerSrc ? ` in VXLAN ${e.outerSrc} -> ${e.outerDst}` : ''}`
      : `FORWARDED ${e.to === 'vxlan' ? `via vxlan to ${e.peerNode}` : e.to === 'underlay' ? 'out of eth0' : 'to local pod'}${e.service ? ` (Service ${e.service})` : ''}`;
  return `${t}  ${e.node}  ${end(e.src, e.srcPort)} -> ${end(e.dst, e.dstPort)}  ${what}  ${verdict}  ${e.packets} pkt ${e.bytes} B`;
}

/**
 * A DNS event, as Hubble prints its DNS layer: the query (name, type, the
 * search expansion it looks like), or the answer (rcode, records, latency).
 */
function formatDns(e: FlowEvent, end: (ip: string, port?: number) => string): string {
  const d = e.dns!;
  const via = d.expansion ? `  [${d.expansion}]` : '';
  const svc = e.service ? `  (Service ${e.service})` : '';
  if (e.kind === 'dns-unanswered')
    return `${end(e.src, e.srcPort)}  DNS query ${d.type} ${d.name} got no answer in ${d.latencyMs} ms${via}`;
  const flow = `${end(e.src, e.srcPort)} -> ${end(e.dst, e.dstPort)}  ${e.proto}`;
  if (e.kind === 'dns-query') return `${flow}  DNS query ${d.type} ${d.name}${via}${svc}`;
  const answers = d.answers?.length ? ` ${d.answers.join(', ')}` : '';
  const latency = d.latencyMs !== undefined ? ` ${d.latencyMs} ms` : '';
  return `${flow}  DNS answer ${d.rcode} ${d.type} ${d.name}${answers}${d.truncated ? ' (truncated)' : ''}${latency}${via}${svc}`;
}

export interface FlowFilter {
  /** DNS events only (queries, answers, unanswered queries) */
  dns?: boolean;
  pod?: string;
  podIps?: Set<string>;
  verdict?: string;
  port?: number;
  node?: string;
  /** a Service: "name" (any namespace) or "namespace/name"; its translations, the flows they start, and drops about it */
  service?: string;
  /** a NetworkPolicy ("name" or "namespace/name"): what it allowed, and drops of pods it isolates */
  policy?: string;
}

/** Is `service` ("ns/name") the one a filter names ("name" or "ns/name")? */
export function serviceMatches(service: string | undefined, want: string): boolean {
  if (!service) return false;
  return service === want || (!want.includes('/') && service.endsWith(`/${want}`));
}

export function matchFlow(e: FlowEvent, f: FlowFilter): boolean {
  if (f.dns && !e.dns) return false;
  if (f.verdict && e.verdict !== f.verdict.toUpperCase()) return false;
  if (f.node && e.node !== f.node) return false;
  if (f.port !== undefined && e.srcPort !== f.port && e.dstPort !== f.port && e.newDstPort !== f.port) return false;
  if (f.podIps && !f.podIps.has(e.src) && !f.podIps.has(e.dst) && !(e.newDst && f.podIps.has(e.newDst))) return false;
  if (
    f.service &&
    !serviceMatches(e.service, f.service) &&
    !(e.verdict === 'DROPPED' && serviceMatches(e.detail, f.service))
  )
    return false;
  if (
    f.policy &&
    !serviceMatches(e.policy, f.policy) &&
    !(e.verdict === 'DROPPED' && isolatedByMentions(e.detail, f.policy))
  )
    return false;
  return true;
}

/** Does a policy drop's detail ("… denied: isolated by x/a, x/b; no rule allowed it") name this policy? */
function isolatedByMentions(detail: string | undefined, want: string): boolean {
  const m = detail ? /isolated by ([^;]+);/.exec(detail) : null;
  return !!m && m[1].split(', ').some((p) => serviceMatches(p, want));
}
