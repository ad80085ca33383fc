import {
  dissectFrame,
  ETHERNET_HEADER_SIZE,
  ipProtocolName,
  Ipv4View,
  TcpView,
  UdpView,
  ipv4ToString,
  type DissectOptions,
  type FrameSummary,
} from '../packet/index.js';
import {
  dropReasonName,
  FWD_LOCAL_POD,
  FWD_VXLAN,
  type NatEvent,
  type PipelineTracer,
  type PolicyEvent,
} from '../dataplane/index.js';
import { DnsWatch, type DnsInfo } from './dns-watch.js';

/**
 * A Hubble-style flow log fed by the pipeline's trace points. Like Cilium's
 * monitor aggregation it does not print every packet: it emits one event per
 * drop, per new flow, per TCP SYN/FIN/RST, and once a second per active flow
 * with the packets and bytes since the last event.
 */
export interface FlowEvent {
  time: string;
  node: string;
  /** TRANSLATED: a new flow through a Service frontend or masquerade (Hubble's verdict for service translation) */
  verdict: 'FORWARDED' | 'DROPPED' | 'TRANSLATED';
  reason?: string;
  /** what a drop is about, when the stage names it: the Service ("default/web"), the address … */
  detail?: string;
  /** new | update | flags | drop | translated | policy-verdict | dns-query | dns-response | dns-unanswered */
  kind: string;
  proto: string;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: string;
  icmpType?: number;
  /** local-pod | vxlan | underlay (out of eth0, not tunnelled: masqueraded, or a reply to an outside client) */
  to?: string;
  peerNode?: string;
  /** from-pods | from-underlay */
  from: string;
  /** for a dropped VXLAN frame: its outer addresses (src/dst above are the inner packet's) */
  outerSrc?: string;
  outerDst?: string;
  /** "namespace/name": on translated events, and on the flows a Service translation started */
  service?: string;
  /** translated: the frontend asked (`10.96.1.2:8080/TCP`), its kind (ClusterIP, NodePort, LoadBalancer, ExternalIP) */
  frontend?: string;
  frontendType?: string;
  /** translated: dnat (to a Service backend), dnat+snat (source rewritten too: hairpin, external, off-cluster backend), masquerade */
  nat?: string;
  /** translated: the flow after the translation (src/dst above are the client's view) */
  newSrc?: string;
  newSrcPort?: number;
  newDst?: string;
  newDstPort?: number;
  /** translated: the backend chosen (pod name, or ip:port) */
  backend?: string;
  /** policy-verdict: the policy ("ns/name") and rule ("ingress[0]") that allowed a new connection, and the side judged */
  policy?: string;
  policyRule?: string;
  direction?: 'ingress' | 'egress';
  /** dns-*: the DNS message (on the client's node: queries from its pods, responses to them) */
  dns?: DnsInfo;
  packets: number;
  bytes: number;
}

interface Flow {
  event: FlowEvent;
  packets: number;
  bytes: number;
  lastSeenMs: number;
}

export function tcpFlagNames(flags: number): string {
  const names: string[] = [];
  if (flags & 0x02) names.push('SYN');
  if (flags & 0x10) names.push('ACK');
  if (flags & 0x01) names.push('FIN');
  if (flags & 0x04) names.push('RST');
  if (flags & 0x08) names.push('PSH');
  return names.join('|');
}

/** Parse what a flow event needs from a frame; never throws (bytes may be garbage). */
export function describeFrame(buf: Buffer, off: number, len: number, opts: DissectOptions = {}): Partial<FlowEvent> {
  return describeSummary(dissectFrame(buf, off, len, opts));
}

/** A decoded frame as a flow event's fields (its outer packet; the caller picks a VXLAN frame's inner one). */
export function describeSummary(s: FrameSummary): Partial<FlowEvent> {
  if (!s.eth) return { proto: 'truncated', src: '', dst: '' };
  if (s.arp) return { proto: 'ARP', src: ipv4ToString(s.arp.senderIp), dst: ipv4ToString(s.arp.targetIp) };
  const ip = s.ipv4;
  if (!ip) return { proto: `ethertype 0x${s.eth.etherType.toString(16).padStart(4, '0')}`, src: '', dst: '' };
  const out: Partial<FlowEvent> = {
    proto: ipProtocolName(ip.protocol),
    src: ipv4ToString(ip.src),
    dst: ipv4ToString(ip.dst),
  };
  const l4 = s.tcp ?? s.udp;
  if (l4) {
    out.srcPort = l4.srcPort;
    out.dstPort = l4.dstPort;
    if (s.tcp) out.tcpFlags = tcpFlagNames(s.tcp.flags);
  } else if (s.icmp) {
    out.icmpType = s.icmp.type;
  }
  return out;
}

export class FlowLog implements PipelineTracer {
  private readonly flows = new Map<string, Flow>();
  /** flow key (as forwarded() sees it) -> the Service whose translation started it, until that flow's first packet */
  private readonly serviceOf = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly dnsWatch: DnsWatch;
  /** the agent's VXLAN port, to find the pod packet in a dropped underlay frame */
  private readonly dissect: DissectOptions;
  private readonly ip = new Ipv4View();
  private readonly udp = new UdpView();
  private readonly tcp = new TcpView();

  constructor(
    private readonly node: string,
    private readonly emit: (e: FlowEvent) => void,
    private readonly clock: () => number = Date.now,
    private readonly idleMs = 30_000,
    /** DNS decoding: the client pods' search lists (for which expansion a name is), a monotonic clock for latencies; the agent's VXLAN port */
    dns: { searchOf?: (ip: string) => string[] | undefined; monoMs?: () => number; vxlanPort?: number } = {},
  ) {
    this.dnsWatch = new DnsWatch(dns.searchOf, dns.monoMs);
    this.dissect = { vxlanPort: dns.vxlanPort };
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private base(port: number): Pick<FlowEvent, 'time' | 'node' | 'from'> {
    return {
      time: new Date(this.clock()).toISOString(),
      node: this.node,
      from: port === 0 ? 'from-pods' : 'from-underlay',
    };
  }

  dropped(reason: number, port: number, buf: Buffer, off: number, len: number, detail?: string): void {
    const s = dissectFrame(buf, off, len, this.dissect);
    let d = describeSummary(s);
    let outer: Pick<FlowEvent, 'outerSrc' | 'outerDst'> = {};
    // A dropped underlay frame is VXLAN: describe the pod packet inside, keep the outer addresses.
    if (port !== 0 && s.vxlan) {
      outer = { outerSrc: d.src, outerDst: d.dst };
      d = describeSummary(s.vxlan.inner);
    }
    this.emit({
      ...this.base(port),
      verdict: 'DROPPED',
      reason: dropReasonName(reason),
      ...(detail ? { detail } : {}),
      kind: 'drop',
      proto: d.proto ?? '?',
      src: d.src ?? '',
      dst: d.dst ?? '',
      ...(d.srcPort !== undefined ? { srcPort: d.srcPort, dstPort: d.dstPort } : {}),
      ...(d.tcpFlags ? { tcpFlags: d.tcpFlags } : {}),
      ...(d.icmpType !== undefined ? { icmpType: d.icmpType } : {}),
      ...outer,
      packets: 1,
      bytes: len,
    });
  }

  /**
   * A new translated flow (once per flow): one TRANSLATED event, client ->
   * frontend => backend. The FORWARDED flows it starts (the translated
   * direction, and the replies once they have their Service address back)
   * carry the Service's name too.
   */
  natCreated(n: NatEvent): void {
    const snat = n.newSrc !== n.src || n.newSport !== n.sport;
    this.emit({
      time: new Date(this.clock()).toISOString(),
      node: this.node,
      from: n.fromUnderlay ? 'from-underlay' : 'from-pods',
      verdict: 'TRANSLATED',
      kind: 'translated',
      proto: ipProtocolName(n.proto),
      src: ipv4ToString(n.src),
      srcPort: n.sport,
      dst: ipv4ToString(n.dst),
      dstPort: n.dport,
      ...(n.service ? { service: n.service } : {}),
      ...(n.frontend ? { frontend: n.frontend, frontendType: n.frontendType } : {}),
      nat: n.kind === 'masquerade' ? 'masquerade' : snat ? 'dnat+snat' : 'dnat',
      newSrc: ipv4ToString(n.newSrc),
      newSrcPort: n.newSport,
      newDst: ipv4ToString(n.newDst),
      newDstPort: n.newDport,
      ...(n.backend ? { backend: n.backend } : {}),
      packets: 1,
      bytes: 0,
    });
    if (n.dport === 53 && snat)
      this.dnsWatch.aliasClient(ipv4ToString(n.newSrc), n.newSport, n.proto, ipv4ToString(n.src), n.sport);
    if (!n.service) return;
    const ports = (a: number, b: number) => ((a << 16) | b) >>> 0;
    this.tagFlow(`${n.newSrc >>> 0}>${n.newDst >>> 0}/${n.proto}/${ports(n.newSport, n.newDport)}`, n.service);
    this.tagFlow(`${n.dst >>> 0}>${n.src >>> 0}/${n.proto}/${ports(n.dport, n.sport)}`, n.service);
  }

  /**
   * A NetworkPolicy rule allowed a new connection of an isolated pod (as
   * Hubble's policy-verdict events): once per connection, on the node that
   * judged that side. Denials come as DROPPED events with the policies.
   */
  policyAllowed(p: PolicyEvent): void {
    const [src, dst] = p.direction === 'ingress' ? [p.peer, p.pod] : [p.pod, p.peer];
    this.emit({
      time: new Date(this.clock()).toISOString(),
      node: this.node,
      from: 'from-pods',
      verdict: 'FORWARDED',
      kind: 'policy-verdict',
      proto: ipProtocolName(p.proto),
      src: ipv4ToString(src),
      dst: ipv4ToString(dst),
      ...(p.proto !== 1 ? { srcPort: p.sport, dstPort: p.dport } : {}),
      policy: p.policy,
      policyRule: p.rule,
      direction: p.direction,
      detail: p.text,
      packets: 1,
      bytes: 0,
    });
  }

  private tagFlow(key: string, service: string): void {
    const flow = this.flows.get(key);
    if (flow) flow.event.service = service;
    else {
      if (this.serviceOf.size >= 4096) this.serviceOf.clear(); // flows that never got forwarded (dropped after NAT): forget them
      this.serviceOf.set(key, service);
    }
  }

  forwarded(
    to: number,
    port: number,
    buf: Buffer,
    off: number,
    len: number,
    peerNodeIp: number,
    segments: number,
  ): void {
    const ip = this.ip.wrap(buf, off + ETHERNET_HEADER_SIZE, len - ETHERNET_HEADER_SIZE);
    const proto = ip.protocol;
    const l4 = ip.payloadOffset;
    const udp = this.udp.wrap(buf, l4, 0); // the port fields are the same in TCP's header
    const ports = proto === 6 || proto === 17 ? ((udp.srcPort << 16) | udp.dstPort) >>> 0 : 0;
    const key = `${ip.src}>${ip.dst}/${proto}/${ports}`;
    const now = this.clock();
    let flow = this.flows.get(key);
    const flags = proto === 6 ? this.tcp.wrap(buf, l4, 0).flags : 0;
    if (!flow) {
      const d = describeFrame(buf, off, len, this.dissect);
      const event: FlowEvent = {
        ...this.base(port),
        verdict: 'FORWARDED',
        kind: 'new',
        proto: d.proto ?? '?',
        src: d.src ?? '',
        dst: d.dst ?? '',
        ...(d.srcPort !== undefined ? { srcPort: d.srcPort, dstPort: d.dstPort } : {}),
        ...(d.icmpType !== undefined ? { icmpType: d.icmpType } : {}),
        to: to === FWD_LOCAL_POD ? 'local-pod' : to === FWD_VXLAN ? 'vxlan' : 'underlay',
        ...(to === FWD_VXLAN ? { peerNode: ipv4ToString(peerNodeIp) } : {}),
        packets: 0,
        bytes: 0,
      };
      const service = this.serviceOf.get(key);
      if (service !== undefined) {
        event.service = service;
        this.serviceOf.delete(key);
      }
      flow = { event, packets: 0, bytes: 0, lastSeenMs: now };
      this.flows.set(key, flow);
      flow.packets += segments;
      flow.bytes += len - 14;
      this.flush(flow, 'new', flags);
    } else {
      flow.packets += segments;
      flow.bytes += len - 14;
      flow.lastSeenMs = now;
      if (flags & 0x07) this.flush(flow, 'flags', flags); // SYN, FIN, RST are worth a line each
    }
    if ((proto === 17 || proto === 6) && (ports >>> 16 === 53 || (ports & 0xffff) === 53))
      this.dnsFrame(flow, to, port, buf, off, len, l4, proto as 6 | 17);
  }

  /**
   * A port-53 frame: a DNS event on the client's node only — a query as it
   * leaves a local pod, a response as it is delivered to one — so each
   * exchange is shown once, however many nodes it crosses.
   */
  private dnsFrame(
    flow: Flow,
    to: number,
    port: number,
    buf: Buffer,
    off: number,
    len: number,
    l4: number,
    proto: 6 | 17,
  ): void {
    const ip = this.ip.wrap(buf, off + ETHERNET_HEADER_SIZE, len - ETHERNET_HEADER_SIZE);
    const end = Math.min(off + len, ip.off + ip.totalLength);
    const udp = this.udp.wrap(buf, l4, 0);
    const toServer = udp.dstPort === 53;
    if (toServer ? port !== 0 : to !== FWD_LOCAL_POD) return;
    const start = proto === 17 ? udp.payloadOffset : l4 + this.tcp.wrap(buf, l4, 0).dataOffsetBytes;
    if (start >= end) return;
    const info = this.dnsWatch.see({
      proto,
      payload: buf.subarray(start, end),
      clientIp: ipv4ToString(toServer ? ip.src : ip.dst),
      clientPort: toServer ? udp.srcPort : udp.dstPort,
      toServer,
    });
    if (!info) return;
    const e = flow.event;
    this.emit({
      ...this.base(port),
      verdict: 'FORWARDED',
      kind: toServer ? 'dns-query' : 'dns-response',
      proto: e.proto,
      src: e.src,
      dst: e.dst,
      srcPort: e.srcPort,
      dstPort: e.dstPort,
      ...(e.to ? { to: e.to } : {}),
      ...(e.peerNode ? { peerNode: e.peerNode } : {}),
      ...(e.service ? { service: e.service } : {}),
      dns: info,
      packets: 1,
      bytes: len - 14,
    });
  }

  private flush(flow: Flow, kind: string, tcpFlags: number): void {
    const e: FlowEvent = {
      ...flow.event,
      time: new Date(this.clock()).toISOString(),
      kind,
      packets: flow.packets,
      bytes: flow.bytes,
    };
    if (e.proto === 'TCP' && (kind !== 'update' || tcpFlags)) e.tcpFlags = tcpFlagNames(tcpFlags);
    flow.packets = 0;
    flow.bytes = 0;
    this.emit(e);
  }

  /** Once a second: an update line per flow that moved; forget flows idle for idleMs. */
  tick(): void {
    for (const q of this.dnsWatch.unanswered()) {
      const { clientIp, clientPort, waitedMs, ...dns } = q;
      this.emit({
        ...this.base(0),
        verdict: 'FORWARDED',
        kind: 'dns-unanswered',
        proto: 'DNS',
        src: clientIp,
        srcPort: clientPort,
        dst: '',
        dstPort: 53,
        dns: { ...dns, latencyMs: waitedMs },
        packets: 0,
        bytes: 0,
      });
    }
    const now = this.clock();
    for (const [key, flow] of this.flows) {
      if (flow.packets > 0) this.flush(flow, 'update', 0);
      else if (now - flow.lastSeenMs > this.idleMs) this.flows.delete(key);
    }
  }
}
