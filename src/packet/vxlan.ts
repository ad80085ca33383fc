// VXLAN, RFC 7348 §5: an Ethernet frame inside UDP (port 4789).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |R|R|R|R|I|R|R|R|            Reserved                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                VXLAN Network Identifier (VNI) |   Reserved    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// I must be 1 for a valid VNI. Reserved bits must be sent as zero and
// ignored on receipt (RFC 7348 §5) — hence reservedBitsZero() is a
// diagnostic, not a validity rule. Extensions such as VXLAN-GBP reuse these
// bits; podwire neither sends nor interprets them.

import { murmurFinalize, murmurMixBlock } from './murmur3.js';
import { EMPTY, read32 } from './bytes.js';
import { type Codec, requireBytes, requireUint, targetBuffer } from './codec.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './ipv4.js';

const FLAGS = 0;
const VNI = 4; // 24 bits, then one reserved byte

const FLAG_I = 0x08;

export const VXLAN_HEADER_SIZE = 8;
/** IANA-assigned (RFC 7348 §5). Linux's historic default was 8472. */
export const VXLAN_PORT = 4789;
/**
 * Bytes VXLAN adds to a frame: outer Ethernet 14 + outer IPv4 20 + UDP 8 +
 * VXLAN 8 = 50. The same 50 is what pods lose from the underlay MTU: the
 * outer IP packet is outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 +
 * the pod's IP packet, so a 1500-byte underlay leaves pods 1500 − 50 = 1450.
 */
export const VXLAN_OVERHEAD = 50;
export const VXLAN_MAX_VNI = 0xffffff;

/** RFC 7348 §5: source ports from the dynamic/private range 49152–65535. */
export const VXLAN_SOURCE_PORT_MIN = 49152;
export const VXLAN_SOURCE_PORT_MAX = 65535;

/** A view over a VXLAN header at buf[off, off+len) (len = UDP payload). */
export class VxlanView {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** The 8-byte header fits. The I flag is checked separately (flagI). */
  isValid(): boolean {
    return this.off >= 0 && this.len >= VXLAN_HEADER_SIZE && this.off + this.len <= this.buf.length;
  }

  /** The I bit: the VNI field is valid. Receivers drop frames without it. */
  get flagI(): boolean {
    return (this.buf[this.off + FLAGS] & FLAG_I) !== 0;
  }

  /** Every reserved bit is zero (byte 0 except I, bytes 1–3, byte 7). */
  reservedBitsZero(): boolean {
    const b = this.buf;
    const o = this.off;
    return (b[o] & ~FLAG_I) === 0 && (b[o + 1] | b[o + 2] | b[o + 3] | b[o + 7]) === 0;
  }

  /** 24-bit VXLAN Network Identifier. */
  get vni(): number {
    const b = this.buf;
    const o = this.off + VNI;
    return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
  }

  /** Sets the 24 VNI bits, leaving the reserved byte alone. */
  set vni(v: number) {
    const b = this.buf;
    const o = this.off + VNI;
    b[o] = v >>> 16;
    b[o + 1] = v >>> 8;
    b[o + 2] = v;
  }

  /** The inner Ethernet frame. */
  get payloadOffset(): number {
    return this.off + VXLAN_HEADER_SIZE;
  }
}

/** Writes flags = I and the VNI at buf[off], every reserved bit exactly 0. Returns 8. */
export function writeVxlanHeader(buf: Uint8Array, off: number, vni: number): number {
  buf[off] = FLAG_I;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf[off + 4] = vni >>> 16;
  buf[off + 5] = vni >>> 8;
  buf[off + 6] = vni;
  buf[off + 7] = 0;
  return VXLAN_HEADER_SIZE;
}

/**
 * Maps a flow hash to a UDP source port in 49152–65535. RFC 7348 §5 asks
 * for a source port derived from the inner flow so that underlay ECMP and
 * RSS spread tunnels; xor-folding the halves first means both halves of the
 * hash count, even if a caller passes a weaker hash than flowHash.
 */
export function vxlanSourcePort(hash: number): number {
  return VXLAN_SOURCE_PORT_MIN | ((hash ^ (hash >>> 16)) & 0x3fff);
}

// murmur3_32 (murmur3.ts), fixed seed so every node maps a flow the same way.
const SEED = 0x9747b28c;

/**
 * A deterministic uint32 hash of the inner IPv4 flow at buf[ipOff]: source,
 * destination and protocol, plus both ports for TCP/UDP when the packet is
 * not a fragment (fragments hash without ports, so all fragments of a
 * datagram take the same path). No allocation, never throws; a header that
 * is cut short hashes whatever bytes exist.
 */
export function flowHash(buf: Uint8Array, ipOff: number): number {
  const protocol = buf[ipOff + 9] | 0;
  let h = SEED;
  h = murmurMixBlock(h, read32(buf, ipOff + 12));
  h = murmurMixBlock(h, read32(buf, ipOff + 16));
  h = murmurMixBlock(h, protocol);
  let words = 3;
  if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
    const fragment = (((buf[ipOff + 6] << 8) | buf[ipOff + 7]) & 0x3fff) !== 0;
    const l4 = ipOff + ((buf[ipOff] & 0x0f) << 2);
    if (!fragment && l4 + 4 <= buf.length) {
      h = murmurMixBlock(h, read32(buf, l4)); // source port << 16 | destination port
      words++;
    }
  }
  return murmurFinalize(h ^ (words * 4));
}

export interface VxlanHeader {
  vni: number;
}

/** Always writes flags = I with reserved bits zero; decode ignores reserved bits. */
export const vxlanHeader: Codec<VxlanHeader> = {
  encode(value, buf, offset = 0) {
    requireUint(value.vni, 24, 'vni');
    const out = targetBuffer(buf, offset, VXLAN_HEADER_SIZE, 'vxlan header');
    writeVxlanHeader(out, offset, value.vni);
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, VXLAN_HEADER_SIZE, 'vxlan header');
    return { vni: new VxlanView().wrap(buf, offset, VXLAN_HEADER_SIZE).vni };
  },
  encodingLength() {
    return VXLAN_HEADER_SIZE;
  },
};
