import { describe, expect, it } from 'vitest';
import {
  ARP_REPLY,
  ARP_REQUEST,
  ArpView,
  ETHERTYPE_ARP,
  EthernetView,
  ipv4ToString,
  macToString,
  parseIpv4,
  parseMac,
  writeArpReply,
  writeArpRequest,
} from '../../../src/packet/index.js';
import { hex } from './fixtures.js';

// A real "who has 10.0.0.1? tell 100.115.92.206" that Linux sent on a tap
// device when pinging 10.0.0.1 — 42 bytes as read from the tap (no padding).
const CAPTURED_REQUEST = hex(
  'ff ff ff ff ff ff be 6e 72 7d db 21 08 06 00 01 08 00 06 04 00 01 ' +
    'be 6e 72 7d db 21 64 73 5c ce 00 00 00 00 00 00 0a 00 00 01',
);
const OUR_MAC = parseMac('02:70:77:00:00:01');

describe('ArpView', () => {
  it('decodes a captured request field by field', () => {
    const frame = Buffer.from(CAPTURED_REQUEST);
    const eth = new EthernetView().wrap(frame, 0, frame.length);
    expect(eth.isValid()).toBe(true);
    expect(eth.dstIsBroadcast()).toBe(true);
    expect(macToString(frame, 6)).toBe('be:6e:72:7d:db:21');
    expect(eth.etherType).toBe(ETHERTYPE_ARP);

    const arp = new ArpView().wrap(frame, eth.payloadOffset, frame.length - 14);
    expect(arp.isValid()).toBe(true);
    expect(arp.op).toBe(ARP_REQUEST);
    const mac = Buffer.alloc(6);
    arp.copySenderMacTo(mac);
    expect(macToString(mac)).toBe('be:6e:72:7d:db:21');
    expect(arp.senderMacEquals(mac)).toBe(true);
    expect(ipv4ToString(arp.senderIp)).toBe('100.115.92.206');
    arp.copyTargetMacTo(mac);
    expect(macToString(mac)).toBe('00:00:00:00:00:00');
    expect(ipv4ToString(arp.targetIp)).toBe('10.0.0.1');
    expect(arp.isGratuitous()).toBe(false);
  });

  it('accepts only Ethernet/IPv4 ARP of at least 28 bytes', () => {
    const check = (patch: (b: Buffer) => void, len = 28) => {
      const b = Buffer.from(CAPTURED_REQUEST);
      patch(b);
      return new ArpView().wrap(b, 14, len).isValid();
    };
    expect(check(() => {})).toBe(true);
    expect(check(() => {}, 27)).toBe(false);
    expect(check(() => {}, 29)).toBe(false); // past the 42-byte buffer
    expect(check((b) => (b[15] = 6))).toBe(false); // htype 6 (IEEE 802)
    expect(check((b) => b.writeUInt16BE(0x86dd, 16))).toBe(false);
    expect(check((b) => (b[18] = 8))).toBe(false);
    expect(check((b) => (b[19] = 16))).toBe(false);
  });
});

describe('writeArpReply', () => {
  function expectReply(out: Buffer, off: number) {
    const eth = new EthernetView().wrap(out, off, 60);
    const arp = new ArpView().wrap(out, off + 14, 46);
    expect(macToString(out, off)).toBe('be:6e:72:7d:db:21');
    expect(eth.srcEquals(OUR_MAC)).toBe(true);
    expect(eth.etherType).toBe(ETHERTYPE_ARP);
    expect(arp.isValid()).toBe(true);
    expect(arp.op).toBe(ARP_REPLY);
    expect(arp.senderMacEquals(OUR_MAC)).toBe(true);
    expect(ipv4ToString(arp.senderIp)).toBe('10.0.0.1');
    expect(macToString(out, off + 14 + 18)).toBe('be:6e:72:7d:db:21');
    expect(ipv4ToString(arp.targetIp)).toBe('100.115.92.206');
    expect(out.subarray(off + 42, off + 60).every((b) => b === 0)).toBe(true);
  }

  it('answers the captured request with a padded 60-byte frame', () => {
    const request = new ArpView().wrap(Buffer.from(CAPTURED_REQUEST), 14, 28);
    const out = Buffer.alloc(70, 0xcc);
    expect(writeArpReply(out, 5, request, OUR_MAC)).toBe(60);
    expectReply(out, 5);
    expect(out[4]).toBe(0xcc);
    expect(out[65]).toBe(0xcc);
  });

  it('works in place on the request frame', () => {
    const frame = Buffer.alloc(60);
    CAPTURED_REQUEST.copy(frame);
    const request = new ArpView().wrap(frame, 14, 46);
    expect(writeArpReply(frame, 0, request, OUR_MAC)).toBe(60);
    expectReply(frame, 0);
  });

  it('returns 0 without room', () => {
    const request = new ArpView().wrap(Buffer.from(CAPTURED_REQUEST), 14, 28);
    expect(writeArpReply(Buffer.alloc(59), 0, request, OUR_MAC)).toBe(0);
    expect(writeArpReply(Buffer.alloc(60), 1, request, OUR_MAC)).toBe(0);
  });
});

describe('writeArpRequest', () => {
  it('writes the same shape Linux sends, padded to 60', () => {
    const out = Buffer.alloc(60, 0xcc);
    const src = parseMac('be:6e:72:7d:db:21');
    expect(writeArpRequest(out, 0, src, parseIpv4('100.115.92.206'), parseIpv4('10.0.0.1'))).toBe(60);
    expect(out.subarray(0, 42)).toEqual(CAPTURED_REQUEST);
    expect(out.subarray(42).every((b) => b === 0)).toBe(true);
    expect(writeArpRequest(Buffer.alloc(59), 0, src, 1, 2)).toBe(0);
  });
});
