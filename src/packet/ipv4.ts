// IPv4 header, RFC 791 §3.1.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |Type of Service|          Total Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |Flags|      Fragment Offset    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Flags: bit 0 reserved, bit 1 DF (don't fragment), bit 2 MF (more
// fragments). Fragment Offset counts 8-byte units; this view converts it to
// bytes (fragmentOffsetBytes) so nobody has to remember the unit.

import { type Codec, requireBytes, requireUint, targetBuffer } from './codec.js';
import { finishChecksum, fold16, pseudoHeaderSumV4, sum16, updateChecksum16 } from './checksum.js';
import { EMPTY, read16, read32, write16, write32 } from './bytes.js';
import { PacketError } from './errors.js';

const VERSION_IHL = 0;
const TOS = 1;
const TOTAL_LENGTH = 2;
const ID = 4;
const FLAGS_FRAGMENT = 6;
const TTL = 8;
const PROTOCOL = 9;
const CHECKSUM = 10;
const SRC = 12;
const DST = 16;

const FLAG_DF = 0x40; // in the byte at FLAGS_FRAGMENT
const FLAG_MF = 0x20;

export const IPV4_MIN_HEADER_SIZE = 20;
export const IPV4_MAX_HEADER_SIZE = 60;
export const IPV4_VERSION = 4;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/**
 * A view over an IPv4 packet at buf[off, off+len), where len is the bytes
 * available (for a frame: frame length − 14, which may include Ethernet
 * padding beyond totalLength). Call isValid() once; accessors don't re-check.
 */
export class Ipv4View {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /**
   * Version 4, IHL ≥ 5, the header fits in len, and headerLength ≤
   * totalLength ≤ len. Does NOT verify the checksum (isHeaderChecksumValid).
   */
  isValid(): boolean {
    const b = this.buf;
    const o = this.off;
    const len = this.len;
    if (o < 0 || len < IPV4_MIN_HEADER_SIZE || o + len > b.length) return false;
    const vihl = b[o + VERSION_IHL];
    if (vihl >>> 4 !== IPV4_VERSION) return false;
    const hl = (vihl & 0x0f) << 2;
    if (hl < IPV4_MIN_HEADER_SIZE || hl > len) return false;
    const total = read16(b, o + TOTAL_LENGTH);
    return total >= hl && total <= len;
  }

  /** Summing the header including its checksum folds to 0xffff when intact. */
  isHeaderChecksumValid(): boolean {
    return fold16(sum16(this.buf, this.off, this.headerLength)) === 0xffff;
  }

  get version(): number {
    return this.buf[this.off + VERSION_IHL] >>> 4;
  }

  /** IHL × 4, in bytes (20–60). */
  get headerLength(): number {
    return (this.buf[this.off + VERSION_IHL] & 0x0f) << 2;
  }

  get tos(): number {
    return this.buf[this.off + TOS];
  }

  set tos(v: number) {
    this.buf[this.off + TOS] = v;
  }

  get totalLength(): number {
    return read16(this.buf, this.off + TOTAL_LENGTH);
  }

  set totalLength(v: number) {
    write16(this.buf, this.off + TOTAL_LENGTH, v);
  }

  get id(): number {
    return read16(this.buf, this.off + ID);
  }

  set id(v: number) {
    write16(this.buf, this.off + ID, v);
  }

  get dontFragment(): boolean {
    return (this.buf[this.off + FLAGS_FRAGMENT] & FLAG_DF) !== 0;
  }

  set dontFragment(v: boolean) {
    const o = this.off + FLAGS_FRAGMENT;
    this.buf[o] = v ? this.buf[o] | FLAG_DF : this.buf[o] & ~FLAG_DF;
  }

  get moreFragments(): boolean {
    return (this.buf[this.off + FLAGS_FRAGMENT] & FLAG_MF) !== 0;
  }

  set moreFragments(v: boolean) {
    const o = this.off + FLAGS_FRAGMENT;
    this.buf[o] = v ? this.buf[o] | FLAG_MF : this.buf[o] & ~FLAG_MF;
  }

  /** Fragment offset in BYTES (the wire field × 8). */
  get fragmentOffsetBytes(): number {
    return (read16(this.buf, this.off + FLAGS_FRAGMENT) & 0x1fff) << 3;
  }

  /** Sets the offset in bytes; must be a multiple of 8 (low bits are dropped). */
  set fragmentOffsetBytes(v: number) {
    const flags = read16(this.buf, this.off + FLAGS_FRAGMENT) & 0xe000;
    write16(this.buf, this.off + FLAGS_FRAGMENT, flags | ((v >>> 3) & 0x1fff));
  }

  /** Part of a fragmented datagram: MF set or a non-zero offset. Only the
   *  first fragment carries the L4 header, so ports are off limits otherwise. */
  isFragment(): boolean {
    return (read16(this.buf, this.off + FLAGS_FRAGMENT) & 0x3fff) !== 0;
  }

  get ttl(): number {
    return this.buf[this.off + TTL];
  }

  set ttl(v: number) {
    this.buf[this.off + TTL] = v;
  }

  get protocol(): number {
    return this.buf[this.off + PROTOCOL];
  }

  set protocol(v: number) {
    this.buf[this.off + PROTOCOL] = v;
  }

  get checksum(): number {
    return read16(this.buf, this.off + CHECKSUM);
  }

  set checksum(v: number) {
    write16(this.buf, this.off + CHECKSUM, v);
  }

  /** Source address as an unsigned 32-bit number. */
  get src(): number {
    return read32(this.buf, this.off + SRC);
  }

  set src(v: number) {
    write32(this.buf, this.off + SRC, v);
  }

  get dst(): number {
    return read32(this.buf, this.off + DST);
  }

  set dst(v: number) {
    write32(this.buf, this.off + DST, v);
  }

  get payloadOffset(): number {
    return this.off + this.headerLength;
  }

  /** totalLength − headerLength: the L4 bytes, excluding any Ethernet padding. */
  get payloadLength(): number {
    return this.totalLength - this.headerLength;
  }

  /** The checksum the header should carry (the checksum field counts as zero). */
  computeHeaderChecksum(): number {
    const o = this.off;
    const sum = sum16(this.buf, o, CHECKSUM, sum16(this.buf, o + SRC, this.headerLength - SRC));
    return ~fold16(sum) & 0xffff;
  }

  updateHeaderChecksum(): void {
    this.checksum = this.computeHeaderChecksum();
  }

  /**
   * TTL − 1 with the checksum patched incrementally (RFC 1624): TTL and
   * protocol share one 16-bit word. A TTL of 0 is left alone — the caller
   * must check ttl ≤ 1 first and answer with ICMP time exceeded.
   */
  decrementTtl(): void {
    const o = this.off + TTL;
    const b = this.buf;
    const ttl = b[o];
    if (ttl === 0) return;
    const oldWord = (ttl << 8) | b[o + 1];
    b[o] = ttl - 1;
    this.checksum = updateChecksum16(this.checksum, oldWord, oldWord - 0x100);
  }
}

/**
 * The pseudo-header sum for the L4 segment of the IPv4 packet at
 * buf[ipOff], taking src, dst and protocol from the header. Shared by the
 * TCP and UDP checksums so the offsets live only here.
 */
export function ipv4PseudoHeaderSum(buf: Uint8Array, ipOff: number, l4Length: number): number {
  return pseudoHeaderSumV4(read32(buf, ipOff + SRC), read32(buf, ipOff + DST), buf[ipOff + PROTOCOL], l4Length);
}

/**
 * Writes an options-free 20-byte header with a correct checksum at buf[off]
 * and returns 20. Positional arguments so that building a packet per packet
 * (encapsulation, ICMP errors) allocates nothing. Never throws; the caller
 * guarantees the 20 bytes exist.
 */
export function writeIpv4Header(
  buf: Uint8Array,
  off: number,
  src: number,
  dst: number,
  protocol: number,
  payloadLength: number,
  ttl = 64,
  id = 0,
  tos = 0,
  dontFragment = false,
): number {
  buf[off + VERSION_IHL] = 0x45;
  buf[off + TOS] = tos;
  write16(buf, off + TOTAL_LENGTH, IPV4_MIN_HEADER_SIZE + payloadLength);
  write16(buf, off + ID, id);
  write16(buf, off + FLAGS_FRAGMENT, dontFragment ? FLAG_DF << 8 : 0);
  buf[off + TTL] = ttl;
  buf[off + PROTOCOL] = protocol;
  write16(buf, off + CHECKSUM, 0);
  write32(buf, off + SRC, src);
  write32(buf, off + DST, dst);
  write16(buf, off + CHECKSUM, finishChecksum(sum16(buf, off, IPV4_MIN_HEADER_SIZE)));
  return IPV4_MIN_HEADER_SIZE;
}

export interface Ipv4Header {
  src: number;
  dst: number;
  protocol: number;
  ttl?: number;
  id?: number;
  tos?: number;
  dontFragment?: boolean;
  /** Bytes after the header; totalLength = 20 + payloadLength. */
  payloadLength: number;
}

/** Options-free (IHL 5) headers with a correct checksum. decode() skips options. */
export const ipv4Header: Codec<Ipv4Header> = {
  encode(value, buf, offset = 0) {
    const { ttl = 64, id = 0, tos = 0, dontFragment = true } = value;
    requireUint(value.src, 32, 'src');
    requireUint(value.dst, 32, 'dst');
    requireUint(value.protocol, 8, 'protocol');
    requireUint(ttl, 8, 'ttl');
    requireUint(id, 16, 'id');
    requireUint(tos, 8, 'tos');
    requireUint(value.payloadLength, 16, 'payloadLength');
    if (value.payloadLength > 0xffff - IPV4_MIN_HEADER_SIZE) {
      throw new PacketError('ERR_BAD_VALUE', `payloadLength ${value.payloadLength} exceeds 65515`);
    }
    const out = targetBuffer(buf, offset, IPV4_MIN_HEADER_SIZE, 'ipv4 header');
    writeIpv4Header(out, offset, value.src, value.dst, value.protocol, value.payloadLength, ttl, id, tos, dontFragment);
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, IPV4_MIN_HEADER_SIZE, 'ipv4 header');
    const v = new Ipv4View().wrap(buf, offset, buf.length - offset);
    if (v.version !== IPV4_VERSION || v.headerLength < IPV4_MIN_HEADER_SIZE || v.totalLength < v.headerLength) {
      throw new PacketError('ERR_MALFORMED', 'not a well-formed IPv4 header');
    }
    requireBytes(buf, offset, v.headerLength, 'ipv4 header with options');
    return {
      src: v.src,
      dst: v.dst,
      protocol: v.protocol,
      ttl: v.ttl,
      id: v.id,
      tos: v.tos,
      dontFragment: v.dontFragment,
      payloadLength: v.payloadLength,
    };
  },
  encodingLength() {
    return IPV4_MIN_HEADER_SIZE;
  },
};
