import { describe, expect, it } from 'vitest';
import {
  ICMP_CODE_FRAG_NEEDED,
  ICMP_CODE_PORT_UNREACHABLE,
  ICMP_CODE_TTL_EXCEEDED,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_ERROR_MAX_QUOTE,
  ICMP_TIME_EXCEEDED,
  IPPROTO_ICMP,
  IcmpView,
  Ipv4View,
  buildEchoReply,
  buildIcmpError,
  icmpErrorAllowed,
  ipv4ToString,
  parseIpv4,
} from '../../../src/packet/index.js';
import { capturedPing, naiveChecksum, udpFrame } from './fixtures.js';

const ROUTER = parseIpv4('10.244.0.1');
const flow = (payloadLength: number) => ({
  src: parseIpv4('10.244.1.5'),
  dst: parseIpv4('10.244.2.9'),
  srcPort: 41000,
  dstPort: 9999,
  payload: Buffer.alloc(payloadLength, 0x5a),
});

/** The IPv4 packet of a frame (frame minus Ethernet). */
const ipOf = (frame: Buffer) => Buffer.from(frame.subarray(14));

function parse(out: Buffer, n: number) {
  const ip = new Ipv4View().wrap(out, 0, n);
  const icmp = new IcmpView().wrap(out, ip.payloadOffset, ip.payloadLength);
  return { ip, icmp };
}

describe('IcmpView', () => {
  it('decodes a captured Linux echo request', () => {
    const ping = capturedPing();
    const { ip, icmp } = parse(ping, ping.length);
    expect(ip.isValid() && ip.isHeaderChecksumValid()).toBe(true);
    expect(ipv4ToString(ip.src)).toBe('192.168.203.3');
    expect(icmp.isValid()).toBe(true);
    expect(icmp.type).toBe(ICMP_ECHO_REQUEST);
    expect(icmp.code).toBe(0);
    expect(icmp.checksum).toBe(0xf6f2);
    expect(icmp.computeChecksum()).toBe(0xf6f2);
    expect(icmp.isChecksumValid()).toBe(true);
    expect(icmp.id).toBe(0x050c);
    expect(icmp.seq).toBe(1);
    expect(icmp.payloadOffset).toBe(28);
    expect(new IcmpView().wrap(ping, 20, 7).isValid()).toBe(false);
  });
});

describe('buildIcmpError', () => {
  it('builds a port unreachable that quotes the original and checksums correctly', () => {
    const orig = ipOf(udpFrame(flow(72))); // 100-byte datagram
    const out = Buffer.alloc(600);
    const n = buildIcmpError(out, 0, orig, 0, orig.length, ICMP_DEST_UNREACHABLE, ICMP_CODE_PORT_UNREACHABLE, ROUTER);
    expect(n).toBe(20 + 8 + 100);
    const { ip, icmp } = parse(out, n);
    expect(ip.isValid()).toBe(true);
    expect(ip.isHeaderChecksumValid()).toBe(true);
    expect(ip.totalLength).toBe(n);
    expect(ip.protocol).toBe(IPPROTO_ICMP);
    expect(ip.ttl).toBe(64);
    expect(ip.src).toBe(ROUTER);
    expect(ip.dst).toBe(flow(0).src);
    expect(icmp.type).toBe(ICMP_DEST_UNREACHABLE);
    expect(icmp.code).toBe(ICMP_CODE_PORT_UNREACHABLE);
    expect(icmp.restOfHeader).toBe(0);
    expect(icmp.isChecksumValid()).toBe(true);
    expect(naiveChecksum(out.subarray(20, n))).toBe(0);
    expect(out.subarray(28, n)).toEqual(orig);
  });

  it('carries the next-hop MTU for fragmentation needed', () => {
    const orig = ipOf(udpFrame(flow(1472)));
    const out = Buffer.alloc(1600);
    const n = buildIcmpError(out, 0, orig, 0, orig.length, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, ROUTER, 1450);
    const { icmp } = parse(out, n);
    expect(icmp.nextHopMtu).toBe(1450);
    expect(out.readUInt16BE(24)).toBe(0); // unused half
    expect(icmp.isChecksumValid()).toBe(true);
  });

  it('caps the error at 576 bytes, quoting 548 bytes of a large original', () => {
    const orig = ipOf(udpFrame(flow(1472)));
    const out = Buffer.alloc(1600);
    const n = buildIcmpError(out, 0, orig, 0, orig.length, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, ROUTER);
    expect(n).toBe(576);
    expect(ICMP_ERROR_MAX_QUOTE).toBe(548);
    expect(out.subarray(28, 576)).toEqual(orig.subarray(0, 548));
    expect(parse(out, n).ip.isHeaderChecksumValid()).toBe(true);
    expect(parse(out, n).icmp.isChecksumValid()).toBe(true);
  });

  it('quotes an original with fewer than 8 bytes of payload as it is', () => {
    const orig = Buffer.alloc(23);
    orig[0] = 0x45;
    orig.writeUInt16BE(23, 2);
    orig[9] = 253; // experimental protocol, 3 bytes of payload
    orig.writeUInt32BE(flow(0).src, 12);
    orig.write('abc', 20);
    const out = Buffer.alloc(100);
    const n = buildIcmpError(out, 0, orig, 0, orig.length, ICMP_DEST_UNREACHABLE, 2, ROUTER);
    expect(n).toBe(51);
    expect(out.subarray(28, 51)).toEqual(orig);
    expect(parse(out, n).icmp.isChecksumValid()).toBe(true);
  });

  it('leaves Ethernet padding out of the quote', () => {
    const orig = Buffer.alloc(46); // a 28-byte datagram padded to a 60-byte frame
    orig[0] = 0x45;
    orig.writeUInt16BE(28, 2);
    orig.fill(0xee, 28);
    const out = Buffer.alloc(100);
    expect(buildIcmpError(out, 0, orig, 0, 46, 3, 1, ROUTER)).toBe(56);
  });

  it('works in place, over the frame the original arrived in', () => {
    const frame = udpFrame(flow(100));
    const separate = Buffer.alloc(600);
    const expected = buildIcmpError(separate, 0, frame, 14, frame.length - 14, 3, 3, ROUTER);
    const inPlace = Buffer.alloc(600);
    frame.copy(inPlace);
    const n = buildIcmpError(inPlace, 14, inPlace, 14, frame.length - 14, 3, 3, ROUTER);
    expect(n).toBe(expected);
    expect(inPlace.subarray(14, 14 + n)).toEqual(separate.subarray(0, n));
  });

  it('returns 0 when the original has no IPv4 header or out has no room', () => {
    const orig = ipOf(udpFrame(flow(10)));
    expect(buildIcmpError(Buffer.alloc(47), 0, orig, 0, orig.length, 3, 3, ROUTER)).toBe(0); // < 28 + 20
    expect(buildIcmpError(Buffer.alloc(48), 0, orig, 0, orig.length, 3, 3, ROUTER)).toBe(48); // header only
    expect(buildIcmpError(Buffer.alloc(100), 0, orig, 0, 19, 3, 3, ROUTER)).toBe(0);
    expect(buildIcmpError(Buffer.alloc(100), 0, Buffer.alloc(40), 0, 40, 3, 3, ROUTER)).toBe(0); // version 0
    expect(buildIcmpError(Buffer.alloc(100), 0, orig, 100, 10, 3, 3, ROUTER)).toBe(0);
  });
});

describe('icmpErrorAllowed (RFC 1812 §4.3.2.7)', () => {
  const allowed = (patch: (ip: Ipv4View) => void) => {
    const orig = ipOf(udpFrame(flow(8)));
    const ip = new Ipv4View().wrap(orig, 0, orig.length);
    patch(ip);
    return icmpErrorAllowed(orig, 0, orig.length);
  };

  it('allows an ordinary datagram and an echo request', () => {
    expect(allowed(() => {})).toBe(true);
    const ping = capturedPing();
    expect(icmpErrorAllowed(ping, 0, ping.length)).toBe(true);
  });

  it('refuses errors about errors, later fragments, broadcast/multicast and odd sources', () => {
    const err = Buffer.alloc(600);
    const orig = ipOf(udpFrame(flow(8)));
    const n = buildIcmpError(err, 0, orig, 0, orig.length, 3, 3, ROUTER);
    expect(icmpErrorAllowed(err, 0, n)).toBe(false);
    expect(allowed((ip) => (ip.fragmentOffsetBytes = 1480))).toBe(false);
    expect(allowed((ip) => (ip.moreFragments = true))).toBe(true); // the first fragment is fine
    expect(allowed((ip) => (ip.dst = 0xffffffff))).toBe(false);
    expect(allowed((ip) => (ip.dst = parseIpv4('224.0.0.251')))).toBe(false);
    expect(allowed((ip) => (ip.src = 0))).toBe(false);
    expect(allowed((ip) => (ip.src = parseIpv4('127.0.0.1')))).toBe(false);
    expect(allowed((ip) => (ip.src = parseIpv4('239.1.1.1')))).toBe(false);
    expect(icmpErrorAllowed(Buffer.alloc(10), 0, 10)).toBe(false);
  });
});

describe('buildEchoReply', () => {
  it('answers a captured ping', () => {
    const ping = capturedPing();
    const out = Buffer.alloc(200);
    const n = buildEchoReply(out, 0, ping, 0, ping.length);
    expect(n).toBe(84);
    const { ip, icmp } = parse(out, n);
    expect(ip.isValid() && ip.isHeaderChecksumValid()).toBe(true);
    expect(ipv4ToString(ip.src)).toBe('192.168.203.5');
    expect(ipv4ToString(ip.dst)).toBe('192.168.203.3');
    expect(ip.ttl).toBe(64);
    expect(icmp.type).toBe(ICMP_ECHO_REPLY);
    expect(icmp.code).toBe(0);
    expect([icmp.id, icmp.seq]).toEqual([0x050c, 1]);
    expect(icmp.isChecksumValid()).toBe(true);
    expect(out.subarray(28, 84)).toEqual(ping.subarray(28, 84));
  });

  it('works in place and refuses what is not an echo request', () => {
    const ping = capturedPing();
    const separate = Buffer.alloc(84);
    buildEchoReply(separate, 0, ping, 0, 84);
    const inPlace = capturedPing();
    expect(buildEchoReply(inPlace, 0, inPlace, 0, 84)).toBe(84);
    expect(inPlace).toEqual(separate);

    expect(buildEchoReply(Buffer.alloc(200), 0, separate, 0, 84)).toBe(0); // a reply
    expect(buildEchoReply(Buffer.alloc(83), 0, ping, 0, 84)).toBe(0);
    expect(buildEchoReply(Buffer.alloc(200), 0, ping, 0, 83)).toBe(0); // truncated
    const udp = ipOf(udpFrame(flow(8)));
    expect(buildEchoReply(Buffer.alloc(200), 0, udp, 0, udp.length)).toBe(0);
  });
});
