import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Ipv4View,
  computeTcpChecksum,
  computeUdpChecksum,
  finishChecksum,
  fold16,
  internetChecksum,
  ipv4Header,
  partialPseudoChecksum,
  pseudoHeaderSumV4,
  sum16,
  updateChecksum16,
  updateChecksum32,
} from '../../../src/packet/index.js';
import { bytes, flowArb, hex, naiveChecksum, tcpFrame, u16, u16Edgy, u32, u32Edgy, u8, udpFrame } from './fixtures.js';

describe('sum16 / fold16 / finishChecksum (RFC 1071)', () => {
  it('reproduces the RFC 1071 §3 worked example', () => {
    // 00 01 f2 03 f4 f5 f6 f7: the sum is 2ddf0, folds to ddf2, checksum 220d.
    const buf = hex('00 01 f2 03 f4 f5 f6 f7');
    expect(sum16(buf, 0, 8)).toBe(0x2ddf0);
    expect(fold16(0x2ddf0)).toBe(0xddf2);
    expect(internetChecksum(buf, 0, 8)).toBe(0x220d);
  });

  it('pads an odd trailing byte with a zero low byte', () => {
    expect(sum16(hex('01 02 03'), 0, 3)).toBe(0x0102 + 0x0300);
    expect(sum16(hex('ff'), 0, 1)).toBe(0xff00);
  });

  it('respects off, len and initial', () => {
    const buf = hex('aa bb 00 01 00 02 cc');
    expect(sum16(buf, 2, 4)).toBe(3);
    expect(sum16(buf, 2, 4, 0x10)).toBe(0x13);
    expect(sum16(buf, 2, 0)).toBe(0);
  });

  it('clamps a range that runs past the buffer instead of producing NaN', () => {
    const buf = hex('00 01 00 02');
    expect(sum16(buf, 0, 100)).toBe(3);
    expect(sum16(buf, 3, 100)).toBe(0x0200);
    expect(sum16(buf, 10, 5)).toBe(0);
    expect(sum16(buf, 0, -4)).toBe(0);
  });

  it('agrees with a naive implementation, across chunk boundaries too', () => {
    fc.assert(
      fc.property(bytes(1200), fc.nat(20), (buf, cut) => {
        const off = Math.min(cut, buf.length);
        const len = buf.length - off;
        expect(finishChecksum(sum16(buf, off, len))).toBe(naiveChecksum(buf.subarray(off)));
      }),
    );
    const big = Buffer.alloc(70001);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    expect(internetChecksum(big, 0, big.length)).toBe(naiveChecksum(big));
    big.fill(0xff);
    expect(internetChecksum(big, 1, big.length - 1)).toBe(naiveChecksum(big.subarray(1)));
  });

  it('is additive over even-length splits (how pseudo header + segment combine)', () => {
    fc.assert(
      fc.property(bytes(200), bytes(200), (a, b) => {
        const even = a.length & 1 ? a.subarray(1) : a;
        const joined = Buffer.concat([even, b]);
        expect(fold16(sum16(b, 0, b.length, sum16(even, 0, even.length)))).toBe(
          fold16(sum16(joined, 0, joined.length)),
        );
      }),
    );
  });

  it('fold16 keeps 0xffff and folds sums far beyond 32 bits', () => {
    expect(fold16(0)).toBe(0);
    expect(fold16(0xffff)).toBe(0xffff);
    expect(fold16(0x1fffe)).toBe(0xffff);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const f = fold16(n);
        expect(f).toBeGreaterThanOrEqual(1);
        expect(f).toBeLessThanOrEqual(0xffff);
        expect(f % 0xffff).toBe(n % 0xffff);
      }),
    );
  });
});

describe('IPv4 pseudo header', () => {
  it('sums the twelve pseudo-header bytes', () => {
    // 192.168.0.1 → 192.168.0.199, UDP, 8 bytes
    expect(pseudoHeaderSumV4(0xc0a80001, 0xc0a800c7, 17, 8)).toBe(0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 17 + 8);
  });

  it('partialPseudoChecksum is the folded, uncomplemented pseudo sum', () => {
    fc.assert(
      fc.property(u32, u32, u8, u16, (s, d, p, l) => {
        expect(partialPseudoChecksum(s, d, p, l)).toBe(fold16(pseudoHeaderSumV4(s, d, p, l)));
      }),
    );
  });
});

/** A random IPv4 header (never all-zero: version/IHL is 0x45) with a correct checksum. */
const ipv4HeaderArb = fc
  .record({
    src: u32Edgy,
    dst: u32Edgy,
    protocol: u8,
    ttl: u8,
    id: u16Edgy,
    tos: u8,
    dontFragment: fc.boolean(),
    payloadLength: fc.integer({ min: 0, max: 65515 }),
  })
  .map((h) => ipv4Header.encode(h));

function isAllZero(buf: Buffer): boolean {
  return buf.every((b) => b === 0);
}

describe('RFC 1624 incremental update', () => {
  it('updateChecksum16 equals full recomputation for any word change, 0x0000/0xffff included', () => {
    fc.assert(
      fc.property(ipv4HeaderArb, fc.integer({ min: 0, max: 9 }), u16Edgy, (hdr, word, newWord) => {
        fc.pre(word !== 5); // the checksum itself
        const ip = new Ipv4View().wrap(hdr, 0, 20);
        const oldWord = hdr.readUInt16BE(word * 2);
        hdr.writeUInt16BE(newWord, word * 2);
        fc.pre(!isAllZero(hdr)); // all-zero data is the one ±0 ambiguity
        const incremental = updateChecksum16(ip.checksum, oldWord, newWord);
        const zeroed = Buffer.from(hdr);
        zeroed.writeUInt16BE(0, 10);
        expect(incremental).toBe(naiveChecksum(zeroed));
      }),
    );
  });

  it('updateChecksum32 equals full recomputation for an address rewrite (NAT)', () => {
    fc.assert(
      fc.property(ipv4HeaderArb, fc.boolean(), u32Edgy, (hdr, rewriteSrc, addr) => {
        const ip = new Ipv4View().wrap(hdr, 0, 20);
        const old = rewriteSrc ? ip.src : ip.dst;
        if (rewriteSrc) ip.src = addr;
        else ip.dst = addr;
        expect(updateChecksum32(ip.checksum, old, addr)).toBe(ip.computeHeaderChecksum());
      }),
    );
  });

  it('handles a header whose checksum is exactly 0x0000', () => {
    // Tune the id so the header sum folds to 0xffff, making the checksum 0.
    const hdr = ipv4Header.encode({ src: 0x0a000001, dst: 0x0a000002, protocol: 6, payloadLength: 40, id: 0 });
    const ip = new Ipv4View().wrap(hdr, 0, 20);
    ip.id = ip.checksum; // adds ~sum to the sum
    ip.updateHeaderChecksum();
    expect(ip.checksum).toBe(0x0000);
    expect(ip.isHeaderChecksumValid()).toBe(true);
    for (const newId of [0x0000, 0xffff, 0x1234]) {
      const h = Buffer.from(hdr);
      const v = new Ipv4View().wrap(h, 0, 20);
      const old = v.id;
      v.id = newId;
      v.checksum = updateChecksum16(v.checksum, old, newId);
      expect(v.checksum).toBe(v.computeHeaderChecksum());
      expect(v.isHeaderChecksumValid()).toBe(true);
    }
  });

  it('patches TCP and UDP checksums through the pseudo header (SNAT of the source)', () => {
    fc.assert(
      fc.property(flowArb, u32Edgy, u16, fc.boolean(), (flow, newSrc, newPort, tcp) => {
        const frame = tcp ? tcpFrame(flow) : udpFrame(flow);
        fc.pre(frame.readUInt16BE(40) !== 0xffff || tcp); // UDP 0→0xffff remap is checked below
        const ip = new Ipv4View().wrap(frame, 14, frame.length - 14);
        const l4Csum = tcp ? 50 : 40;
        const oldSrc = ip.src;
        const oldPort = frame.readUInt16BE(34);
        ip.src = newSrc;
        ip.checksum = updateChecksum32(ip.checksum, oldSrc, newSrc);
        frame.writeUInt16BE(newPort, 34);
        let c = updateChecksum32(frame.readUInt16BE(l4Csum), oldSrc, newSrc);
        c = updateChecksum16(c, oldPort, newPort);
        if (!tcp && c === 0) c = 0xffff;
        frame.writeUInt16BE(c, l4Csum);
        expect(ip.isHeaderChecksumValid()).toBe(true);
        expect(c).toBe(tcp ? computeTcpChecksum(frame, 14) : computeUdpChecksum(frame, 14));
      }),
    );
  });
});
