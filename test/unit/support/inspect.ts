// Reading what the pipeline sent: views over captured frames, and the
// checks (header checksums, VXLAN layout) that several test files share.

import {
  ETHERNET_HEADER_SIZE,
  IPV4_MIN_HEADER_SIZE,
  IcmpView,
  Ipv4View,
  TcpView,
  UDP_HEADER_SIZE,
  UdpView,
  VXLAN_HEADER_SIZE,
  VxlanView,
  ethernetHeader,
  fold16,
  sum16,
  type EthernetHeader,
} from '../../../src/packet/index.js';

const ETH = ETHERNET_HEADER_SIZE;

/** The IPv4 header of an Ethernet frame (wrapped over the frame's own bytes). */
export function ipOf(frame: Buffer): Ipv4View {
  const ip = new Ipv4View().wrap(frame, ETH, frame.length - ETH);
  if (!ip.isValid()) throw new Error(`no valid IPv4 packet in a ${frame.length}-byte frame`);
  return ip;
}

export function tcpOf(frame: Buffer): TcpView {
  const ip = ipOf(frame);
  return new TcpView().wrap(frame, ip.payloadOffset, ip.payloadLength);
}

export function udpOf(frame: Buffer): UdpView {
  const ip = ipOf(frame);
  return new UdpView().wrap(frame, ip.payloadOffset, ip.payloadLength);
}

export function icmpOf(frame: Buffer): IcmpView {
  const ip = ipOf(frame);
  return new IcmpView().wrap(frame, ip.payloadOffset, ip.payloadLength);
}

/** The IPv4 header sums (checksum included) to 0xffff. */
export function ipChecksumOk(frame: Buffer, ipOff = ETH): boolean {
  const hl = (frame[ipOff] & 0x0f) * 4;
  return fold16(sum16(frame, ipOff, hl)) === 0xffff;
}

export interface OpenedVxlan {
  eth: EthernetHeader;
  ip: Ipv4View;
  udp: UdpView;
  vxlan: VxlanView;
  /** the 8 VXLAN header bytes */
  vxlanBytes: Buffer;
  /** the inner Ethernet frame (a view into the captured frame) */
  inner: Buffer;
}

/** Take a VXLAN frame apart (outer Ethernet, IPv4 without options, UDP, VXLAN, inner frame). */
export function openVxlan(frame: Buffer): OpenedVxlan {
  const ip = ipOf(frame);
  if (ip.headerLength !== IPV4_MIN_HEADER_SIZE) throw new Error('outer IPv4 header has options');
  const udp = new UdpView().wrap(frame, ip.payloadOffset, ip.payloadLength);
  if (!udp.isValid()) throw new Error('outer UDP header invalid');
  const vxOff = udp.payloadOffset;
  const vxlan = new VxlanView().wrap(frame, vxOff, udp.length - UDP_HEADER_SIZE);
  if (!vxlan.isValid()) throw new Error('VXLAN header cut short');
  return {
    eth: ethernetHeader.decode(frame, 0),
    ip,
    udp,
    vxlan,
    vxlanBytes: frame.subarray(vxOff, vxOff + VXLAN_HEADER_SIZE),
    inner: frame.subarray(vxOff + VXLAN_HEADER_SIZE, udp.off + udp.length),
  };
}
