import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FlowKey,
  IPPROTO_TCP,
  IPPROTO_UDP,
  computeTcpChecksum,
  computeUdpChecksum,
  natSetDst,
  natSetSrc,
  parseIpv4,
  partialPseudoChecksum,
  writeIpv4Header,
} from '../../../src/packet/index.js';

/** An IPv4 + TCP/UDP packet with a correct (complete or partial) L4 checksum. */
function packet(
  proto: number,
  src: number,
  sport: number,
  dst: number,
  dport: number,
  payload: Uint8Array,
  partial: boolean,
): Buffer {
  const l4h = proto === IPPROTO_TCP ? 20 : 8;
  const buf = Buffer.alloc(20 + l4h + payload.length);
  writeIpv4Header(buf, 0, src, dst, proto, l4h + payload.length, 64, 7, 0, true);
  buf.writeUInt16BE(sport, 20);
  buf.writeUInt16BE(dport, 22);
  if (proto === IPPROTO_TCP) {
    buf[32] = 5 << 4;
    buf[33] = 0x18;
  } else buf.writeUInt16BE(8 + payload.length, 24);
  Buffer.from(payload).copy(buf, 20 + l4h);
  const cOff = 20 + (proto === IPPROTO_TCP ? 16 : 6);
  if (partial) buf.writeUInt16BE(partialPseudoChecksum(src, dst, proto, l4h + payload.length), cOff);
  else buf.writeUInt16BE(proto === IPPROTO_TCP ? computeTcpChecksum(buf, 0) : computeUdpChecksum(buf, 0), cOff);
  return buf;
}

const addr = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 0xffff });
const proto = fc.constantFrom(IPPROTO_TCP, IPPROTO_UDP);

describe('NAT setters (RFC 1624 incremental checksums)', () => {
  it('DNAT then SNAT give the checksums a full recomputation gives (complete checksums)', () => {
    fc.assert(
      fc.property(
        proto,
        addr,
        port,
        addr,
        port,
        addr,
        port,
        addr,
        port,
        fc.uint8Array({ maxLength: 64 }),
        (p, s, sp, d, dp, nd, ndp, ns, nsp, data) => {
          const buf = packet(p, s, sp, d, dp, data, false);
          natSetDst(buf, 0, nd, ndp, false);
          natSetSrc(buf, 0, ns, nsp, false);
          const want = packet(p, ns, nsp, nd, ndp, data, false);
          // a UDP checksum that computes to 0 is sent as 0xffff by both
          expect(buf.equals(want)).toBe(true);
        },
      ),
    );
  });

  it('partial checksums (NEEDS_CSUM) stay the pseudo-header sum of the new addresses', () => {
    fc.assert(
      fc.property(
        proto,
        addr,
        port,
        addr,
        port,
        addr,
        port,
        fc.uint8Array({ maxLength: 64 }),
        (p, s, sp, d, dp, nd, ndp, data) => {
          const buf = packet(p, s, sp, d, dp, data, true);
          natSetDst(buf, 0, nd, ndp, true);
          const want = packet(p, s, sp, nd, ndp, data, true);
          const cOff = 20 + (p === IPPROTO_TCP ? 16 : 6);
          // one's complement: 0x0000 and 0xffff are the same sum
          const norm = (v: number) => (v === 0xffff ? 0 : v);
          expect(norm(buf.readUInt16BE(cOff))).toBe(norm(want.readUInt16BE(cOff)));
          buf.writeUInt16BE(want.readUInt16BE(cOff), cOff);
          expect(buf.equals(want)).toBe(true);
        },
      ),
    );
  });

  it('a UDP datagram without a checksum keeps none', () => {
    const buf = packet(
      IPPROTO_UDP,
      parseIpv4('10.244.1.2'),
      40000,
      parseIpv4('10.96.0.10'),
      53,
      new Uint8Array(12),
      false,
    );
    buf.writeUInt16BE(0, 26);
    natSetDst(buf, 0, parseIpv4('10.244.2.5'), 5353, false);
    expect(buf.readUInt16BE(26)).toBe(0);
    expect(buf.readUInt32BE(16)).toBe(parseIpv4('10.244.2.5'));
    expect(buf.readUInt16BE(22)).toBe(5353);
  });

  it('a later fragment gets its address rewritten and its bytes after the header left alone', () => {
    const buf = packet(IPPROTO_UDP, 1, 2, 3, 4, new Uint8Array(16), false);
    buf.writeUInt16BE(185, 6); // fragment offset 1480
    buf.writeUInt16BE(0, 10);
    buf.writeUInt16BE(require16(buf), 10);
    const tail = Buffer.from(buf.subarray(20));
    natSetDst(buf, 0, 9, 4, false);
    expect(buf.readUInt32BE(16)).toBe(9);
    expect(buf.subarray(20).equals(tail)).toBe(true);
  });
});

function require16(buf: Buffer): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += buf.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

describe('FlowKey', () => {
  it('reply swaps the ends and reads from headers', () => {
    const buf = packet(
      IPPROTO_TCP,
      parseIpv4('10.244.1.2'),
      41000,
      parseIpv4('10.96.0.20'),
      80,
      new Uint8Array(0),
      false,
    );
    const k = FlowKey.ofIpv4(buf, 0, buf.length)!;
    expect(k.toString()).toBe('10.244.1.2:41000 -> 10.96.0.20:80/TCP');
    expect(k.reply().toString()).toBe('10.96.0.20:80 -> 10.244.1.2:41000/TCP');
    expect(k.reply().reply().equals(k)).toBe(true);
    expect(FlowKey.ofIpv4(buf, 0, 22)).toBeNull();
  });
});

import { buildTcpReset, computeTcpChecksum as tcpSum } from '../../../src/packet/index.js';
describe('buildTcpReset (RFC 9293 §3.10.7.1)', () => {
  it('answers a SYN with RST|ACK acking SEQ+1, from the destination, with a good checksum', () => {
    const syn = packet(
      IPPROTO_TCP,
      parseIpv4('10.244.1.2'),
      41000,
      parseIpv4('10.96.0.20'),
      80,
      new Uint8Array(0),
      false,
    );
    syn[33] = 0x02;
    syn.writeUInt32BE(1000, 24);
    syn.writeUInt16BE(tcpSum(syn, 0), 36);
    const out = Buffer.alloc(64);
    expect(buildTcpReset(out, 4, syn, 0, syn.length)).toBe(40);
    expect(out.readUInt32BE(4 + 12)).toBe(parseIpv4('10.96.0.20'));
    expect(out.readUInt32BE(4 + 16)).toBe(parseIpv4('10.244.1.2'));
    expect(out.readUInt16BE(24)).toBe(80);
    expect(out.readUInt16BE(26)).toBe(41000);
    expect(out.readUInt32BE(32)).toBe(1001);
    expect(out[37]).toBe(0x14);
    expect(tcpSum(out, 4)).toBe(out.readUInt16BE(40));
  });
  it('answers a segment with ACK by RST with SEQ = its ACK, and never answers a reset', () => {
    const seg = packet(IPPROTO_TCP, 1, 2, 3, 4, new Uint8Array(10), false);
    seg[33] = 0x10;
    seg.writeUInt32BE(77, 28);
    const out = Buffer.alloc(40);
    expect(buildTcpReset(out, 0, seg, 0, seg.length)).toBe(40);
    expect(out.readUInt32BE(24)).toBe(77);
    expect(out[33]).toBe(0x04);
    seg[33] = 0x04;
    expect(buildTcpReset(out, 0, seg, 0, seg.length)).toBe(0);
  });
});
