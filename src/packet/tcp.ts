// TCP header, RFC 9293 §3.1 (formerly RFC 793).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Source Port          |       Destination Port        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Sequence Number                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Acknowledgment Number                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
// |       |       |R|E|G|K|H|T|N|N|                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Checksum            |         Urgent Pointer        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// TCP has no length field: the segment length is the IPv4 payload length,
// which is what the pseudo header carries.

import { EMPTY, read16, read32, write16, write32 } from './bytes.js';
import { type Codec, requireBytes, requireUint, targetBuffer } from './codec.js';
import { finishChecksum, sum16 } from './checksum.js';
import { PacketError } from './errors.js';
import { ipv4PseudoHeaderSum } from './ipv4.js';

const SRC_PORT = 0;
const DST_PORT = 2;
const SEQ = 4;
const ACK = 8;
const DATA_OFFSET = 12; // high nibble, in 32-bit words
const FLAGS = 13;
const WINDOW = 14;
const CHECKSUM = 16;
const URGENT = 18;

export const TCP_MIN_HEADER_SIZE = 20;
export const TCP_MAX_HEADER_SIZE = 60;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/**
 * A view over a TCP segment at buf[off, off+len), where len is the segment
 * length (the IPv4 payloadLength).
 */
export class TcpView {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** Data offset ≥ 5 words and the whole header (options included) fits. */
  isValid(): boolean {
    const o = this.off;
    if (o < 0 || this.len < TCP_MIN_HEADER_SIZE || o + this.len > this.buf.length) return false;
    const hl = this.dataOffsetBytes;
    return hl >= TCP_MIN_HEADER_SIZE && hl <= this.len;
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

  /** Unsigned 32-bit. */
  get seq(): number {
    return read32(this.buf, this.off + SEQ);
  }

  set seq(v: number) {
    write32(this.buf, this.off + SEQ, v);
  }

  /** Unsigned 32-bit; meaningful only with TCP_ACK set. */
  get ack(): number {
    return read32(this.buf, this.off + ACK);
  }

  set ack(v: number) {
    write32(this.buf, this.off + ACK, v);
  }

  /** Header length in bytes (the wire field × 4), options included. */
  get dataOffsetBytes(): number {
    return (this.buf[this.off + DATA_OFFSET] >>> 4) << 2;
  }

  /** The eight classic flag bits (TCP_FIN … TCP_CWR); the old NS bit is ignored. */
  get flags(): number {
    return this.buf[this.off + FLAGS];
  }

  set flags(v: number) {
    this.buf[this.off + FLAGS] = v;
  }

  get window(): number {
    return read16(this.buf, this.off + WINDOW);
  }

  set window(v: number) {
    write16(this.buf, this.off + WINDOW, v);
  }

  get checksum(): number {
    return read16(this.buf, this.off + CHECKSUM);
  }

  set checksum(v: number) {
    write16(this.buf, this.off + CHECKSUM, v);
  }

  get urgentPointer(): number {
    return read16(this.buf, this.off + URGENT);
  }

  set urgentPointer(v: number) {
    write16(this.buf, this.off + URGENT, v);
  }

  get payloadOffset(): number {
    return this.off + this.dataOffsetBytes;
  }

  get payloadLength(): number {
    return this.len - this.dataOffsetBytes;
  }
}

/**
 * The checksum the TCP segment of the IPv4 packet at buf[ipOff] should
 * carry: pseudo header + header (checksum field as zero) + data, with the
 * segment length taken from totalLength − IHL × 4. Never throws.
 */
export function computeTcpChecksum(buf: Uint8Array, ipOff: number): number {
  const ihl = (buf[ipOff] & 0x0f) << 2;
  const tcpOff = ipOff + ihl;
  const tcpLen = read16(buf, ipOff + 2) - ihl;
  let sum = ipv4PseudoHeaderSum(buf, ipOff, tcpLen);
  sum = sum16(buf, tcpOff, CHECKSUM, sum);
  sum = sum16(buf, tcpOff + CHECKSUM + 2, tcpLen - CHECKSUM - 2, sum);
  return finishChecksum(sum);
}

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  /** Raw option bytes, already padded: length a multiple of 4, at most 40. */
  options: Buffer;
}

export const tcpHeader: Codec<TcpHeader> = {
  encode(value, buf, offset = 0) {
    requireUint(value.srcPort, 16, 'srcPort');
    requireUint(value.dstPort, 16, 'dstPort');
    requireUint(value.seq, 32, 'seq');
    requireUint(value.ack, 32, 'ack');
    requireUint(value.flags, 8, 'flags');
    requireUint(value.window, 16, 'window');
    requireUint(value.checksum, 16, 'checksum');
    requireUint(value.urgentPointer, 16, 'urgentPointer');
    const opts = value.options;
    if (opts.length % 4 !== 0 || opts.length > TCP_MAX_HEADER_SIZE - TCP_MIN_HEADER_SIZE) {
      throw new PacketError('ERR_BAD_VALUE', `tcp options: ${opts.length} bytes is not a multiple of 4 up to 40`);
    }
    const size = TCP_MIN_HEADER_SIZE + opts.length;
    const out = targetBuffer(buf, offset, size, 'tcp header');
    const v = new TcpView().wrap(out, offset, size);
    v.srcPort = value.srcPort;
    v.dstPort = value.dstPort;
    v.seq = value.seq;
    v.ack = value.ack;
    out[offset + DATA_OFFSET] = (size >>> 2) << 4;
    v.flags = value.flags;
    v.window = value.window;
    v.checksum = value.checksum;
    v.urgentPointer = value.urgentPointer;
    out.set(opts, offset + TCP_MIN_HEADER_SIZE);
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, TCP_MIN_HEADER_SIZE, 'tcp header');
    const v = new TcpView().wrap(buf, offset, buf.length - offset);
    const size = v.dataOffsetBytes;
    if (size < TCP_MIN_HEADER_SIZE) throw new PacketError('ERR_MALFORMED', `tcp data offset ${size} < 20`);
    requireBytes(buf, offset, size, 'tcp header with options');
    return {
      srcPort: v.srcPort,
      dstPort: v.dstPort,
      seq: v.seq,
      ack: v.ack,
      flags: v.flags,
      window: v.window,
      checksum: v.checksum,
      urgentPointer: v.urgentPointer,
      options: Buffer.from(buf.subarray(offset + TCP_MIN_HEADER_SIZE, offset + size)),
    };
  },
  encodingLength(value) {
    return TCP_MIN_HEADER_SIZE + (value ? value.options.length : 0);
  },
};
