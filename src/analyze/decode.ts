import dnsPacket from 'dns-packet';
import { ipv4ToString } from '../packet/index.js';

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

export function decodeFrame(data: Buffer, linktype: number): Decoded {
  const d: Decoded = { layers: [] };
  try {
    if (linktype === LINKTYPE_ETHERNET) decodeEthernet(data, 0, d);
    else if (linktype === LINKTYPE_LINUX_SLL && data.length >= 16) {
      d.layers.push('sll');
      decodeEtherType(data.readUInt16BE(14), data, 16, d);
    } else if (linktype === LINKTYPE_LINUX_SLL2 && data.length >= 20) {
      d.layers.push('sll2');
      decodeEtherType(data.readUInt16BE(0), data, 20, d);
    } else d.layers.push(`linktype-${linktype}`);
  } catch {
    d.layers.push('malformed');
  }
  return d;
}

function decodeEthernet(b: Buffer, off: number, d: Decoded): void {
  if (b.length < off + 14) {
    d.layers.push('malformed');
    return;
  }
  d.layers.push('eth');
  decodeEtherType(b.readUInt16BE(off + 12), b, off + 14, d);
}

function decodeEtherType(type: number, b: Buffer, off: number, d: Decoded): void {
  if (type === 0x0806 && b.length >= off + 28) {
    d.layers.push('arp');
    d.arp = {
      op: b.readUInt16BE(off + 6),
      senderIp: ipv4ToString(b.readUInt32BE(off + 14)),
      targetIp: ipv4ToString(b.readUInt32BE(off + 24)),
    };
    return;
  }
  if (type !== 0x0800) {
    d.layers.push(type === 0x86dd ? 'ipv6' : `ethertype-0x${type.toString(16)}`);
    return;
  }
  if (b.length < off + 20 || b[off] >> 4 !== 4) {
    d.layers.push('malformed');
    return;
  }
  const ihl = (b[off] & 0x0f) * 4;
  const total = b.readUInt16BE(off + 2);
  const fragField = b.readUInt16BE(off + 6);
  d.layers.push('ipv4');
  d.ip = {
    src: ipv4ToString(b.readUInt32BE(off + 12)),
    dst: ipv4ToString(b.readUInt32BE(off + 16)),
    proto: b[off + 9],
    ttl: b[off + 8],
    length: total,
    id: b.readUInt16BE(off + 4),
    fragment: (fragField & 0x3fff) !== 0,
  };
  if ((fragField & 0x1fff) !== 0) return; // a later fragment: no transport header
  const l4 = off + ihl;
  const end = Math.min(b.length, off + total);
  if (d.ip.proto === 6 && end >= l4 + 20) {
    const doff = (b[l4 + 12] >> 4) * 4;
    d.layers.push('tcp');
    d.tcp = {
      srcPort: b.readUInt16BE(l4),
      dstPort: b.readUInt16BE(l4 + 2),
      seq: b.readUInt32BE(l4 + 4),
      ack: b.readUInt32BE(l4 + 8),
      flags: b[l4 + 13],
      window: b.readUInt16BE(l4 + 14),
      payload: Math.max(0, total - ihl - doff),
    };
  } else if (d.ip.proto === 17 && end >= l4 + 8) {
    d.layers.push('udp');
    d.udp = { srcPort: b.readUInt16BE(l4), dstPort: b.readUInt16BE(l4 + 2), length: b.readUInt16BE(l4 + 4) };
    const payload = b.subarray(l4 + 8, Math.min(end, l4 + d.udp.length));
    if ((d.udp.dstPort === 4789 || d.udp.srcPort === 4789) && payload.length >= 8 + 14 && (payload[0] & 0x08) !== 0) {
      d.layers.push('vxlan');
      const inner: Decoded = { layers: [] };
      decodeEthernet(Buffer.from(payload.subarray(8)), 0, inner);
      d.vxlan = { vni: payload.readUIntBE(4, 3), inner };
    } else if (d.udp.dstPort === 53 || d.udp.srcPort === 53) {
      decodeDns(payload, d);
    }
  } else if (d.ip.proto === 1 && end >= l4 + 4) {
    d.layers.push('icmp');
    d.icmp = { type: b[l4], code: b[l4 + 1] };
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
