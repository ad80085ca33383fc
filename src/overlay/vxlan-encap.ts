import {
  ETHERNET_HEADER_SIZE,
  VNET_HDR_SIZE,
  VNET_HDR_F_NEEDS_CSUM,
  VXLAN_HEADER_SIZE,
  VXLAN_OVERHEAD,
  UDP_HEADER_SIZE,
  IPV4_MIN_HEADER_SIZE,
  sum16,
  finishChecksum,
  fold16,
  pseudoHeaderSumV4,
  writeVxlanHeader,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
} from '../packet/index.js';

/**
 * VXLAN encapsulation, RFC 7348: outer Ethernet + IPv4 + UDP (dst 4789,
 * src from a hash of the inner flow, checksum 0 as §5 allows) + the 8-byte
 * VXLAN header (I flag, VNI, reserved bits exactly zero).
 *
 * Per peer we keep a 50-byte template of the outer headers; per frame we copy
 * it and patch the lengths, the IPv4 ID, the IPv4 checksum (from a sum
 * precomputed over the constant fields) and the UDP source port.
 */
export const OUTER_HEADERS_SIZE = VXLAN_OVERHEAD; // 14 + 20 + 8 + 8 = 50
const OUTER_IP = ETHERNET_HEADER_SIZE;
const OUTER_UDP = OUTER_IP + IPV4_MIN_HEADER_SIZE;
const OUTER_VXLAN = OUTER_UDP + UDP_HEADER_SIZE;

export class OuterTemplate {
  readonly bytes = Buffer.alloc(OUTER_HEADERS_SIZE);
  /** one's-complement sum of the outer IPv4 header with length, id and checksum zero */
  private baseSum = 0;

  constructor(dstMac: Buffer, srcMac: Buffer, srcIp: number, dstIp: number, vni: number, udpPort: number) {
    const b = this.bytes;
    dstMac.copy(b, 0, 0, 6);
    srcMac.copy(b, 6, 0, 6);
    b.writeUInt16BE(0x0800, 12);
    b[OUTER_IP] = 0x45; // IPv4, 20-byte header
    b[OUTER_IP + 1] = 0;
    b.writeUInt16BE(0x4000, OUTER_IP + 6); // DF: the underlay never fragments VXLAN
    b[OUTER_IP + 8] = 64; // TTL
    b[OUTER_IP + 9] = 17; // UDP
    b.writeUInt32BE(srcIp >>> 0, OUTER_IP + 12);
    b.writeUInt32BE(dstIp >>> 0, OUTER_IP + 16);
    b.writeUInt16BE(udpPort, OUTER_UDP + 2);
    writeVxlanHeader(b, OUTER_VXLAN, vni);
    this.baseSum = sum16(b, OUTER_IP, IPV4_MIN_HEADER_SIZE);
  }

  /** Write outer headers for an inner frame of `innerLen` bytes at out[off..off+50). */
  write(out: Buffer, off: number, innerLen: number, ipId: number, srcPort: number): void {
    this.bytes.copy(out, off, 0, OUTER_HEADERS_SIZE);
    const ipLen = IPV4_MIN_HEADER_SIZE + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE + innerLen;
    const ip = off + OUTER_IP;
    out[ip + 2] = ipLen >>> 8;
    out[ip + 3] = ipLen & 0xff;
    out[ip + 4] = ipId >>> 8;
    out[ip + 5] = ipId & 0xff;
    const csum = finishChecksum(this.baseSum + ipLen + ipId);
    out[ip + 10] = csum >>> 8;
    out[ip + 11] = csum & 0xff;
    const udp = off + OUTER_UDP;
    out[udp] = srcPort >>> 8;
    out[udp + 1] = srcPort & 0xff;
    const udpLen = ipLen - IPV4_MIN_HEADER_SIZE;
    out[udp + 4] = udpLen >>> 8;
    out[udp + 5] = udpLen & 0xff;
  }
}

/**
 * Write the virtio_net_hdr for an encapsulated frame: a partial inner
 * checksum stays partial, its start moved by the 50 outer bytes, so whoever
 * finally needs it (a NIC, the kernel before a real wire) completes it.
 */
export function writeEncapVnetHdr(
  out: Buffer,
  off: number,
  innerFlags: number,
  innerCsumStart: number,
  innerCsumOffset: number,
): void {
  out.fill(0, off, off + VNET_HDR_SIZE);
  if (innerFlags & VNET_HDR_F_NEEDS_CSUM) {
    out[off] = VNET_HDR_F_NEEDS_CSUM;
    out.writeUInt16LE(innerCsumStart + OUTER_HEADERS_SIZE, off + 6);
    out.writeUInt16LE(innerCsumOffset, off + 8);
  }
}

export interface TcpSegmentPlan {
  /** inner Ethernet+IPv4+TCP header bytes */
  headerLen: number;
  ipHeaderLen: number;
  tcpHeaderLen: number;
  payloadLen: number;
  mss: number;
  segments: number;
}

/** How a TCP GSO super-frame splits; null if it cannot be (mss 0, headers past the end). */
export function planTcpSegments(buf: Buffer, frameOff: number, frameLen: number, mss: number): TcpSegmentPlan | null {
  const ipOff = frameOff + ETHERNET_HEADER_SIZE;
  if (mss <= 0 || frameLen < ETHERNET_HEADER_SIZE + 40) return null;
  const ipHeaderLen = (buf[ipOff] & 0x0f) * 4;
  if (ipHeaderLen < 20) return null;
  const tcpOff = ipOff + ipHeaderLen;
  if (tcpOff + 20 > frameOff + frameLen) return null;
  const tcpHeaderLen = (buf[tcpOff + 12] >>> 4) * 4;
  const headerLen = ETHERNET_HEADER_SIZE + ipHeaderLen + tcpHeaderLen;
  if (tcpHeaderLen < 20 || headerLen > frameLen) return null;
  const payloadLen = frameLen - headerLen;
  return { headerLen, ipHeaderLen, tcpHeaderLen, payloadLen, mss, segments: Math.max(1, Math.ceil(payloadLen / mss)) };
}

/**
 * Patch a copied inner header block (at hdr, Ethernet first) into segment
 * `index` of `plan`: IPv4 total length, ID and checksum; TCP sequence number,
 * flags (CWR only on the first, FIN/PSH only on the last, as Linux's GSO
 * does) and the pseudo-header partial checksum that NEEDS_CSUM expects.
 */
export function patchTcpSegment(
  out: Buffer,
  hdr: number,
  plan: TcpSegmentPlan,
  index: number,
  segLen: number,
  baseSeq: number,
  baseId: number,
  baseFlags: number,
): void {
  const ip = hdr + ETHERNET_HEADER_SIZE;
  const tcp = ip + plan.ipHeaderLen;
  const totalLen = plan.ipHeaderLen + plan.tcpHeaderLen + segLen;
  out[ip + 2] = totalLen >>> 8;
  out[ip + 3] = totalLen & 0xff;
  const id = (baseId + index) & 0xffff;
  out[ip + 4] = id >>> 8;
  out[ip + 5] = id & 0xff;
  out[ip + 10] = 0;
  out[ip + 11] = 0;
  const ipSum = finishChecksum(sum16(out, ip, plan.ipHeaderLen));
  out[ip + 10] = ipSum >>> 8;
  out[ip + 11] = ipSum & 0xff;
  const seq = (baseSeq + index * plan.mss) >>> 0;
  out.writeUInt32BE(seq, tcp + 4);
  let flags = baseFlags;
  if (index > 0) flags &= ~TCP_CWR;
  if (index < plan.segments - 1) flags &= ~(TCP_FIN | TCP_PSH);
  out[tcp + 13] = flags;
  const src = out.readUInt32BE(ip + 12);
  const dst = out.readUInt32BE(ip + 16);
  const partial = fold16(pseudoHeaderSumV4(src, dst, 6, plan.tcpHeaderLen + segLen));
  out[tcp + 16] = partial >>> 8;
  out[tcp + 17] = partial & 0xff;
}
