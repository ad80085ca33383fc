import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  TcpView,
  UdpView,
  computeTcpChecksum,
  computeUdpChecksum,
} from '../../../src/packet/index.js';
import { bytes, flowArb, naiveL4Checksum, tcpFrame, udpFrame } from './fixtures.js';

const flow = { src: 0x0af40102, dst: 0x0af40203, srcPort: 40000, dstPort: 53, payload: Buffer.from('hello, pod') };

describe('UdpView', () => {
  it('reads and writes every field', () => {
    const frame = udpFrame(flow);
    const udp = new UdpView().wrap(frame, 34, frame.length - 34);
    expect(udp.isValid()).toBe(true);
    expect([udp.srcPort, udp.dstPort, udp.length]).toEqual([40000, 53, 18]);
    expect(udp.payloadOffset).toBe(42);
    expect(udp.payloadLength).toBe(10);
    expect(frame.subarray(udp.payloadOffset).toString()).toBe('hello, pod');
    udp.srcPort = 1;
    udp.dstPort = 65535;
    udp.checksum = 0xbeef;
    expect(frame.subarray(34, 42)).toEqual(Buffer.from([0, 1, 0xff, 0xff, 0, 18, 0xbe, 0xef]));
  });

  it('is valid only with 8 ≤ length ≤ available', () => {
    const frame = udpFrame(flow);
    const udp = new UdpView().wrap(frame, 34, 18);
    udp.length = 7;
    expect(udp.isValid()).toBe(false);
    udp.length = 19;
    expect(udp.isValid()).toBe(false);
    udp.length = 8;
    expect(udp.isValid()).toBe(true);
    expect(new UdpView().wrap(frame, 34, 7).isValid()).toBe(false);
  });

  it('computeUdpChecksum agrees with a naive pseudo-header checksum', () => {
    fc.assert(
      fc.property(flowArb, (f) => {
        const frame = udpFrame(f);
        const seg = Buffer.from(frame.subarray(34));
        seg.writeUInt16BE(0, 6);
        const naive = naiveL4Checksum(f.src, f.dst, 17, seg);
        expect(computeUdpChecksum(frame, 14)).toBe(naive === 0 ? 0xffff : naive);
      }),
    );
  });

  it('sends a computed 0 as 0xffff (RFC 768)', () => {
    // Put the would-be checksum into the payload: the sum then folds to
    // 0xffff and the checksum to 0, which UDP must transmit as 0xffff.
    const frame = udpFrame({ ...flow, payload: Buffer.alloc(2) });
    const c = computeUdpChecksum(frame, 14);
    frame.writeUInt16BE(c, 42);
    expect(
      naiveL4Checksum(
        flow.src,
        flow.dst,
        17,
        Buffer.concat([frame.subarray(34, 40), Buffer.alloc(2), frame.subarray(42)]),
      ),
    ).toBe(0);
    expect(computeUdpChecksum(frame, 14)).toBe(0xffff);
  });
});

describe('TcpView', () => {
  it('has the RFC flag values', () => {
    expect([TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR]).toEqual([
      1, 2, 4, 8, 16, 32, 64, 128,
    ]);
  });

  it('reads and writes every field, options included', () => {
    const mss = Buffer.from([2, 4, 0x05, 0xb4]); // MSS 1460
    const frame = tcpFrame(flow, mss, 0xfffffff0);
    const tcp = new TcpView().wrap(frame, 34, frame.length - 34);
    expect(tcp.isValid()).toBe(true);
    expect(tcp.srcPort).toBe(40000);
    expect(tcp.dstPort).toBe(53);
    expect(tcp.seq).toBe(0xfffffff0);
    expect(tcp.ack).toBe(7);
    expect(tcp.dataOffsetBytes).toBe(24);
    expect(tcp.flags).toBe(TCP_ACK | TCP_PSH);
    expect(tcp.window).toBe(65535);
    expect(tcp.urgentPointer).toBe(0);
    expect(tcp.payloadOffset).toBe(58);
    expect(tcp.payloadLength).toBe(10);
    expect(tcp.checksum).toBe(computeTcpChecksum(frame, 14));
    tcp.seq = 0x80000000;
    tcp.ack = 0xffffffff;
    tcp.flags = TCP_SYN | TCP_ECE | TCP_CWR;
    tcp.window = 1;
    tcp.urgentPointer = 2;
    tcp.srcPort = 3;
    tcp.dstPort = 4;
    expect([tcp.seq, tcp.ack, tcp.flags, tcp.window, tcp.urgentPointer, tcp.srcPort, tcp.dstPort]).toEqual([
      0x80000000, 0xffffffff, 0xc2, 1, 2, 3, 4,
    ]);
  });

  it('is invalid with a data offset below 5 words or beyond the segment', () => {
    const frame = tcpFrame(flow);
    const seg = frame.length - 34;
    frame[34 + 12] = 4 << 4;
    expect(new TcpView().wrap(frame, 34, seg).isValid()).toBe(false);
    frame[34 + 12] = 15 << 4; // 60 bytes > the 30-byte segment
    expect(new TcpView().wrap(frame, 34, seg).isValid()).toBe(false);
    frame[34 + 12] = 5 << 4;
    expect(new TcpView().wrap(frame, 34, 19).isValid()).toBe(false);
  });

  it('computeTcpChecksum agrees with a naive pseudo-header checksum', () => {
    fc.assert(
      fc.property(
        flowArb,
        fc.integer({ min: 0, max: 10 }).chain((n) => bytes(n * 4, n * 4)),
        (f, opts) => {
          const frame = tcpFrame(f, opts);
          const seg = Buffer.from(frame.subarray(34));
          seg.writeUInt16BE(0, 16);
          expect(computeTcpChecksum(frame, 14)).toBe(naiveL4Checksum(f.src, f.dst, 6, seg));
        },
      ),
    );
  });
});
