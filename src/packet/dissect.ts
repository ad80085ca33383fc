// One frame decoder for the tools (flow log, capture filters, capture
// analysis, trace's inject/catch): Ethernet → ARP | IPv4 → TCP | UDP | ICMP,
// and UDP to or from the configured VXLAN port → VXLAN → the inner frame,
// decoded the same way. Built on the header views; reads as much as the bytes
// allow and says where it stopped (`problem`), never throws.
//
// Unlike the pipeline's views (isValid() before anything is trusted), it is
// lenient: a capture may be cut short or carry garbage, and the tools still
// want the addresses that are there. Offsets are kept in every layer so a
// caller can wrap a view over the same bytes.

import { ArpView } from './arp.js';
import { ETHERNET_HEADER_SIZE, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetView, macToString } from './ethernet.js';
import { IcmpView } from './icmp.js';
import { IPV4_MIN_HEADER_SIZE, IPV4_VERSION, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, Ipv4View } from './ipv4.js';
import { TCP_MIN_HEADER_SIZE, TcpView } from './tcp.js';
import { UDP_HEADER_SIZE, UdpView } from './udp.js';
import { VXLAN_HEADER_SIZE, VXLAN_PORT, VxlanView } from './vxlan.js';

export interface DissectOptions {
  /** The UDP port VXLAN runs on (the agent's --vxlan-port; 4789 by default). */
  vxlanPort?: number;
}

export interface EthernetLayer {
  offset: number;
  etherType: number;
}
export interface ArpLayer {
  offset: number;
  op: number;
  senderMac: string;
  senderIp: number;
  targetIp: number;
}
export interface Ipv4Layer {
  offset: number;
  headerLength: number;
  totalLength: number;
  id: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
  /** MF set or a non-zero offset */
  fragment: boolean;
  /** a non-zero offset: no transport header in this packet */
  laterFragment: boolean;
}
export interface TcpLayer {
  offset: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  headerLength: number;
  /** data bytes by the IPv4 total length */
  payloadLength: number;
}
export interface UdpLayer {
  offset: number;
  srcPort: number;
  dstPort: number;
  length: number;
  /** the data: [payloadOffset, payloadEnd), bounded by the UDP length, the IPv4 length and the bytes there */
  payloadOffset: number;
  payloadEnd: number;
}
export interface IcmpLayer {
  offset: number;
  type: number;
  code: number;
}
export interface VxlanLayer {
  offset: number;
  vni: number;
  /** the I flag (RFC 7348: receivers drop frames without it) */
  flagI: boolean;
  inner: FrameSummary;
}

/** What one frame holds, outermost first. A layer is present when its header was there to read. */
export interface FrameSummary {
  eth?: EthernetLayer;
  arp?: ArpLayer;
  ipv4?: Ipv4Layer;
  tcp?: TcpLayer;
  udp?: UdpLayer;
  icmp?: IcmpLayer;
  vxlan?: VxlanLayer;
  /** why decoding stopped before the frame's last header: truncated-ethernet, malformed-ipv4, … */
  problem?: string;
}

const ARP_MIN = 28;
const ICMP_MIN = 4; // type, code, checksum: enough to name it
const MAX_DEPTH = 4; // VXLAN in VXLAN in …: a crafted frame cannot recurse for ever

/** Decode the Ethernet frame at buf[off, off+len). */
export function dissectFrame(buf: Buffer, off: number, len: number, opts: DissectOptions = {}): FrameSummary {
  return dissectEthernet(buf, off, clampEnd(buf, off, len), opts.vxlanPort ?? VXLAN_PORT, 0);
}

/**
 * Decode what follows a link header that is not Ethernet (Linux cooked
 * captures): `etherType` says what starts at buf[off].
 */
export function dissectEtherType(
  etherType: number,
  buf: Buffer,
  off: number,
  len: number,
  opts: DissectOptions = {},
): FrameSummary {
  const s: FrameSummary = {};
  dissectL3(s, etherType, buf, off, clampEnd(buf, off, len), opts.vxlanPort ?? VXLAN_PORT, 0);
  return s;
}

/** ICMP, TCP, UDP or `IP/<n>`: the name flow logs and filters use for an IPv4 protocol number. */
export function ipProtocolName(protocol: number): string {
  return protocol === IPPROTO_TCP
    ? 'TCP'
    : protocol === IPPROTO_UDP
      ? 'UDP'
      : protocol === IPPROTO_ICMP
        ? 'ICMP'
        : `IP/${protocol}`;
}

/** The ports of the transport header, when the frame had one. */
export function framePorts(s: FrameSummary): { srcPort: number; dstPort: number } | undefined {
  const l4 = s.tcp ?? s.udp;
  return l4 ? { srcPort: l4.srcPort, dstPort: l4.dstPort } : undefined;
}

function clampEnd(buf: Buffer, off: number, len: number): number {
  return Math.max(off, Math.min(buf.length, off + Math.max(0, len)));
}

const eth = new EthernetView();
const arp = new ArpView();
const ip = new Ipv4View();
const tcp = new TcpView();
const udp = new UdpView();
const icmp = new IcmpView();
const vxlan = new VxlanView();

const mac = Buffer.alloc(6);
function senderMac(): string {
  arp.copySenderMacTo(mac);
  return macToString(mac);
}

function dissectEthernet(buf: Buffer, off: number, end: number, vxlanPort: number, depth: number): FrameSummary {
  const s: FrameSummary = {};
  if (off < 0 || end - off < ETHERNET_HEADER_SIZE) {
    s.problem = 'truncated-ethernet';
    return s;
  }
  eth.wrap(buf, off, end - off);
  const etherType = eth.etherType;
  s.eth = { offset: off, etherType };
  dissectL3(s, etherType, buf, eth.payloadOffset, end, vxlanPort, depth);
  return s;
}

function dissectL3(
  s: FrameSummary,
  etherType: number,
  buf: Buffer,
  off: number,
  end: number,
  vxlanPort: number,
  depth: number,
): void {
  if (etherType === ETHERTYPE_ARP) {
    if (end - off < ARP_MIN) {
      s.problem = 'truncated-arp';
      return;
    }
    arp.wrap(buf, off, end - off);
    s.arp = { offset: off, op: arp.op, senderMac: senderMac(), senderIp: arp.senderIp, targetIp: arp.targetIp };
    return;
  }
  if (etherType !== ETHERTYPE_IPV4) return;
  if (end - off < IPV4_MIN_HEADER_SIZE) {
    s.problem = 'truncated-ipv4';
    return;
  }
  ip.wrap(buf, off, end - off);
  if (ip.version !== IPV4_VERSION) {
    s.problem = 'malformed-ipv4';
    return;
  }
  const headerLength = ip.headerLength;
  const totalLength = ip.totalLength;
  const fragment = ip.isFragment();
  const laterFragment = ip.fragmentOffsetBytes !== 0;
  s.ipv4 = {
    offset: off,
    headerLength,
    totalLength,
    id: ip.id,
    ttl: ip.ttl,
    protocol: ip.protocol,
    src: ip.src,
    dst: ip.dst,
    fragment,
    laterFragment,
  };
  if (headerLength < IPV4_MIN_HEADER_SIZE) {
    s.problem = 'malformed-ipv4';
    return;
  }
  if (laterFragment) return;
  const l4 = off + headerLength;
  // The IPv4 length bounds the segment (Ethernet padding is not data), unless it is garbage.
  const l4End = totalLength >= headerLength ? Math.min(end, off + totalLength) : end;
  const avail = l4End - l4;
  const protocol = s.ipv4.protocol;
  if (protocol === IPPROTO_TCP) {
    if (avail < TCP_MIN_HEADER_SIZE) {
      s.problem = 'truncated-tcp';
      return;
    }
    tcp.wrap(buf, l4, avail);
    const hl = tcp.dataOffsetBytes;
    s.tcp = {
      offset: l4,
      srcPort: tcp.srcPort,
      dstPort: tcp.dstPort,
      seq: tcp.seq,
      ack: tcp.ack,
      flags: tcp.flags,
      window: tcp.window,
      headerLength: hl,
      payloadLength: Math.max(0, totalLength - headerLength - hl),
    };
  } else if (protocol === IPPROTO_UDP) {
    if (avail < UDP_HEADER_SIZE) {
      s.problem = 'truncated-udp';
      return;
    }
    udp.wrap(buf, l4, avail);
    const length = udp.length;
    const payloadOffset = udp.payloadOffset;
    const payloadEnd = Math.max(payloadOffset, Math.min(l4End, l4 + length));
    const u: UdpLayer = { offset: l4, srcPort: udp.srcPort, dstPort: udp.dstPort, length, payloadOffset, payloadEnd };
    s.udp = u;
    if (
      (u.dstPort === vxlanPort || u.srcPort === vxlanPort) &&
      payloadEnd - payloadOffset >= VXLAN_HEADER_SIZE + ETHERNET_HEADER_SIZE &&
      depth < MAX_DEPTH
    ) {
      vxlan.wrap(buf, payloadOffset, payloadEnd - payloadOffset);
      const vni = vxlan.vni;
      const flagI = vxlan.flagI;
      const inner = dissectEthernet(buf, vxlan.payloadOffset, payloadEnd, vxlanPort, depth + 1);
      s.vxlan = { offset: payloadOffset, vni, flagI, inner };
    }
  } else if (protocol === IPPROTO_ICMP) {
    if (avail < ICMP_MIN) {
      s.problem = 'truncated-icmp';
      return;
    }
    icmp.wrap(buf, l4, avail);
    s.icmp = { offset: l4, type: icmp.type, code: icmp.code };
  }
}
