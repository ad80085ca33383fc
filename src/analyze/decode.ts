import dnsPacket from 'dns-packet';
import {
  dissectEtherType,
  dissectFrame,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ipv4ToString,
  type DissectOptions,
  type FrameSummary,
} from '../packet/index.js';

/** What analysis needs of one frame, outermost first; VXLAN frames carry their decoded inner frame. Never throws. */
export interface Decoded {
  layers: string[];
  ip?: { src: string; dst: string; proto: number; ttl: number; length: number; id: number; fragment: boolean };
  tcp?: { srcPort: number; dstPort: number; seq: number; ack: number; flags: number; payload: number; window: number };
  udp?: { srcPort: number; dstPort: number; length: number };
  icmp?: { type: number; code: number };
  arp?: { op: number; senderIp: string; targetIp: string };
  vxlan?: { vni: number; inner: Decoded };
  dns?: { id: number; response: boolean; rcode: string; name: string; type: string; answers: number };
}

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

export function decodeFrame(data: Buffer, linktype: number, opts: DissectOptions = {}): Decoded {
  const d: Decoded = { layers: [] };
  try {
    if (linktype === LINKTYPE_ETHERNET) fromSummary(dissectFrame(data, 0, data.length, opts), data, d);
    else if (linktype === LINKTYPE_LINUX_SLL && data.length >= 16) {
      d.layers.push('sll');
      const type = data.readUInt16BE(14);
      fromL3(type, dissectEtherType(type, data, 16, data.length - 16, opts), data, d);
    } else if (linktype === LINKTYPE_LINUX_SLL2 && data.length >= 20) {
      d.layers.push('sll2');
      const type = data.readUInt16BE(0);
      fromL3(type, dissectEtherType(type, data, 20, data.length - 20, opts), data, d);
    } else d.layers.push(`linktype-${linktype}`);
  } catch {
    d.layers.push('malformed');
  }
  return d;
}

/** An Ethernet frame's summary as analysis reads it. */
function fromSummary(s: FrameSummary, b: Buffer, d: Decoded): void {
  if (!s.eth) {
    d.layers.push('malformed');
    return;
  }
  d.layers.push('eth');
  fromL3(s.eth.etherType, s, b, d);
}

function fromL3(type: number, s: FrameSummary, b: Buffer, d: Decoded): void {
  if (s.arp) {
    d.layers.push('arp');
    d.arp = { op: s.arp.op, senderIp: ipv4ToString(s.arp.senderIp), targetIp: ipv4ToString(s.arp.targetIp) };
    return;
  }
  if (type !== ETHERTYPE_IPV4) {
    d.layers.push(type === ETHERTYPE_IPV6 ? 'ipv6' : `ethertype-0x${type.toString(16)}`);
    return;
  }
  const ip = s.ipv4;
  if (!ip) {
    d.layers.push('malformed');
    return;
  }
  d.layers.push('ipv4');
  d.ip = {
    src: ipv4ToString(ip.src),
    dst: ipv4ToString(ip.dst),
    proto: ip.protocol,
    ttl: ip.ttl,
    length: ip.totalLength,
    id: ip.id,
    fragment: ip.fragment,
  };
  if (s.tcp) {
    const t = s.tcp;
    d.layers.push('tcp');
    d.tcp = {
      srcPort: t.srcPort,
      dstPort: t.dstPort,
      seq: t.seq,
      ack: t.ack,
      flags: t.flags,
      window: t.window,
      payload: t.payloadLength,
    };
  } else if (s.udp) {
    const u = s.udp;
    d.layers.push('udp');
    d.udp = { srcPort: u.srcPort, dstPort: u.dstPort, length: u.length };
    if (s.vxlan?.flagI) {
      d.layers.push('vxlan');
      const inner: Decoded = { layers: [] };
      fromSummary(s.vxlan.inner, b, inner);
      d.vxlan = { vni: s.vxlan.vni, inner };
    } else if (u.dstPort === 53 || u.srcPort === 53) {
      decodeDns(b.subarray(u.payloadOffset, u.payloadEnd), d);
    }
  } else if (s.icmp) {
    d.layers.push('icmp');
    d.icmp = { type: s.icmp.type, code: s.icmp.code };
  }
}

function decodeDns(payload: Buffer, d: Decoded): void {
  try {
    const m = dnsPacket.decode(payload);
    const q = m.questions?.[0];
    d.layers.push('dns');
    d.dns = {
      id: m.id ?? 0,
      response: m.type === 'response',
      rcode: (m as { rcode?: string }).rcode ?? 'NOERROR',
      name: q?.name ?? '',
      type: q?.type ?? '',
      answers: m.answers?.length ?? 0,
    };
  } catch {
    d.layers.push('dns-malformed');
  }
}

/** The innermost decoded frame (through any VXLAN). */
export function innermost(d: Decoded): Decoded {
  return d.vxlan ? innermost(d.vxlan.inner) : d;
}
