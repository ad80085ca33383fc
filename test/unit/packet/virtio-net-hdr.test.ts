import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_SIZE,
  VnetHdrView,
  completePartialChecksum,
  computeTcpChecksum,
  computeUdpChecksum,
  partialPseudoChecksum,
  writeVnetHdr,
} from '../../../src/packet/index.js';
import { flowArb, hex, tcpFrame, udpFrame } from './fixtures.js';

describe('virtio_net_hdr', () => {
  it('lays out the u16 fields little-endian', () => {
    const buf = Buffer.alloc(12, 0xee);
    const n = writeVnetHdr(buf, 1, {
      flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
      gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
      hdrLen: 66,
      gsoSize: 1448,
      csumStart: 34,
      csumOffset: 16,
    });
    expect(n).toBe(VNET_HDR_SIZE);
    expect(buf).toEqual(hex('ee 01 81 4200 a805 2200 1000 ee'));
    const v = new VnetHdrView().wrap(buf, 1);
    expect(v.isValid()).toBe(true);
    expect([v.flags, v.gsoType, v.hdrLen, v.gsoSize, v.csumStart, v.csumOffset]).toEqual([1, 0x81, 66, 1448, 34, 16]);
    expect(VNET_HDR_F_NEEDS_CSUM).toBe(VIRTIO_NET_HDR_F_NEEDS_CSUM);
  });

  it('setters round-trip and clear() zeroes exactly ten bytes', () => {
    const buf = Buffer.alloc(12, 0xee);
    const v = new VnetHdrView().wrap(buf, 1);
    v.clear();
    expect(buf).toEqual(hex('ee 00000000000000000000 ee'));
    v.hdrLen = 0xfffe;
    v.gsoSize = 0x0102;
    v.csumStart = 0x8000;
    v.csumOffset = 6;
    v.flags = 2;
    v.gsoType = 5;
    expect([v.flags, v.gsoType, v.hdrLen, v.gsoSize, v.csumStart, v.csumOffset]).toEqual([
      2, 5, 0xfffe, 0x0102, 0x8000, 6,
    ]);
    expect(writeVnetHdr(buf, 1, {})).toBe(10);
    expect(buf).toEqual(hex('ee 00000000000000000000 ee'));
    expect(new VnetHdrView().wrap(buf, 3).isValid()).toBe(false);
  });
});

describe('NEEDS_CSUM: partialPseudoChecksum then completePartialChecksum', () => {
  it('produces the full TCP checksum', () => {
    fc.assert(
      fc.property(flowArb, (f) => {
        const frame = tcpFrame(f);
        const full = frame.readUInt16BE(50);
        // What a pod's kernel hands us with TX offload: only the pseudo sum.
        frame.writeUInt16BE(partialPseudoChecksum(f.src, f.dst, IPPROTO_TCP, frame.length - 34), 50);
        expect(completePartialChecksum(frame, 0, frame.length, 34, 16)).toBe(true);
        expect(frame.readUInt16BE(50)).toBe(full);
        expect(computeTcpChecksum(frame, 14)).toBe(full);
      }),
    );
  });

  it('produces the full UDP checksum (0 sent as 0xffff)', () => {
    fc.assert(
      fc.property(flowArb, (f) => {
        const frame = udpFrame(f);
        const full = computeUdpChecksum(frame, 14);
        frame.writeUInt16BE(partialPseudoChecksum(f.src, f.dst, IPPROTO_UDP, frame.length - 34), 40);
        expect(completePartialChecksum(frame, 0, frame.length, 34, 6)).toBe(true);
        expect(frame.readUInt16BE(40)).toBe(full);
      }),
    );
  });

  it('refuses offsets outside the frame', () => {
    const frame = udpFrame({ src: 1, dst: 2, srcPort: 3, dstPort: 4, payload: Buffer.alloc(0) });
    const before = Buffer.from(frame);
    expect(completePartialChecksum(frame, 0, frame.length, 34, 7)).toBe(false);
    expect(completePartialChecksum(frame, 0, frame.length + 1, 34, 6)).toBe(false);
    expect(completePartialChecksum(frame, -1, frame.length, 34, 6)).toBe(false);
    expect(frame).toEqual(before);
  });
});
