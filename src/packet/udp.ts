// UDP header, RFC 768.
//
//  0      7 8     15 16    23 24    31
// +--------+--------+--------+--------+
// |     Source      |   Destination   |
// |      Port       |      Port       |
// +--------+--------+--------+--------+
// |                 |                 |
// |     Length      |    Checksum     |
// +--------+--------+--------+--------+
// |          data octets ...
// +---------------- ...
//
// Length counts header + data. The checksum covers the IPv4 pseudo header,
// the UDP header and the data; 0 means "not computed", so a computed 0 is
// sent as 0xffff.

import { EMPTY, read16, write16 } from './bytes.js';
import { type Codec, requireBytes, requireUint, targetBuffer } from './codec.js';
import { finishChecksum, sum16 } from './checksum.js';
import { ipv4PseudoHeaderSum } from './ipv4.js';

const SRC_PORT = 0;
const DST_PORT = 2;
const LENGTH = 4;
const CHECKSUM = 6;

export const UDP_HEADER_SIZE = 8;

/**
 * A view over a UDP datagram at buf[off, off+len), where len is the bytes
 * available (normally the IPv4 payloadLength).
 */
export class UdpView {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** The header fits, and 8 ≤ length field ≤ len. */
  isValid(): boolean {
    const o = this.off;
    if (o < 0 || this.len < UDP_HEADER_SIZE || o + this.len > this.buf.length) return false;
    const length = read16(this.buf, o + LENGTH);
    return length >= UDP_HEADER_SIZE && length <= this.len;
  }

  get srcPort(): number {
    return read16(this.buf, this.off + SRC_PORT);
  }

  set srcPort(v: number) {
    write16(this.buf, this.off + SRC_PORT, v);
  }

  get dstPort(): number {
    return read16(this.buf, this.off + DST_PORT);
  }

  set dstPort(v: number) {
    write16(this.buf, this.off + DST_PORT, v);
  }

  /** Header + data, in bytes. */
  get length(): number {
    return read16(this.buf, this.off + LENGTH);
  }

  set length(v: number) {
    write16(this.buf, this.off + LENGTH, v);
  }

  /** 0 = the sender did not compute one (legal over IPv4). */
  get checksum(): number {
    return read16(this.buf, this.off + CHECKSUM);
  }

  set checksum(v: number) {
    write16(this.buf, this.off + CHECKSUM, v);
  }

  get payloadOffset(): number {
    return this.off + UDP_HEADER_SIZE;
  }

  get payloadLength(): number {
    return this.length - UDP_HEADER_SIZE;
  }
}

/**
 * The checksum a UDP datagram inside the IPv4 packet at buf[ipOff] should
 * carry, over pseudo header + UDP header (checksum field as zero) + data,
 * using the UDP length field. A computed 0 is returned as 0xffff (RFC 768).
 * Never throws; garbage in gives a wrong number out.
 */
export function computeUdpChecksum(buf: Uint8Array, ipOff: number): number {
  const udpOff = ipOff + ((buf[ipOff] & 0x0f) << 2);
  const udpLen = read16(buf, udpOff + LENGTH);
  let sum = ipv4PseudoHeaderSum(buf, ipOff, udpLen);
  sum = sum16(buf, udpOff, CHECKSUM, sum);
  sum = sum16(buf, udpOff + UDP_HEADER_SIZE, udpLen - UDP_HEADER_SIZE, sum);
  const c = finishChecksum(sum);
  return c === 0 ? 0xffff : c;
}

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** Header + data. */
  length: number;
  checksum: number;
}

export const udpHeader: Codec<UdpHeader> = {
  encode(value, buf, offset = 0) {
    requireUint(value.srcPort, 16, 'srcPort');
    requireUint(value.dstPort, 16, 'dstPort');
    requireUint(value.length, 16, 'length');
    requireUint(value.checksum, 16, 'checksum');
    const out = targetBuffer(buf, offset, UDP_HEADER_SIZE, 'udp header');
    const v = new UdpView().wrap(out, offset, UDP_HEADER_SIZE);
    v.srcPort = value.srcPort;
    v.dstPort = value.dstPort;
    v.length = value.length;
    v.checksum = value.checksum;
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, UDP_HEADER_SIZE, 'udp header');
    const v = new UdpView().wrap(buf, offset, UDP_HEADER_SIZE);
    return { srcPort: v.srcPort, dstPort: v.dstPort, length: v.length, checksum: v.checksum };
  },
  encodingLength() {
    return UDP_HEADER_SIZE;
  },
};
