import type { CapturedPacket } from '../capture/index.js';
import { decodeFrame, type Decoded } from './decode.js';
import type { DissectOptions } from '../packet/index.js';

/**
 * Everything `podwire analyze` reports about a capture. Conversations are
 * counted the way tshark's `-z conv` does: per protocol layer, both
 * directions together, bytes as frame bytes; a VXLAN frame contributes its
 * outer UDP conversation and its inner TCP/UDP one.
 */
export interface Conversation {
  proto: 'TCP' | 'UDP';
  a: string; // "ip:port" of the side that spoke first
  b: string;
  packets: number;
  bytes: number;
  start: number;
  durationS: number;
  /** TCP: SYN to the ACK that completes the handshake, seconds (tshark's tcp.analysis.initial_rtt) */
  handshakeRttS?: number;
  retransmissions?: number;
  resets?: number;
}

export interface DnsExchange {
  client: string;
  server: string;
  id: number;
  name: string;
  type: string;
  rcode?: string;
  answers?: number;
  latencyS?: number;
  /** unanswered, or answered with an error */
  failed: boolean;
}

export interface VxlanMapping {
  outer: string; // "172.28.0.11:55047 -> 172.28.0.12:4789"
  vni: number;
  inner: string; // "TCP 10.244.1.2:40000 -> 10.244.2.2:80"
  packets: number;
}

export interface Analysis {
  packets: number;
  bytes: number;
  firstTime: number;
  durationS: number;
  protocols: Record<string, number>;
  conversations: Conversation[];
  vxlan: VxlanMapping[];
  dns: DnsExchange[];
  drops: Record<string, number>;
}

interface TcpState {
  conv: Conversation;
  synTime?: number;
  synAckSeen: boolean;
  nextSeq: Map<string, number>; // per direction: highest seq end seen
}

const key = (proto: string, a: string, b: string) => (a < b ? `${proto}|${a}|${b}` : `${proto}|${b}|${a}`);
const seqLt = (x: number, y: number) => ((x - y) | 0) < 0;

/** `vxlanPort`: the UDP port the capture's VXLAN runs on (4789 unless the agents were started with --vxlan-port). */
export function analyze(packets: CapturedPacket[], opts: DissectOptions = {}): Analysis {
  const out: Analysis = {
    packets: 0,
    bytes: 0,
    firstTime: 0,
    durationS: 0,
    protocols: {},
    conversations: [],
    vxlan: [],
    dns: [],
    drops: {},
  };
  const convs = new Map<string, TcpState>();
  const vx = new Map<string, VxlanMapping>();
  const dnsPending = new Map<string, DnsExchange>();
  let last = 0;
  for (const p of packets) {
    if (out.packets === 0) out.firstTime = p.time;
    out.packets++;
    out.bytes += p.originalLength;
    last = Math.max(last, p.time);
    if (p.comment?.startsWith('podwire drop: ')) {
      const reason = p.comment.slice('podwire drop: '.length).split(' ')[0];
      out.drops[reason] = (out.drops[reason] ?? 0) + 1;
    }
    const d = decodeFrame(p.data, p.linktype, opts);
    visit(d, p, out, convs, vx, dnsPending);
  }
  out.durationS = out.packets ? last - out.firstTime : 0;
  out.conversations = [...convs.values()].map((s) => s.conv).sort((x, y) => x.start - y.start);
  out.vxlan = [...vx.values()];
  out.dns.push(...[...dnsPending.values()].map((q) => ({ ...q, failed: true })));
  out.dns.sort((x, y) => (x.latencyS ?? 0) - (y.latencyS ?? 0));
  return out;
}

function visit(
  d: Decoded,
  p: CapturedPacket,
  out: Analysis,
  convs: Map<string, TcpState>,
  vx: Map<string, VxlanMapping>,
  dns: Map<string, DnsExchange>,
): void {
  for (const l of d.layers) out.protocols[l] = (out.protocols[l] ?? 0) + 1;
  const ip = d.ip;
  if (ip && (d.tcp || d.udp)) {
    const l4 = (d.tcp ?? d.udp)!;
    const proto = d.tcp ? 'TCP' : 'UDP';
    const src = `${ip.src}:${l4.srcPort}`;
    const dst = `${ip.dst}:${l4.dstPort}`;
    const k = key(proto, src, dst);
    let s = convs.get(k);
    if (!s) {
      s = {
        conv: {
          proto,
          a: src,
          b: dst,
          packets: 0,
          bytes: 0,
          start: p.time,
          durationS: 0,
          ...(proto === 'TCP' ? { retransmissions: 0, resets: 0 } : {}),
        },
        synAckSeen: false,
        nextSeq: new Map(),
      };
      convs.set(k, s);
    }
    const c = s.conv;
    c.packets++;
    c.bytes += p.originalLength;
    c.durationS = p.time - c.start;
    if (d.tcp) tcpStep(s, d.tcp, src, p.time);
  }
  if (d.vxlan && ip && d.udp) {
    const inner = d.vxlan.inner;
    const il4 = inner.tcp ?? inner.udp;
    const innerDesc = inner.ip
      ? il4
        ? `${inner.tcp ? 'TCP' : 'UDP'} ${inner.ip.src}:${il4.srcPort} -> ${inner.ip.dst}:${il4.dstPort}`
        : `${inner.icmp ? 'ICMP' : `IP/${inner.ip.proto}`} ${inner.ip.src} -> ${inner.ip.dst}`
      : inner.arp
        ? `ARP ${inner.arp.senderIp} -> ${inner.arp.targetIp}`
        : inner.layers.join('/');
    const outer = `${ip.src}:${d.udp.srcPort} -> ${ip.dst}:${d.udp.dstPort}`;
    const mk = `${outer}|${d.vxlan.vni}|${innerDesc}`;
    const m = vx.get(mk) ?? { outer, vni: d.vxlan.vni, inner: innerDesc, packets: 0 };
    m.packets++;
    vx.set(mk, m);
    visit(inner, p, out, convs, vx, dns);
    return;
  }
  if (d.dns && ip && d.udp) {
    const q = d.dns;
    if (!q.response) {
      const k = `${ip.src}:${d.udp.srcPort}|${q.id}`;
      if (!dns.has(k))
        dns.set(k, {
          client: `${ip.src}:${d.udp.srcPort}`,
          server: `${ip.dst}:${d.udp.dstPort}`,
          id: q.id,
          name: q.name,
          type: q.type,
          failed: false,
          latencyS: -p.time,
        });
    } else {
      const k = `${ip.dst}:${d.udp.dstPort}|${q.id}`;
      const pending = dns.get(k);
      if (pending) {
        dns.delete(k);
        out.dns.push({
          ...pending,
          rcode: q.rcode,
          answers: q.answers,
          latencyS: p.time + (pending.latencyS ?? 0),
          failed: q.rcode !== 'NOERROR',
        });
      }
    }
  }
}

function tcpStep(s: TcpState, t: NonNullable<Decoded['tcp']>, from: string, time: number): void {
  const SYN = 0x02,
    ACK = 0x10,
    FIN = 0x01,
    RST = 0x04;
  const c = s.conv;
  if (t.flags & RST) c.resets = (c.resets ?? 0) + 1;
  if (t.flags & SYN && !(t.flags & ACK) && s.synTime === undefined) s.synTime = time;
  if (t.flags & SYN && t.flags & ACK) s.synAckSeen = true;
  if (
    s.synTime !== undefined &&
    s.synAckSeen &&
    c.handshakeRttS === undefined &&
    t.flags & ACK &&
    !(t.flags & SYN) &&
    from === c.a
  ) {
    c.handshakeRttS = time - s.synTime;
  }
  // Retransmission: a segment carrying data (or SYN/FIN) that starts before
  // what this direction has already sent, and is not a 1-byte keep-alive.
  const len = t.payload + (t.flags & SYN ? 1 : 0) + (t.flags & FIN ? 1 : 0);
  if (len === 0) return;
  const end = (t.seq + len) >>> 0;
  const next = s.nextSeq.get(from);
  if (next !== undefined && seqLt(t.seq, next) && !(t.payload === 1 && (t.seq + 1) >>> 0 === next)) {
    c.retransmissions = (c.retransmissions ?? 0) + 1;
  }
  if (next === undefined || seqLt(next, end)) s.nextSeq.set(from, end);
}
