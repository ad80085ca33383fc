// ARP, RFC 826, for Ethernet hardware and IPv4 protocol addresses only.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Hardware Type (1)         |     Protocol Type (0x0800)    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  HLEN (6)     |   PLEN (4)    |          Operation            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Sender Hardware Address (6)                   |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |  Sender Protocol Address (4)  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// |                               |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// |                 Target Hardware Address (6)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Target Protocol Address (4)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { EMPTY, read16, read32, write16, write32 } from './bytes.js';
import { type Codec, requireBytes, requireMac, requireUint, targetBuffer } from './codec.js';
import { PacketError } from './errors.js';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_SIZE,
  ETHERNET_MIN_FRAME_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  copyMac,
  macEquals,
} from './ethernet.js';

const HTYPE = 0;
const PTYPE = 2;
const HLEN = 4;
const PLEN = 5;
const OP = 6;
const SHA = 8;
const SPA = 14;
const THA = 18;
const TPA = 24;

const HTYPE_ETHERNET = 1;

export const ARP_SIZE = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

/** A view over an ARP packet at buf[off, off+len) (len = frame − 14). */
export class ArpView {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4) that fits. */
  isValid(): boolean {
    const b = this.buf;
    const o = this.off;
    if (o < 0 || this.len < ARP_SIZE || o + this.len > b.length) return false;
    return (
      read16(b, o + HTYPE) === HTYPE_ETHERNET &&
      read16(b, o + PTYPE) === ETHERTYPE_IPV4 &&
      b[o + HLEN] === 6 &&
      b[o + PLEN] === 4
    );
  }

  get op(): number {
    return read16(this.buf, this.off + OP);
  }

  set op(v: number) {
    write16(this.buf, this.off + OP, v);
  }

  copySenderMacTo(target: Uint8Array, targetOff = 0): void {
    copyMac(this.buf, this.off + SHA, target, targetOff);
  }

  senderMacEquals(mac: Uint8Array, macOff = 0): boolean {
    return macEquals(this.buf, this.off + SHA, mac, macOff);
  }

  setSenderMac(mac: Uint8Array, macOff = 0): void {
    copyMac(mac, macOff, this.buf, this.off + SHA);
  }

  /** Unsigned 32-bit. */
  get senderIp(): number {
    return read32(this.buf, this.off + SPA);
  }

  set senderIp(v: number) {
    write32(this.buf, this.off + SPA, v);
  }

  copyTargetMacTo(target: Uint8Array, targetOff = 0): void {
    copyMac(this.buf, this.off + THA, target, targetOff);
  }

  targetMacEquals(mac: Uint8Array, macOff = 0): boolean {
    return macEquals(this.buf, this.off + THA, mac, macOff);
  }

  setTargetMac(mac: Uint8Array, macOff = 0): void {
    copyMac(mac, macOff, this.buf, this.off + THA);
  }

  get targetIp(): number {
    return read32(this.buf, this.off + TPA);
  }

  set targetIp(v: number) {
    write32(this.buf, this.off + TPA, v);
  }

  /** Sender and target IP equal: a gratuitous ARP announcing a binding. */
  isGratuitous(): boolean {
    return this.senderIp === this.targetIp;
  }
}

/** Writes the fixed Ethernet/IPv4 preamble (htype … op) of an ARP packet. */
function writeArpPreamble(out: Uint8Array, o: number, op: number): void {
  write16(out, o + HTYPE, HTYPE_ETHERNET);
  write16(out, o + PTYPE, ETHERTYPE_IPV4);
  out[o + HLEN] = 6;
  out[o + PLEN] = 4;
  write16(out, o + OP, op);
}

/** Ethernet header + ARP, zero padded to the 60-byte minimum frame. */
const ARP_FRAME_SIZE = ETHERNET_MIN_FRAME_SIZE;

/**
 * Writes a complete Ethernet frame answering `request` with "targetIp is at
 * ourMac" at out[off] and returns its length (60), or 0 if out is too small.
 * Works in place: out/off may be the frame `request` views.
 */
export function writeArpReply(out: Buffer, off: number, request: ArpView, ourMac: Uint8Array): number {
  if (off < 0 || off + ARP_FRAME_SIZE > out.length) return 0;
  const senderIp = request.senderIp;
  const targetIp = request.targetIp;
  const a = off + ETHERNET_HEADER_SIZE;
  // Order matters for the in-place case: the requester's MAC is copied out of
  // SHA (to the Ethernet dst and to THA) before SHA is overwritten.
  request.copySenderMacTo(out, off);
  request.copySenderMacTo(out, a + THA);
  copyMac(ourMac, 0, out, off + 6);
  write16(out, off + 12, ETHERTYPE_ARP);
  writeArpPreamble(out, a, ARP_REPLY);
  copyMac(ourMac, 0, out, a + SHA);
  write32(out, a + SPA, targetIp);
  write32(out, a + TPA, senderIp);
  out.fill(0, a + ARP_SIZE, off + ARP_FRAME_SIZE);
  return ARP_FRAME_SIZE;
}

/**
 * Writes a broadcast "who has targetIp? tell srcIp" frame at out[off] and
 * returns its length (60), or 0 if out is too small. THA is zero, as Linux
 * sends it.
 */
export function writeArpRequest(out: Buffer, off: number, srcMac: Uint8Array, srcIp: number, targetIp: number): number {
  if (off < 0 || off + ARP_FRAME_SIZE > out.length) return 0;
  const a = off + ETHERNET_HEADER_SIZE;
  copyMac(BROADCAST_MAC, 0, out, off);
  copyMac(srcMac, 0, out, off + 6);
  write16(out, off + 12, ETHERTYPE_ARP);
  writeArpPreamble(out, a, ARP_REQUEST);
  copyMac(srcMac, 0, out, a + SHA);
  write32(out, a + SPA, srcIp);
  out.fill(0, a + THA, a + TPA);
  write32(out, a + TPA, targetIp);
  out.fill(0, a + ARP_SIZE, off + ARP_FRAME_SIZE);
  return ARP_FRAME_SIZE;
}

export interface ArpPacket {
  op: number;
  senderMac: Buffer;
  senderIp: number;
  targetMac: Buffer;
  targetIp: number;
}

/** The 28-byte Ethernet/IPv4 ARP packet (no Ethernet header, no padding). */
export const arpPacket: Codec<ArpPacket> = {
  encode(value, buf, offset = 0) {
    requireUint(value.op, 16, 'op');
    requireMac(value.senderMac, 'senderMac');
    requireMac(value.targetMac, 'targetMac');
    requireUint(value.senderIp, 32, 'senderIp');
    requireUint(value.targetIp, 32, 'targetIp');
    const out = targetBuffer(buf, offset, ARP_SIZE, 'arp packet');
    writeArpPreamble(out, offset, value.op);
    const v = new ArpView().wrap(out, offset, ARP_SIZE);
    v.setSenderMac(value.senderMac);
    v.senderIp = value.senderIp;
    v.setTargetMac(value.targetMac);
    v.targetIp = value.targetIp;
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, ARP_SIZE, 'arp packet');
    const v = new ArpView().wrap(buf, offset, ARP_SIZE);
    if (!v.isValid()) throw new PacketError('ERR_MALFORMED', 'not an Ethernet/IPv4 ARP packet');
    const senderMac = Buffer.alloc(6);
    const targetMac = Buffer.alloc(6);
    v.copySenderMacTo(senderMac);
    v.copyTargetMacTo(targetMac);
    return { op: v.op, senderMac, senderIp: v.senderIp, targetMac, targetIp: v.targetIp };
  },
  encodingLength() {
    return ARP_SIZE;
  },
};
