// The packet folder's only public entry: header views (per-packet, in place,
// never throwing), builders (write whole packets into a caller's buffer),
// codecs (encode/decode plain objects, for tests, tools and the control
// plane) and the checksum arithmetic they share.

export { PacketError, type PacketErrorCode } from './errors.js';
export type { Codec } from './codec.js';

export {
  sum16,
  fold16,
  finishChecksum,
  internetChecksum,
  pseudoHeaderSumV4,
  updateChecksum16,
  updateChecksum32,
  partialPseudoChecksum,
} from './checksum.js';

export {
  ETHERNET_HEADER_SIZE,
  ETHERNET_MIN_FRAME_SIZE,
  MAC_SIZE,
  ETHERTYPE_IPV4,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  BROADCAST_MAC,
  EthernetView,
  macEquals,
  copyMac,
  parseMac,
  macToString,
  ethernetHeader,
  type EthernetHeader,
} from './ethernet.js';

export {
  IPV4_MIN_HEADER_SIZE,
  IPV4_MAX_HEADER_SIZE,
  IPV4_VERSION,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Ipv4View,
  ipv4PseudoHeaderSum,
  writeIpv4Header,
  ipv4Header,
  type Ipv4Header,
} from './ipv4.js';
export { ipv4ToString, parseIpv4 } from './ipv4-address.js';

export { UDP_HEADER_SIZE, UdpView, computeUdpChecksum, udpHeader, type UdpHeader } from './udp.js';

export {
  TCP_MIN_HEADER_SIZE,
  TCP_MAX_HEADER_SIZE,
  TCP_FIN,
  TCP_SYN,
  TCP_RST,
  TCP_PSH,
  TCP_ACK,
  TCP_URG,
  TCP_ECE,
  TCP_CWR,
  TcpView,
  computeTcpChecksum,
  tcpHeader,
  type TcpHeader,
} from './tcp.js';

export {
  ICMP_HEADER_SIZE,
  ICMP_ECHO_REPLY,
  ICMP_DEST_UNREACHABLE,
  ICMP_CODE_NET_UNREACHABLE,
  ICMP_CODE_HOST_UNREACHABLE,
  ICMP_CODE_PROTOCOL_UNREACHABLE,
  ICMP_CODE_PORT_UNREACHABLE,
  ICMP_CODE_FRAG_NEEDED,
  ICMP_ECHO_REQUEST,
  ICMP_TIME_EXCEEDED,
  ICMP_CODE_TTL_EXCEEDED,
  IcmpView,
  isIcmpErrorType,
  icmpHeader,
  type IcmpHeader,
} from './icmp.js';
export {
  ICMP_ERROR_MAX_SIZE,
  ICMP_ERROR_MAX_QUOTE,
  ICMP_TTL,
  buildIcmpError,
  buildEchoReply,
  icmpErrorAllowed,
} from './icmp-builders.js';

export {
  ARP_SIZE,
  ARP_REQUEST,
  ARP_REPLY,
  ArpView,
  writeArpReply,
  writeArpRequest,
  arpPacket,
  type ArpPacket,
} from './arp.js';

export {
  VXLAN_HEADER_SIZE,
  VXLAN_PORT,
  VXLAN_OVERHEAD,
  VXLAN_MAX_VNI,
  VXLAN_SOURCE_PORT_MIN,
  VXLAN_SOURCE_PORT_MAX,
  VxlanView,
  writeVxlanHeader,
  vxlanSourcePort,
  flowHash,
  vxlanHeader,
  type VxlanHeader,
} from './vxlan.js';

export {
  VNET_HDR_SIZE,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_HDR_GSO_ECN,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_F_DATA_VALID,
  VNET_HDR_GSO_NONE,
  VNET_HDR_GSO_TCPV4,
  VNET_HDR_GSO_UDP,
  VNET_HDR_GSO_TCPV6,
  VNET_HDR_GSO_UDP_L4,
  VNET_HDR_GSO_ECN,
  VnetHdrView,
  writeVnetHdr,
  completePartialChecksum,
  vnetHdr,
  type VnetHdr,
} from './virtio-net-hdr.js';

export { natSetDst, natSetSrc } from './nat.js';
export { FlowKey } from './flow-key.js';
export { buildTcpReset } from './tcp-reset.js';
export {
  dissectFrame,
  dissectEtherType,
  ipProtocolName,
  framePorts,
  type DissectOptions,
  type FrameSummary,
  type EthernetLayer,
  type ArpLayer,
  type Ipv4Layer,
  type TcpLayer,
  type UdpLayer,
  type IcmpLayer,
  type VxlanLayer,
} from './dissect.js';
export {
  CidrError,
  type CidrErrorCode,
  type Cidr,
  type AnyCidr,
  cidrMask,
  cidrContains,
  parseCidr,
  formatCidr,
  cidrHost,
  cidrSize,
  parseAnyCidr,
  anyCidrCovers,
} from './cidr.js';
export { murmur3, murmurFinalize, murmurMixBlock } from './murmur3.js';
