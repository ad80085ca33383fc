// Ethernet II (DIX) framing: the header every frame on a veth, bridge port
// or AF_PACKET socket starts with.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination MAC (6 bytes)                  |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// |                      Source MAC (6 bytes)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           EtherType           |   payload ...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// 802.1Q tags are not unwrapped: a tagged frame reports ETHERTYPE_VLAN and
// the pipeline decides what to do with it (podwire's own links are untagged).

import { type Codec, requireBytes, requireMac, requireUint, targetBuffer } from './codec.js';
import { EMPTY, read16, write16 } from './bytes.js';
import { PacketError } from './errors.js';

const DST = 0;
const SRC = 6;
const ETHERTYPE = 12;

export const ETHERNET_HEADER_SIZE = 14;
export const MAC_SIZE = 6;
/** Shortest frame on the wire without the FCS; shorter frames are zero-padded. */
export const ETHERNET_MIN_FRAME_SIZE = 60;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;

/** ff:ff:ff:ff:ff:ff. Shared: never write into it. */
export const BROADCAST_MAC: Buffer = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Six bytes equal? Compared in place, no slices. */
export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  return (
    a[aOff] === b[bOff] &&
    a[aOff + 1] === b[bOff + 1] &&
    a[aOff + 2] === b[bOff + 2] &&
    a[aOff + 3] === b[bOff + 3] &&
    a[aOff + 4] === b[bOff + 4] &&
    a[aOff + 5] === b[bOff + 5]
  );
}

/** Copies six bytes in place. A loop beats Buffer.copy's call overhead at this size. */
export function copyMac(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
  for (let i = 0; i < 6; i++) dst[dstOff + i] = src[srcOff + i];
}

/**
 * A view over an Ethernet header at buf[off, off+len), where len is the
 * whole frame. Call isValid() once; the accessors then don't re-check.
 */
export class EthernetView {
  buf: Buffer = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Buffer, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** The frame holds a full header inside the buffer. */
  isValid(): boolean {
    return this.off >= 0 && this.len >= ETHERNET_HEADER_SIZE && this.off + this.len <= this.buf.length;
  }

  dstIsBroadcast(): boolean {
    return macEquals(this.buf, this.off + DST, BROADCAST_MAC, 0);
  }

  /** The group bit (I/G) is set. True for broadcast too. */
  dstIsMulticast(): boolean {
    return (this.buf[this.off + DST] & 1) === 1;
  }

  dstEquals(mac: Uint8Array, macOff = 0): boolean {
    return macEquals(this.buf, this.off + DST, mac, macOff);
  }

  srcEquals(mac: Uint8Array, macOff = 0): boolean {
    return macEquals(this.buf, this.off + SRC, mac, macOff);
  }

  get etherType(): number {
    return read16(this.buf, this.off + ETHERTYPE);
  }

  set etherType(v: number) {
    write16(this.buf, this.off + ETHERTYPE, v);
  }

  setDst(mac: Uint8Array, macOff = 0): void {
    copyMac(mac, macOff, this.buf, this.off + DST);
  }

  setSrc(mac: Uint8Array, macOff = 0): void {
    copyMac(mac, macOff, this.buf, this.off + SRC);
  }

  copyDstTo(target: Uint8Array, targetOff = 0): void {
    copyMac(this.buf, this.off + DST, target, targetOff);
  }

  copySrcTo(target: Uint8Array, targetOff = 0): void {
    copyMac(this.buf, this.off + SRC, target, targetOff);
  }

  get payloadOffset(): number {
    return this.off + ETHERNET_HEADER_SIZE;
  }

  get payloadLength(): number {
    return this.len - ETHERNET_HEADER_SIZE;
  }
}

const MAC_RE = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/** Parses "aa:bb:cc:dd:ee:ff" (or with dashes). Config-time: throws ERR_BAD_MAC. */
export function parseMac(s: string): Buffer {
  if (typeof s !== 'string' || !MAC_RE.test(s)) {
    throw new PacketError('ERR_BAD_MAC', `not a MAC address: ${JSON.stringify(s)}`);
  }
  return Buffer.from(s.replace(/[:-]/g, ''), 'hex');
}

/** "aa:bb:cc:dd:ee:ff", lower case. Allocates: for traces and printers. */
export function macToString(buf: Uint8Array, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = buf[off + i] ?? 0;
    s += (i ? ':' : '') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

export interface EthernetHeader {
  dst: Buffer;
  src: Buffer;
  etherType: number;
}

export const ethernetHeader: Codec<EthernetHeader> = {
  encode(value, buf, offset = 0) {
    requireMac(value.dst, 'ethernet dst');
    requireMac(value.src, 'ethernet src');
    requireUint(value.etherType, 16, 'etherType');
    const out = targetBuffer(buf, offset, ETHERNET_HEADER_SIZE, 'ethernet header');
    const v = new EthernetView().wrap(out, offset, ETHERNET_HEADER_SIZE);
    v.setDst(value.dst);
    v.setSrc(value.src);
    v.etherType = value.etherType;
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, ETHERNET_HEADER_SIZE, 'ethernet header');
    const v = new EthernetView().wrap(buf, offset, ETHERNET_HEADER_SIZE);
    const dst = Buffer.alloc(6);
    const src = Buffer.alloc(6);
    v.copyDstTo(dst, 0);
    v.copySrcTo(src, 0);
    return { dst, src, etherType: v.etherType };
  },
  encodingLength() {
    return ETHERNET_HEADER_SIZE;
  },
};
