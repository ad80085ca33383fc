import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_IPV4,
  EthernetView,
  ICMP_ECHO_REQUEST,
  IPPROTO_UDP,
  IPV4_MIN_HEADER_SIZE,
  IcmpView,
  Ipv4View,
  UDP_HEADER_SIZE,
  UdpView,
  VXLAN_HEADER_SIZE,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VxlanView,
  flowHash,
  ipv4ToString,
  macToString,
  parseIpv4,
  vxlanSourcePort,
  writeVxlanHeader,
} from '../../../src/packet/index.js';
import { CAPTURED_VXLAN, flowArb, hex, tcpFrame, u32, udpFrame } from './fixtures.js';

describe('VXLAN constants', () => {
  it('overhead is outer Ethernet + IPv4 + UDP + VXLAN, so 1500 leaves pods 1450', () => {
    expect(VXLAN_OVERHEAD).toBe(ETHERNET_HEADER_SIZE + IPV4_MIN_HEADER_SIZE + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE);
    expect(1500 - VXLAN_OVERHEAD).toBe(1450);
    expect(VXLAN_PORT).toBe(4789);
  });
});

describe('VxlanView', () => {
  // Hand-assembled from the RFC 7348 §5 layout: outer Ethernet, outer IPv4
  // (10.0.0.1 → 10.0.0.2, UDP), UDP 50000 → 4789 with checksum 0, VXLAN with
  // I set and VNI 0x123456, then an inner Ethernet header.
  const HAND = hex(`
    020000000002 020000000001 0800
    4500 0032 0000 4000 4011 0000 0a000001 0a000002
    c350 12b5 001e 0000
    08 000000 123456 00
    0a0000000002 0a0000000001 0800`);

  it('decodes a hand-assembled RFC 7348 packet field by field', () => {
    const udp = new UdpView().wrap(HAND, 34, HAND.length - 34);
    expect(udp.isValid()).toBe(true);
    expect(udp.dstPort).toBe(VXLAN_PORT);
    expect(udp.srcPort).toBe(50000);
    expect(udp.checksum).toBe(0);
    const vx = new VxlanView().wrap(HAND, udp.payloadOffset, udp.length - 8);
    expect(vx.isValid()).toBe(true);
    expect(vx.flagI).toBe(true);
    expect(vx.reservedBitsZero()).toBe(true);
    expect(vx.vni).toBe(0x123456);
    expect(vx.payloadOffset).toBe(50);
    const inner = new EthernetView().wrap(HAND, vx.payloadOffset, 14);
    expect(inner.isValid()).toBe(true);
    expect(macToString(HAND, 50)).toBe('0a:00:00:00:00:02');
    expect(inner.etherType).toBe(ETHERTYPE_IPV4);
  });

  it('decodes a captured VXLAN packet down to the inner ICMP', () => {
    const p = CAPTURED_VXLAN;
    const outer = new Ipv4View().wrap(p, 14, p.length - 14);
    expect(outer.isValid()).toBe(true);
    expect(outer.isHeaderChecksumValid()).toBe(true);
    expect(outer.protocol).toBe(IPPROTO_UDP);
    expect(ipv4ToString(outer.src)).toBe('192.168.203.1');
    expect(ipv4ToString(outer.dst)).toBe('192.168.202.1');
    const udp = new UdpView().wrap(p, outer.payloadOffset, outer.payloadLength);
    expect(udp.isValid()).toBe(true);
    expect([udp.srcPort, udp.dstPort, udp.length, udp.checksum]).toEqual([45149, 4789, 114, 0]);
    const vx = new VxlanView().wrap(p, udp.payloadOffset, udp.payloadLength);
    expect(vx.flagI).toBe(true);
    expect(vx.reservedBitsZero()).toBe(true);
    expect(vx.vni).toBe(255);
    const inner = new EthernetView().wrap(p, vx.payloadOffset, udp.payloadLength - 8);
    expect(macToString(p, inner.off)).toBe('00:30:88:01:00:02');
    expect(macToString(p, inner.off + 6)).toBe('00:16:3e:37:f6:04');
    expect(inner.etherType).toBe(ETHERTYPE_IPV4);
    const ip = new Ipv4View().wrap(p, inner.payloadOffset, p.length - inner.payloadOffset);
    expect(ip.isValid() && ip.isHeaderChecksumValid()).toBe(true);
    const icmp = new IcmpView().wrap(p, ip.payloadOffset, ip.payloadLength);
    expect(icmp.type).toBe(ICMP_ECHO_REQUEST);
    expect(icmp.isChecksumValid()).toBe(true);
  });

  it('reports every reserved bit, and the I flag', () => {
    for (let bit = 0; bit < 64; bit++) {
      const b = Buffer.alloc(8);
      writeVxlanHeader(b, 0, 0xffffff);
      const byte = bit >> 3;
      const isVni = byte >= 4 && byte <= 6;
      const isI = byte === 0 && 0x80 >> (bit & 7) === 0x08;
      if (isVni || isI) continue;
      b[byte] |= 0x80 >> (bit & 7);
      expect(new VxlanView().wrap(b, 0, 8).reservedBitsZero()).toBe(false);
    }
    const noI = hex('00 000000 000001 00');
    expect(new VxlanView().wrap(noI, 0, 8).flagI).toBe(false);
    expect(new VxlanView().wrap(noI, 0, 7).isValid()).toBe(false);
  });

  it('writeVxlanHeader writes exactly I + VNI over a dirty buffer', () => {
    const b = Buffer.alloc(10, 0xff);
    expect(writeVxlanHeader(b, 1, 0xabcdef)).toBe(8);
    expect(b).toEqual(hex('ff 08 000000 abcdef 00 ff'));
    const vx = new VxlanView().wrap(b, 1, 8);
    vx.vni = 42;
    expect(vx.vni).toBe(42);
    expect(vx.reservedBitsZero()).toBe(true);
  });
});

describe('flowHash / vxlanSourcePort', () => {
  it('keeps ports in the dynamic range 49152–65535', () => {
    fc.assert(
      fc.property(fc.oneof(u32, fc.integer(), fc.constantFrom(0, -1, 0xffffffff)), (h) => {
        const port = vxlanSourcePort(h);
        expect(Number.isInteger(port) && port >= 49152 && port <= 65535).toBe(true);
      }),
    );
  });

  it('maps the same flow to the same port, whatever else differs', () => {
    fc.assert(
      fc.property(flowArb, fc.boolean(), (f, tcp) => {
        const a = tcp ? tcpFrame(f, Buffer.alloc(0), 1) : udpFrame(f, 1);
        const b = tcp
          ? tcpFrame({ ...f, payload: Buffer.alloc(3) }, Buffer.alloc(4, 1), 99)
          : udpFrame({ ...f, payload: Buffer.alloc(7) }, 2);
        b[14 + 8] = 3; // a different TTL
        expect(flowHash(a, 14)).toBe(flowHash(b, 14));
        expect(vxlanSourcePort(flowHash(a, 14))).toBe(vxlanSourcePort(flowHash(b, 14)));
      }),
    );
  });

  it('is a pure function of the bytes (deterministic across nodes)', () => {
    const f = {
      src: parseIpv4('10.244.1.5'),
      dst: parseIpv4('10.96.0.10'),
      srcPort: 33000,
      dstPort: 53,
      payload: Buffer.alloc(0),
    };
    const h = flowHash(udpFrame(f), 14);
    expect(h).toBe(flowHash(Buffer.concat([Buffer.alloc(3), udpFrame(f)]), 17));
    expect(h >>> 0).toBe(h);
  });

  it('spreads 1000 random flows over many ports', () => {
    const ports = new Set<number>();
    const hashes = new Set<number>();
    fc.sample(flowArb, { numRuns: 1000, seed: 42 }).forEach((f) => {
      const h = flowHash(udpFrame(f), 14);
      hashes.add(h);
      ports.add(vxlanSourcePort(h));
    });
    expect(ports.size).toBeGreaterThan(200);
    expect(hashes.size).toBeGreaterThan(990);
  });

  it('spreads flows that differ only in the source port', () => {
    const ports = new Set<number>();
    for (let p = 30000; p < 31000; p++) {
      const f = { src: 0x0af40105, dst: 0x0af40209, srcPort: p, dstPort: 80, payload: Buffer.alloc(0) };
      ports.add(vxlanSourcePort(flowHash(tcpFrame(f), 14)));
    }
    expect(ports.size).toBeGreaterThan(900);
  });

  it('uses ports for TCP/UDP but not for fragments or other protocols', () => {
    const f = { src: 1, dst: 2, srcPort: 1000, dstPort: 2000, payload: Buffer.alloc(8) };
    const a = udpFrame(f);
    const b = udpFrame({ ...f, srcPort: 1001 });
    expect(flowHash(a, 14)).not.toBe(flowHash(b, 14));
    for (const frame of [a, b]) frame.writeUInt16BE(0x2000, 14 + 6); // MF: a first fragment
    expect(flowHash(a, 14)).toBe(flowHash(b, 14));
    for (const frame of [a, b]) {
      frame.writeUInt16BE(0, 14 + 6);
      frame[14 + 9] = 47; // GRE
    }
    expect(flowHash(a, 14)).toBe(flowHash(b, 14));
  });

  it('never throws on short input', () => {
    const f = { src: 1, dst: 2, srcPort: 1000, dstPort: 2000, payload: Buffer.alloc(0) };
    const frame = udpFrame(f);
    for (let n = 0; n <= frame.length; n++) {
      const h = flowHash(frame.subarray(0, n), 14);
      expect(h >>> 0).toBe(h);
    }
  });
});
