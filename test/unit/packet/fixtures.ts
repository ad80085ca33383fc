// Packet builders and a deliberately naive checksum for the packet tests.
// The naive version shares no code with src/packet/checksum.ts, so the two
// agreeing is evidence, not tautology.

import fc from 'fast-check';
import {
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_IPV4,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_MIN_HEADER_SIZE,
  TCP_ACK,
  TCP_PSH,
  UDP_HEADER_SIZE,
  computeTcpChecksum,
  computeUdpChecksum,
  ethernetHeader,
  ipv4Header,
  tcpHeader,
  udpHeader,
} from '../../../src/packet/index.js';

/** RFC 1071 by the book: big-endian words, odd byte padded, fold at the end. */
export function naiveChecksum(bytes: ArrayLike<number>): number {
  let sum = 0n;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += BigInt((bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0));
  }
  while (sum > 0xffffn) sum = (sum & 0xffffn) + (sum >> 16n);
  return Number(~sum & 0xffffn);
}

/** The pseudo header of RFC 768/793 as bytes, followed by the segment. */
export function naiveL4Checksum(src: number, dst: number, protocol: number, segment: Uint8Array): number {
  const pseudo = Buffer.alloc(12);
  pseudo.writeUInt32BE(src, 0);
  pseudo.writeUInt32BE(dst, 4);
  pseudo[9] = protocol;
  pseudo.writeUInt16BE(segment.length, 10);
  return naiveChecksum(Buffer.concat([pseudo, segment]));
}

export const MAC_A = Buffer.from('02000000000a', 'hex');
export const MAC_B = Buffer.from('02000000000b', 'hex');

export interface FlowSpec {
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** Ethernet + IPv4 + UDP with a correct UDP checksum. IPv4 starts at 14. */
export function udpFrame(f: FlowSpec, ipId = 1): Buffer {
  const udpLen = UDP_HEADER_SIZE + f.payload.length;
  const buf = Buffer.alloc(ETHERNET_HEADER_SIZE + IPV4_MIN_HEADER_SIZE + udpLen);
  ethernetHeader.encode({ dst: MAC_B, src: MAC_A, etherType: ETHERTYPE_IPV4 }, buf, 0);
  ipv4Header.encode({ src: f.src, dst: f.dst, protocol: IPPROTO_UDP, id: ipId, payloadLength: udpLen }, buf, 14);
  udpHeader.encode({ srcPort: f.srcPort, dstPort: f.dstPort, length: udpLen, checksum: 0 }, buf, 34);
  f.payload.copy(buf, 42);
  buf.writeUInt16BE(computeUdpChecksum(buf, 14), 40);
  return buf;
}

/** Ethernet + IPv4 + TCP (ACK|PSH, given options) with a correct checksum. */
export function tcpFrame(f: FlowSpec, options: Buffer = Buffer.alloc(0), seq = 1000): Buffer {
  const tcpLen = 20 + options.length + f.payload.length;
  const buf = Buffer.alloc(ETHERNET_HEADER_SIZE + IPV4_MIN_HEADER_SIZE + tcpLen);
  ethernetHeader.encode({ dst: MAC_B, src: MAC_A, etherType: ETHERTYPE_IPV4 }, buf, 0);
  ipv4Header.encode({ src: f.src, dst: f.dst, protocol: IPPROTO_TCP, payloadLength: tcpLen }, buf, 14);
  tcpHeader.encode(
    {
      srcPort: f.srcPort,
      dstPort: f.dstPort,
      seq,
      ack: 7,
      flags: TCP_ACK | TCP_PSH,
      window: 65535,
      checksum: 0,
      urgentPointer: 0,
      options,
    },
    buf,
    34,
  );
  f.payload.copy(buf, 34 + 20 + options.length);
  buf.writeUInt16BE(computeTcpChecksum(buf, 14), 34 + 16);
  return buf;
}

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** 16-bit values with the one's-complement edge cases weighted in. */
export const u16Edgy = fc.oneof(fc.constantFrom(0x0000, 0xffff, 0x0001, 0xfffe, 0x8000), u16);
export const u32Edgy = fc.oneof(fc.constantFrom(0, 0xffffffff, 0xffff0000, 0x0000ffff), u32);
export const bytes = (maxLength: number, minLength = 0) =>
  fc.uint8Array({ minLength, maxLength }).map((a) => Buffer.from(a));
export const mac = bytes(6, 6);

export const flowArb: fc.Arbitrary<FlowSpec> = fc.record({
  src: u32,
  dst: u32,
  srcPort: u16,
  dstPort: u16,
  payload: bytes(300),
});

/** Parses a hex dump ("45 00 00 73 ..." or "4500 0073 ..."). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
}

/**
 * A captured VXLAN packet (Ethernet/IPv4/UDP 4789/VXLAN/Ethernet/IPv4/ICMP
 * echo request 192.168.203.3 → 192.168.203.5, from the test corpus of
 * google/gopacket, layers/vxlan_test.go, where the VNI byte was set to 255).
 * Outer IPv4 starts at 14, UDP at 34, VXLAN at 42, the inner frame at 50,
 * inner IPv4 at 64, inner ICMP at 84; 148 bytes in all.
 */
export const CAPTURED_VXLAN = hex(`
  00 16 3e 08 71 cf 36 dc 85 1e b3 40 08 00 45 00
  00 86 d2 c0 40 00 40 11 51 52 c0 a8 cb 01 c0 a8
  ca 01 b0 5d 12 b5 00 72 00 00 08 00 00 00 00 00
  ff 00 00 30 88 01 00 02 00 16 3e 37 f6 04 08 00
  45 00 00 54 00 00 40 00 40 01 23 4f c0 a8 cb 03
  c0 a8 cb 05 08 00 f6 f2 05 0c 00 01 fc e2 97 51
  00 00 00 00 a6 f8 02 00 00 00 00 00 10 11 12 13
  14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23
  24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33
  34 35 36 37`);

/** The inner IPv4 packet of CAPTURED_VXLAN: a real Linux ping, 84 bytes. */
export function capturedPing(): Buffer {
  return Buffer.from(CAPTURED_VXLAN.subarray(64));
}
