import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IPPROTO_UDP,
  Ipv4View,
  PacketError,
  ipv4Header,
  ipv4ToString,
  parseIpv4,
  writeIpv4Header,
} from '../../../src/packet/index.js';
import { hex, naiveChecksum, u16, u32, u8 } from './fixtures.js';

// The header used as the IPv4 checksum example all over the web (a UDP
// datagram 192.168.0.1 → 192.168.0.199, total length 115).
const CLASSIC = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');

function classicPacket(): Buffer {
  const buf = Buffer.alloc(0x73);
  CLASSIC.copy(buf);
  return buf;
}

describe('Ipv4View', () => {
  it('decodes the classic header field by field', () => {
    const ip = new Ipv4View().wrap(classicPacket(), 0, 0x73);
    expect(ip.isValid()).toBe(true);
    expect(ip.isHeaderChecksumValid()).toBe(true);
    expect(ip.computeHeaderChecksum()).toBe(0xb861);
    expect(ip.version).toBe(4);
    expect(ip.headerLength).toBe(20);
    expect(ip.tos).toBe(0);
    expect(ip.totalLength).toBe(115);
    expect(ip.id).toBe(0);
    expect(ip.dontFragment).toBe(true);
    expect(ip.moreFragments).toBe(false);
    expect(ip.fragmentOffsetBytes).toBe(0);
    expect(ip.isFragment()).toBe(false);
    expect(ip.ttl).toBe(64);
    expect(ip.protocol).toBe(IPPROTO_UDP);
    expect(ip.checksum).toBe(0xb861);
    expect(ipv4ToString(ip.src)).toBe('192.168.0.1');
    expect(ipv4ToString(ip.dst)).toBe('192.168.0.199');
    expect(ip.payloadOffset).toBe(20);
    expect(ip.payloadLength).toBe(95);
  });

  it('writeIpv4Header reproduces the classic header byte for byte', () => {
    const buf = Buffer.alloc(20);
    writeIpv4Header(buf, 0, parseIpv4('192.168.0.1'), parseIpv4('192.168.0.199'), 17, 95, 64, 0, 0, true);
    expect(buf).toEqual(CLASSIC);
    expect(ipv4Header.encode({ src: 0xc0a80001, dst: 0xc0a800c7, protocol: 17, payloadLength: 95 })).toEqual(CLASSIC);
  });

  it('accepts Ethernet padding after totalLength but not a short packet', () => {
    const buf = Buffer.alloc(200);
    CLASSIC.copy(buf, 10);
    expect(new Ipv4View().wrap(buf, 10, 190).isValid()).toBe(true);
    expect(new Ipv4View().wrap(buf, 10, 190).payloadLength).toBe(95);
    expect(new Ipv4View().wrap(buf, 10, 0x72).isValid()).toBe(false);
    expect(new Ipv4View().wrap(buf, 10, 250).isValid()).toBe(false); // len beyond the buffer
  });

  it('rejects wrong version, short IHL, and totalLength below the header', () => {
    const check = (patch: (b: Buffer) => void) => {
      const b = classicPacket();
      patch(b);
      return new Ipv4View().wrap(b, 0, b.length).isValid();
    };
    expect(check(() => {})).toBe(true);
    expect(check((b) => (b[0] = 0x65))).toBe(false);
    expect(check((b) => (b[0] = 0x44))).toBe(false);
    expect(check((b) => (b[0] = 0x4f))).toBe(true); // 60-byte header still fits in 115
    expect(check((b) => b.writeUInt16BE(19, 2))).toBe(false);
    expect(check((b) => b.writeUInt16BE(116, 2))).toBe(false);
    const corrupt = classicPacket();
    corrupt[8] = 63;
    expect(new Ipv4View().wrap(corrupt, 0, 115).isValid()).toBe(true); // isValid ignores the checksum
    expect(new Ipv4View().wrap(corrupt, 0, 115).isHeaderChecksumValid()).toBe(false);
  });

  it('reads and writes flags and the fragment offset in bytes', () => {
    const ip = new Ipv4View().wrap(classicPacket(), 0, 115);
    ip.dontFragment = false;
    ip.moreFragments = true;
    ip.fragmentOffsetBytes = 1480;
    expect(ip.buf.readUInt16BE(6)).toBe(0x2000 | 185); // wire field counts 8-byte units
    expect(ip.isFragment()).toBe(true);
    expect(ip.fragmentOffsetBytes).toBe(1480);
    expect(ip.dontFragment).toBe(false);
    ip.moreFragments = false;
    expect(ip.isFragment()).toBe(true); // last fragment: offset only
    ip.fragmentOffsetBytes = 0;
    expect(ip.isFragment()).toBe(false);
    ip.dontFragment = true;
    expect(ip.buf.readUInt16BE(6)).toBe(0x4000);
  });

  it('setters round-trip and updateHeaderChecksum agrees with a naive checksum', () => {
    fc.assert(
      fc.property(u32, u32, u8, u8, u16, u8, (src, dst, ttl, proto, id, tos) => {
        const ip = new Ipv4View().wrap(classicPacket(), 0, 115);
        ip.src = src;
        ip.dst = dst;
        ip.ttl = ttl;
        ip.protocol = proto;
        ip.id = id;
        ip.tos = tos;
        ip.updateHeaderChecksum();
        expect([ip.src, ip.dst, ip.ttl, ip.protocol, ip.id, ip.tos]).toEqual([src, dst, ttl, proto, id, tos]);
        expect(ip.isHeaderChecksumValid()).toBe(true);
        const zeroed = Buffer.from(ip.buf.subarray(0, 20));
        zeroed.writeUInt16BE(0, 10);
        expect(ip.checksum).toBe(naiveChecksum(zeroed));
      }),
    );
  });

  it('covers IP options in the header checksum', () => {
    const buf = Buffer.alloc(24);
    writeIpv4Header(buf, 0, 1, 2, 6, 4);
    buf[0] = 0x46;
    buf.writeUInt16BE(24, 2);
    buf.writeUInt32BE(0x94040000, 20); // router alert
    const ip = new Ipv4View().wrap(buf, 0, 24);
    ip.updateHeaderChecksum();
    expect(ip.isValid()).toBe(true);
    expect(ip.isHeaderChecksumValid()).toBe(true);
    expect(ip.payloadOffset).toBe(24);
  });
});

describe('decrementTtl (RFC 1624)', () => {
  it('keeps the header checksum valid and equal to a full recomputation', () => {
    fc.assert(
      fc.property(
        fc.record({
          src: u32,
          dst: u32,
          protocol: u8,
          ttl: fc.integer({ min: 1, max: 255 }),
          id: u16,
          tos: u8,
          dontFragment: fc.boolean(),
          payloadLength: fc.integer({ min: 0, max: 65515 }),
        }),
        (h) => {
          const ip = new Ipv4View().wrap(ipv4Header.encode(h), 0, 20);
          ip.decrementTtl();
          expect(ip.ttl).toBe(h.ttl - 1);
          expect(ip.isHeaderChecksumValid()).toBe(true);
          expect(ip.checksum).toBe(ip.computeHeaderChecksum());
        },
      ),
    );
  });

  it('walks a TTL all the way down, then leaves 0 alone', () => {
    const ip = new Ipv4View().wrap(
      ipv4Header.encode({ src: 1, dst: 2, protocol: 1, ttl: 255, payloadLength: 0 }),
      0,
      20,
    );
    for (let ttl = 254; ttl >= 0; ttl--) {
      ip.decrementTtl();
      expect(ip.ttl).toBe(ttl);
      expect(ip.isHeaderChecksumValid()).toBe(true);
    }
    const before = Buffer.from(ip.buf);
    ip.decrementTtl();
    expect(ip.buf).toEqual(before);
  });
});

describe('parseIpv4 / ipv4ToString', () => {
  it('round-trips every address', () => {
    fc.assert(
      fc.property(u32, (n) => {
        expect(parseIpv4(ipv4ToString(n))).toBe(n);
      }),
    );
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('10.244.1.7')).toBe(0x0af40107);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4/24', 'a.b.c.d', '1..2.3'])(
    'rejects %j with ERR_BAD_IPV4',
    (s) => {
      expect(() => parseIpv4(s)).toThrow(PacketError);
      try {
        parseIpv4(s);
      } catch (err) {
        expect((err as PacketError).code).toBe('ERR_BAD_IPV4');
      }
    },
  );
});
