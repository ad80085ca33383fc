import { describe, expect, it } from 'vitest';
import {
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  EthernetView,
  PacketError,
  macToString,
  parseMac,
} from '../../../src/packet/index.js';
import { MAC_A, MAC_B, hex } from './fixtures.js';

describe('EthernetView', () => {
  const frame = () => hex('ffffffffffff be6e727ddb21 0806');

  it('reads addresses and EtherType in place', () => {
    const eth = new EthernetView().wrap(frame(), 0, 14);
    expect(eth.isValid()).toBe(true);
    expect(eth.dstIsBroadcast()).toBe(true);
    expect(eth.dstIsMulticast()).toBe(true);
    expect(eth.dstEquals(BROADCAST_MAC)).toBe(true);
    expect(eth.srcEquals(parseMac('be:6e:72:7d:db:21'))).toBe(true);
    expect(eth.srcEquals(MAC_A)).toBe(false);
    expect(eth.etherType).toBe(ETHERTYPE_ARP);
    expect(eth.payloadOffset).toBe(14);
  });

  it('writes addresses and EtherType in place, at an offset', () => {
    const buf = Buffer.alloc(30, 0xee);
    const eth = new EthernetView().wrap(buf, 4, 20);
    eth.setDst(MAC_B);
    eth.setSrc(Buffer.concat([Buffer.alloc(3), MAC_A]), 3);
    eth.etherType = ETHERTYPE_IPV4;
    expect(buf.subarray(4, 18)).toEqual(Buffer.concat([MAC_B, MAC_A, hex('0800')]));
    expect(buf[3]).toBe(0xee);
    expect(buf[18]).toBe(0xee);
    expect(eth.dstIsMulticast()).toBe(false);
    expect(eth.dstIsBroadcast()).toBe(false);
    const out = Buffer.alloc(12);
    eth.copyDstTo(out, 0);
    eth.copySrcTo(out, 6);
    expect(out).toEqual(Buffer.concat([MAC_B, MAC_A]));
    expect(eth.payloadOffset).toBe(18);
  });

  it('detects multicast by the I/G bit', () => {
    const eth = new EthernetView().wrap(hex('01005e000001 020000000001 0800'), 0, 14);
    expect(eth.dstIsMulticast()).toBe(true);
    expect(eth.dstIsBroadcast()).toBe(false);
  });

  it('is invalid below 14 bytes or past the buffer', () => {
    expect(new EthernetView().wrap(frame(), 0, 13).isValid()).toBe(false);
    expect(new EthernetView().wrap(frame(), 1, 14).isValid()).toBe(false);
    expect(new EthernetView().isValid()).toBe(false);
  });
});

describe('parseMac / macToString', () => {
  it('parses colon and dash forms, any case', () => {
    expect(parseMac('02:00:00:00:00:0a')).toEqual(MAC_A);
    expect(parseMac('02-00-00-00-00-0A')).toEqual(MAC_A);
    expect(macToString(parseMac('BE:6E:72:7D:DB:21'))).toBe('be:6e:72:7d:db:21');
    expect(macToString(Buffer.concat([Buffer.alloc(2), MAC_B]), 2)).toBe('02:00:00:00:00:0b');
  });

  it.each(['', '02:00:00:00:00', '02:00:00:00:00:0a:0b', '02:00-00:00:00:0a', '0g:00:00:00:00:00', '2:0:0:0:0:a'])(
    'rejects %j with ERR_BAD_MAC',
    (s) => {
      let caught: unknown;
      try {
        parseMac(s);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(PacketError);
      expect((caught as PacketError).code).toBe('ERR_BAD_MAC');
    },
  );
});
