// struct virtio_net_hdr (virtio spec §5.1.6; include/uapi/linux/virtio_net.h),
// the 10 bytes Linux puts in front of every frame on an AF_PACKET socket with
// PACKET_VNET_HDR set. It carries checksum-offload and GSO state: a TCP
// segment from a pod may arrive with NEEDS_CSUM (checksum field holds only
// the pseudo-header sum, see partialPseudoChecksum) or as one 64 KB GSO
// super-frame that must be segmented before it leaves a real NIC.
//
//  0               1               2               3
// +---------------+---------------+-------------------------------+
// |     flags     |   gso_type    |        hdr_len (le16)         |
// +---------------+---------------+-------------------------------+
// |        gso_size (le16)        |      csum_start (le16)        |
// +-------------------------------+-------------------------------+
// |      csum_offset (le16)       |
// +-------------------------------+
//
// The u16 fields are LITTLE-endian (host order on every platform podwire
// runs on; the legacy virtio header is native-endian), unlike everything
// else in this folder.

import { EMPTY } from './bytes.js';
import { type Codec, requireBytes, requireUint, targetBuffer } from './codec.js';
import { finishChecksum, sum16 } from './checksum.js';

const FLAGS = 0;
const GSO_TYPE = 1;
const HDR_LEN = 2;
const GSO_SIZE = 4;
const CSUM_START = 6;
const CSUM_OFFSET = 8;

export const VNET_HDR_SIZE = 10;

/** Checksum from csum_start to the end, stored at csum_start + csum_offset, is still to be done. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** The checksum has already been verified (receive side). */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** OR-ed into gso_type: the TCP segments carry ECN CWR. */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

// Short aliases (the VNET_HDR_SIZE family), same values.
export const VNET_HDR_F_NEEDS_CSUM = VIRTIO_NET_HDR_F_NEEDS_CSUM;
export const VNET_HDR_F_DATA_VALID = VIRTIO_NET_HDR_F_DATA_VALID;
export const VNET_HDR_GSO_NONE = VIRTIO_NET_HDR_GSO_NONE;
export const VNET_HDR_GSO_TCPV4 = VIRTIO_NET_HDR_GSO_TCPV4;
export const VNET_HDR_GSO_UDP = VIRTIO_NET_HDR_GSO_UDP;
export const VNET_HDR_GSO_TCPV6 = VIRTIO_NET_HDR_GSO_TCPV6;
export const VNET_HDR_GSO_UDP_L4 = VIRTIO_NET_HDR_GSO_UDP_L4;
export const VNET_HDR_GSO_ECN = VIRTIO_NET_HDR_GSO_ECN;

function readLe16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function writeLe16(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}

/** A view over a virtio_net_hdr at buf[off, off+10). */
export class VnetHdrView {
  buf: Buffer = EMPTY;
  off = 0;

  wrap(buf: Buffer, off: number): this {
    this.buf = buf;
    this.off = off;
    return this;
  }

  /** The 10 bytes exist. */
  isValid(): boolean {
    return this.off >= 0 && this.off + VNET_HDR_SIZE <= this.buf.length;
  }

  get flags(): number {
    return this.buf[this.off + FLAGS];
  }

  set flags(v: number) {
    this.buf[this.off + FLAGS] = v;
  }

  get gsoType(): number {
    return this.buf[this.off + GSO_TYPE];
  }

  set gsoType(v: number) {
    this.buf[this.off + GSO_TYPE] = v;
  }

  /** Bytes of headers (Ethernet + IP + L4) in front of each GSO segment's payload. */
  get hdrLen(): number {
    return readLe16(this.buf, this.off + HDR_LEN);
  }

  set hdrLen(v: number) {
    writeLe16(this.buf, this.off + HDR_LEN, v);
  }

  /** Payload bytes per GSO segment (the MSS for TCP). */
  get gsoSize(): number {
    return readLe16(this.buf, this.off + GSO_SIZE);
  }

  set gsoSize(v: number) {
    writeLe16(this.buf, this.off + GSO_SIZE, v);
  }

  /** Where checksumming starts, counted from the start of the Ethernet frame. */
  get csumStart(): number {
    return readLe16(this.buf, this.off + CSUM_START);
  }

  set csumStart(v: number) {
    writeLe16(this.buf, this.off + CSUM_START, v);
  }

  /** Where the checksum goes, counted from csumStart (16 for TCP, 6 for UDP). */
  get csumOffset(): number {
    return readLe16(this.buf, this.off + CSUM_OFFSET);
  }

  set csumOffset(v: number) {
    writeLe16(this.buf, this.off + CSUM_OFFSET, v);
  }

  /** All zero: "no offload, checksums complete, no GSO" — what to send by default. */
  clear(): void {
    const b = this.buf;
    const o = this.off;
    for (let i = 0; i < VNET_HDR_SIZE; i++) b[o + i] = 0;
  }
}

export interface VnetHdr {
  flags?: number;
  gsoType?: number;
  hdrLen?: number;
  gsoSize?: number;
  csumStart?: number;
  csumOffset?: number;
}

const scratch = new VnetHdrView();

/** Writes a virtio_net_hdr at buf[off] (absent fields are 0) and returns 10. */
export function writeVnetHdr(buf: Buffer, off: number, hdr: VnetHdr): number {
  const v = scratch.wrap(buf, off);
  v.flags = hdr.flags ?? 0;
  v.gsoType = hdr.gsoType ?? 0;
  v.hdrLen = hdr.hdrLen ?? 0;
  v.gsoSize = hdr.gsoSize ?? 0;
  v.csumStart = hdr.csumStart ?? 0;
  v.csumOffset = hdr.csumOffset ?? 0;
  return VNET_HDR_SIZE;
}

export const vnetHdr: Codec<Required<VnetHdr>> = {
  encode(value, buf, offset = 0) {
    requireUint(value.flags, 8, 'flags');
    requireUint(value.gsoType, 8, 'gsoType');
    requireUint(value.hdrLen, 16, 'hdrLen');
    requireUint(value.gsoSize, 16, 'gsoSize');
    requireUint(value.csumStart, 16, 'csumStart');
    requireUint(value.csumOffset, 16, 'csumOffset');
    const out = targetBuffer(buf, offset, VNET_HDR_SIZE, 'virtio_net_hdr');
    writeVnetHdr(out, offset, value);
    return out;
  },
  decode(buf, offset = 0) {
    requireBytes(buf, offset, VNET_HDR_SIZE, 'virtio_net_hdr');
    const v = new VnetHdrView().wrap(buf, offset);
    return {
      flags: v.flags,
      gsoType: v.gsoType,
      hdrLen: v.hdrLen,
      gsoSize: v.gsoSize,
      csumStart: v.csumStart,
      csumOffset: v.csumOffset,
    };
  },
  encodingLength() {
    return VNET_HDR_SIZE;
  },
};

/**
 * Finishes a NEEDS_CSUM checksum in software, as Linux's skb_checksum_help:
 * sums the frame from csumStart to its end (the field already holds the
 * pseudo-header sum) and stores the complement at csumStart + csumOffset, a
 * 0 result as 0xffff. Needed before a partially-checksummed frame leaves
 * through a path that cannot offload (e.g. inside a VXLAN tunnel). Returns
 * false, writing nothing, if the offsets do not fit the frame.
 */
export function completePartialChecksum(
  frame: Uint8Array,
  frameOff: number,
  frameLen: number,
  csumStart: number,
  csumOffset: number,
): boolean {
  const field = frameOff + csumStart + csumOffset;
  const end = frameOff + frameLen;
  if (frameOff < 0 || end > frame.length || field + 2 > end) return false;
  const c = finishChecksum(sum16(frame, frameOff + csumStart, frameLen - csumStart));
  const v = c === 0 ? 0xffff : c;
  frame[field] = v >>> 8;
  frame[field + 1] = v;
  return true;
}
