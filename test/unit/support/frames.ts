// Real frames for the dataplane tests, built with the packet codecs, and the
// two batch shapes the pipeline reads (RxBatch) and writes (TxBatch).
//
// Every builder returns a bare Ethernet frame (no virtio_net_hdr); putFrame
// puts one into an RxBatch slot behind the 10-byte header the kernel writes
// on a PACKET_VNET_HDR socket. On the way out, materialize() glues each
// queued frame's slices together as sendmmsg would, header included.

import {
  ARP_REQUEST,
  BROADCAST_MAC,
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_SIZE,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_MIN_HEADER_SIZE,
  TCP_ACK,
  UDP_HEADER_SIZE,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_SIZE,
  VXLAN_HEADER_SIZE,
  VXLAN_PORT,
  arpPacket,
  computeTcpChecksum,
  computeUdpChecksum,
  ethernetHeader,
  icmpHeader,
  internetChecksum,
  ipv4Header,
  parseIpv4,
  partialPseudoChecksum,
  tcpHeader,
  udpHeader,
  vnetHdr,
  vxlanHeader,
  writeVnetHdr,
  type VnetHdr,
} from '../../../src/packet/index.js';
import { RxBatch, TX_FROM_PAYLOAD, TX_FROM_SCRATCH, type TxBatch } from '../../../src/native/index.js';
import type { TxPort } from '../../../src/dataplane/index.js';

const ETH = ETHERNET_HEADER_SIZE;
const IP = IPV4_MIN_HEADER_SIZE;

export type Addr = number | string;
const ip4 = (a: Addr): number => (typeof a === 'string' ? parseIpv4(a) : a);

/** Ethernet + IPv4 fields every IPv4 builder takes. */
export interface IpFrameSpec {
  srcMac: Buffer;
  dstMac: Buffer;
  src: Addr;
  dst: Addr;
  ttl?: number;
  id?: number;
  /** default true, as Linux sends TCP and PMTU-probing traffic */
  df?: boolean;
}

/**
 * How the L4 checksum is left: 'full' (correct), 'partial' (the folded
 * pseudo-header sum a sender with TX checksum offload leaves, to be finished
 * by whoever honours NEEDS_CSUM; pair it with the vnet header from
 * partialCsumVnet), or 'zero' (UDP "no checksum").
 */
export type L4Checksum = 'full' | 'partial' | 'zero';

/** Ethernet + IPv4 header for `l4Len` bytes of L4 into a fresh frame; returns it and the L4 offset. */
function ipFrame(s: IpFrameSpec, protocol: number, l4Len: number): { buf: Buffer; l4: number } {
  const buf = Buffer.alloc(ETH + IP + l4Len);
  ethernetHeader.encode({ dst: s.dstMac, src: s.srcMac, etherType: ETHERTYPE_IPV4 }, buf, 0);
  ipv4Header.encode(
    {
      src: ip4(s.src),
      dst: ip4(s.dst),
      protocol,
      payloadLength: l4Len,
      ttl: s.ttl ?? 64,
      id: s.id ?? 1,
      dontFragment: s.df ?? true,
    },
    buf,
    ETH,
  );
  return { buf, l4: ETH + IP };
}

/** Ethernet + IPv4 + ICMP echo request with a correct ICMP checksum. */
export function icmpEchoFrame(s: IpFrameSpec & { ident?: number; seq?: number; data?: Buffer }): Buffer {
  const data = s.data ?? Buffer.from('podwire ping payload!!');
  const { buf, l4 } = ipFrame(s, IPPROTO_ICMP, ICMP_HEADER_SIZE + data.length);
  const rest = (((s.ident ?? 0x1234) << 16) | (s.seq ?? 1)) >>> 0;
  icmpHeader.encode({ type: ICMP_ECHO_REQUEST, code: 0, checksum: 0, restOfHeader: rest }, buf, l4);
  data.copy(buf, l4 + ICMP_HEADER_SIZE);
  buf.writeUInt16BE(internetChecksum(buf, l4, ICMP_HEADER_SIZE + data.length), l4 + 2);
  return buf;
}

export interface UdpSpec extends IpFrameSpec {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  checksum?: L4Checksum;
}

/** Ethernet + IPv4 + UDP. */
export function udpFrame(s: UdpSpec): Buffer {
  const len = UDP_HEADER_SIZE + s.payload.length;
  const { buf, l4 } = ipFrame(s, IPPROTO_UDP, len);
  udpHeader.encode({ srcPort: s.srcPort, dstPort: s.dstPort, length: len, checksum: 0 }, buf, l4);
  s.payload.copy(buf, l4 + UDP_HEADER_SIZE);
  const mode = s.checksum ?? 'full';
  if (mode === 'full') buf.writeUInt16BE(computeUdpChecksum(buf, ETH), l4 + 6);
  if (mode === 'partial') buf.writeUInt16BE(partialPseudoChecksum(ip4(s.src), ip4(s.dst), IPPROTO_UDP, len), l4 + 6);
  return buf;
}

export interface TcpSpec extends IpFrameSpec {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  seq?: number;
  ack?: number;
  flags?: number;
  options?: Buffer;
  checksum?: Exclude<L4Checksum, 'zero'>;
}

/** Ethernet + IPv4 + TCP (ACK unless `flags` says otherwise). */
export function tcpFrame(s: TcpSpec): Buffer {
  const options = s.options ?? Buffer.alloc(0);
  const hl = 20 + options.length;
  const len = hl + s.payload.length;
  const { buf, l4 } = ipFrame(s, IPPROTO_TCP, len);
  tcpHeader.encode(
    {
      srcPort: s.srcPort,
      dstPort: s.dstPort,
      seq: s.seq ?? 1000,
      ack: s.ack ?? 1,
      flags: s.flags ?? TCP_ACK,
      window: 502,
      checksum: 0,
      urgentPointer: 0,
      options,
    },
    buf,
    l4,
  );
  s.payload.copy(buf, l4 + hl);
  const sum =
    s.checksum === 'partial'
      ? partialPseudoChecksum(ip4(s.src), ip4(s.dst), IPPROTO_TCP, len)
      : computeTcpChecksum(buf, ETH);
  buf.writeUInt16BE(sum, l4 + 16);
  return buf;
}

/** The virtio_net_hdr a checksum-offloading sender puts before a frame from tcpFrame/udpFrame with checksum 'partial'. */
export function partialCsumVnet(frame: Buffer, extra: VnetHdr = {}): VnetHdr {
  const ihl = (frame[ETH] & 0x0f) * 4;
  const proto = frame[ETH + 9];
  return { flags: VNET_HDR_F_NEEDS_CSUM, csumStart: ETH + ihl, csumOffset: proto === IPPROTO_TCP ? 16 : 6, ...extra };
}

/** A broadcast "who has targetIp? tell senderIp", zero padded to 60 bytes as Linux sends it. */
export function arpRequestFrame(s: { srcMac: Buffer; senderIp: Addr; targetIp: Addr; dstMac?: Buffer }): Buffer {
  const buf = Buffer.alloc(60);
  ethernetHeader.encode({ dst: s.dstMac ?? BROADCAST_MAC, src: s.srcMac, etherType: ETHERTYPE_ARP }, buf, 0);
  arpPacket.encode(
    {
      op: ARP_REQUEST,
      senderMac: s.srcMac,
      senderIp: ip4(s.senderIp),
      targetMac: Buffer.alloc(6),
      targetIp: ip4(s.targetIp),
    },
    buf,
    ETH,
  );
  return buf;
}

export interface VxlanSpec {
  srcMac: Buffer;
  dstMac: Buffer;
  src: Addr;
  dst: Addr;
  srcPort?: number;
  dstPort?: number;
  vni: number;
  /** VXLAN byte 0; 0x08 is the I flag alone */
  flags?: number;
  /** set every reserved byte (1–3 and 7) to this value */
  reserved?: number;
  inner: Buffer;
}

/** Outer Ethernet + IPv4 (DF) + UDP (checksum 0) + VXLAN around an inner Ethernet frame. */
export function vxlanFrame(s: VxlanSpec): Buffer {
  const udpLen = UDP_HEADER_SIZE + VXLAN_HEADER_SIZE + s.inner.length;
  const { buf, l4 } = ipFrame({ srcMac: s.srcMac, dstMac: s.dstMac, src: s.src, dst: s.dst }, IPPROTO_UDP, udpLen);
  udpHeader.encode(
    { srcPort: s.srcPort ?? 50000, dstPort: s.dstPort ?? VXLAN_PORT, length: udpLen, checksum: 0 },
    buf,
    l4,
  );
  const vx = l4 + UDP_HEADER_SIZE;
  vxlanHeader.encode({ vni: s.vni }, buf, vx);
  if (s.flags !== undefined) buf[vx] = s.flags;
  if (s.reserved !== undefined) for (const i of [1, 2, 3, 7]) buf[vx + i] = s.reserved;
  s.inner.copy(buf, vx + VXLAN_HEADER_SIZE);
  return buf;
}

// ------------------------------------------------------------------ batches

/** Slot size the agent uses for pods: a 64 KiB GSO super-frame plus headers. */
export const BIG_SLOT = 65536 + 128;

/** Put `frame` into slot i behind a virtio_net_hdr, as recvmmsg would. */
export function putFrame(rx: RxBatch, i: number, frame: Uint8Array, vnet: VnetHdr = {}): void {
  const slot = rx.slotOffset(i);
  writeVnetHdr(rx.buf, slot, vnet);
  rx.buf.set(frame, slot + VNET_HDR_SIZE);
  rx.lengths[i] = VNET_HDR_SIZE + frame.length;
  if (rx.count <= i) rx.count = i + 1;
}

export interface RxFrame {
  frame: Buffer;
  vnet?: VnetHdr;
  /** the interface the pod socket took it on (a pod's veth); batches with one record them all */
  ifindex?: number;
}

/** A batch holding the frames in order (slot size fits the largest unless given). */
export function rxBatch(frames: (Buffer | RxFrame)[], slotSize?: number): RxBatch {
  const items = frames.map((f) => (Buffer.isBuffer(f) ? { frame: f } : f));
  const size = slotSize ?? Math.max(256, ...items.map((f) => VNET_HDR_SIZE + f.frame.length));
  const withIfindexes = items.some((f) => f.ifindex !== undefined);
  const rx = new RxBatch(size, Math.max(1, items.length), false, false, withIfindexes);
  items.forEach((f, i) => {
    putFrame(rx, i, f.frame, f.vnet);
    if (rx.ifindexes) rx.ifindexes[i] = f.ifindex ?? 0;
  });
  return rx;
}

/**
 * Each queued frame of a TxBatch as one Buffer: its slices, source 0 from
 * batch.scratch and source 1 from batch.payload, concatenated in order the
 * way sendmmsg gathers an iovec. Copies, so it survives the batch's reset.
 */
export function materialize(batch: TxBatch): Buffer[] {
  const out: Buffer[] = [];
  const d = batch.desc;
  let p = 0;
  for (let f = 0; f < batch.count; f++) {
    const slices = d[p++];
    const parts: Buffer[] = [];
    for (let s = 0; s < slices; s++) {
      const source = d[p++];
      const off = d[p++];
      const len = d[p++];
      const from = source === TX_FROM_SCRATCH ? batch.scratch : source === TX_FROM_PAYLOAD ? batch.payload : null;
      if (!from) throw new Error(`frame ${f}: slice from source ${source} with no buffer behind it`);
      if (off + len > from.length) throw new Error(`frame ${f}: slice [${off}, ${off + len}) runs past its buffer`);
      parts.push(from.subarray(off, off + len));
    }
    out.push(Buffer.concat(parts));
  }
  return out;
}

/** A TxPort that records what would have gone on the wire (virtio_net_hdr first). */
export class CapturePort implements TxPort {
  readonly frames: Buffer[] = [];
  sends = 0;
  lastRejected = 0;
  /**
   * Of each batch, the first `accept` frames are taken, the next `reject`
   * refused by the kernel (EINVAL-style), the rest left for a full queue.
   */
  constructor(
    private readonly accept = Infinity,
    private readonly reject = 0,
  ) {}
  send(batch: TxBatch): number {
    this.sends++;
    const frames = materialize(batch);
    const n = Math.min(frames.length, this.accept);
    this.lastRejected = Math.min(frames.length - n, this.reject);
    this.frames.push(...frames.slice(0, n));
    return n;
  }
  clear(): void {
    this.frames.length = 0;
  }
}

/** Split a captured frame into its virtio_net_hdr and the Ethernet frame behind it. */
export function splitVnet(captured: Buffer): { vnet: Required<VnetHdr>; frame: Buffer } {
  return { vnet: vnetHdr.decode(captured, 0), frame: captured.subarray(VNET_HDR_SIZE) };
}
