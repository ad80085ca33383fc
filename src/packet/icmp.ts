// ICMP for IPv4, RFC 792, with the router rules of RFC 1812 §4.3.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  echo: Identifier             |  echo: Sequence Number        |
// |  frag needed: unused (0)      |  frag needed: Next-Hop MTU    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  echo: data ...  /  errors: original IP header + leading data  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The checksum covers the whole ICMP message and no pseudo header.
// The builders live in icmp-builders.ts.

import { EMPTY, read16, read32, write16, write32 } from './bytes.js';
import { type Codec, requireBytes, requireUint, targetBuffer } from './codec.js';
import { finishChecksum, fold16, sum16 } from './checksum.js';

const TYPE = 0;
const CODE = 1;
const CHECKSUM = 2;
const REST = 4; // the 32-bit "rest of header"
const ID = 4;
const SEQ = 6;
const NEXT_HOP_MTU = 6; // RFC 1191 §4

export const ICMP_HEADER_SIZE = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_CODE_NET_UNREACHABLE = 0;
export const ICMP_CODE_HOST_UNREACHABLE = 1;
export const ICMP_CODE_PROTOCOL_UNREACHABLE = 2;
export const ICMP_CODE_PORT_UNREACHABLE = 3;
export const ICMP_CODE_FRAG_NEEDED = 4;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_CODE_TTL_EXCEEDED = 0;

/** Error (not query) types: never answered with another ICMP error (RFC 1812 §4.3.2.7). */
export function isIcmpErrorType(type: number): boolean {
  // 3 unreachable, 4 source quench, 5 redirect, 11 time exceeded, 12 parameter problem
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** A view over an ICMP message at buf[off, off+len) (len = IPv4 payloadLength). */
export class IcmpView {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** The 8-byte header fits. Says nothing about the checksum. */
  isValid(): boolean {
    return this.off >= 0 && this.len >= ICMP_HEADER_SIZE && this.off + this.len <= this.buf.length;
  }

  get type(): number {
    return this.buf[this.off + TYPE];
  }

  set type(v: number) {
    this.buf[this.off + TYPE] = v;
  }

  get code(): number {
    return this.buf[this.off + CODE];
  }

  set code(v: number) {
    this.buf[this.off + CODE] = v;
  }

  get checksum(): number {
    return read16(this.buf, this.off + CHECKSUM);
  }

  set checksum(v: number) {
    write16(this.buf, this.off + CHECKSUM, v);
  }

  /** Echo identifier (Linux ping puts its socket's port here). */
  get id(): number {
    return read16(this.buf, this.off + ID);
  }

  set id(v: number) {
    write16(this.buf, this.off + ID, v);
  }

  /** Echo sequence number. */
  get seq(): number {
    return read16(this.buf, this.off + SEQ);
  }

  set seq(v: number) {
    write16(this.buf, this.off + SEQ, v);
  }

  /** Next-hop MTU of a "fragmentation needed" error (RFC 1191). */
  get nextHopMtu(): number {
    return read16(this.buf, this.off + NEXT_HOP_MTU);
  }

  set nextHopMtu(v: number) {
    write16(this.buf, this.off + NEXT_HOP_MTU, v);
  }

  /** Bytes 4–7 as one unsigned 32-bit number, whatever the type. */
  get restOfHeader(): number {
    return read32(this.buf, this.off + REST);
  }

  set restOfHeader(v: number) {
    write32(this.buf, this.off + REST, v);
  }

  /** Echo data, or the quoted original datagram of an error. */
  get payloadOffset(): number {
    return this.off + ICMP_HEADER_SIZE;
  }

  /** The checksum the first `len` bytes should carry (checksum field as zero). */
  computeChecksum(len = this.len): number {
    const o = this.off;
    return finishChecksum(sum16(this.buf, o + REST, len - REST, sum16(this.buf, o, CHECKSUM)));
  }

  updateChecksum(len = this.len): void {
    this.checksum = this.computeChecksum(len);
  }

  isChecksumValid(len = this.len): boolean {
    return fold16(sum16(this.buf, this.off, len)) === 0xffff;
  }
}

export interface IcmpHeader {
  type: number;
  code: number;
  checksum: number;
  /** Bytes 4–7: echo id << 16 | seq, or the next-hop MTU, or 0. */
  restOfHeader: number;
}

/** The fixed 8-byte header only; payload and checksum are the caller's. */
export const icmpHeader: Codec<IcmpHeader> = {
  encode(value, buf, offset = 0) {
    requireUint(value.type, 8, 'type');
    requireUint(value.code, 8, 'code');
    requireUint(value.checksum, 16, 'checksum');
    requireUint(value.restOfHeader, 32, 'restOfHeader');
    const out = targetBuffer(buf, offset, ICMP_HEADER_SIZE, 'icmp header');
    const v = new IcmpView().wrap(out, offset, ICMP_HEADER_SIZE);
    v.type = value.type;
    v.code = value.code;
    v.checksum = value.checksum;
    v.restOfHeader = value.restOfHeader;
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, ICMP_HEADER_SIZE, 'icmp header');
    const v = new IcmpView().wrap(buf, offset, ICMP_HEADER_SIZE);
    return { type: v.type, code: v.code, checksum: v.checksum, restOfHeader: v.restOfHeader };
  },
  encodingLength() {
    return ICMP_HEADER_SIZE;
  },
};
