// One round-trip harness for every codec in src/packet: decode(encode(x))
// equals x, encodingLength is what encode wrote, encoding at an offset inside
// a larger buffer touches only its own bytes, and re-encoding is byte-stable.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Codec,
  PacketError,
  arpPacket,
  ethernetHeader,
  icmpHeader,
  ipv4Header,
  tcpHeader,
  udpHeader,
  vnetHdr,
  vxlanHeader,
} from '../../../src/packet/index.js';
import { bytes, mac, u16, u32, u8 } from './fixtures.js';

interface Case {
  name: string;
  run(): void;
}

function roundTrip<T>(name: string, codec: Codec<T>, arb: fc.Arbitrary<T>): Case {
  return {
    name,
    run() {
      fc.assert(
        fc.property(arb, fc.integer({ min: 0, max: 16 }), (value, pad) => {
          const encoded = codec.encode(value);
          expect(encoded.length).toBe(codec.encodingLength(value));
          expect(codec.decode(encoded)).toEqual(value);

          const big = Buffer.alloc(pad + encoded.length + pad, 0xa5);
          codec.encode(value, big, pad);
          expect(big.subarray(pad, pad + encoded.length)).toEqual(encoded);
          expect(big.subarray(0, pad).every((b) => b === 0xa5)).toBe(true);
          expect(big.subarray(pad + encoded.length).every((b) => b === 0xa5)).toBe(true);
          expect(codec.decode(big, pad)).toEqual(value);

          expect(codec.encode(codec.decode(encoded))).toEqual(encoded);
        }),
      );
    },
  };
}

const cases: Case[] = [
  roundTrip('ethernetHeader', ethernetHeader, fc.record({ dst: mac, src: mac, etherType: u16 })),
  roundTrip(
    'ipv4Header',
    ipv4Header,
    fc.record({
      src: u32,
      dst: u32,
      protocol: u8,
      ttl: u8,
      id: u16,
      tos: u8,
      dontFragment: fc.boolean(),
      payloadLength: fc.integer({ min: 0, max: 65515 }),
    }),
  ),
  roundTrip('udpHeader', udpHeader, fc.record({ srcPort: u16, dstPort: u16, length: u16, checksum: u16 })),
  roundTrip(
    'tcpHeader',
    tcpHeader,
    fc.record({
      srcPort: u16,
      dstPort: u16,
      seq: u32,
      ack: u32,
      flags: u8,
      window: u16,
      checksum: u16,
      urgentPointer: u16,
      options: fc.integer({ min: 0, max: 10 }).chain((words) => bytes(words * 4, words * 4)),
    }),
  ),
  roundTrip('icmpHeader', icmpHeader, fc.record({ type: u8, code: u8, checksum: u16, restOfHeader: u32 })),
  roundTrip(
    'arpPacket',
    arpPacket,
    fc.record({ op: u16, senderMac: mac, senderIp: u32, targetMac: mac, targetIp: u32 }),
  ),
  roundTrip('vxlanHeader', vxlanHeader, fc.record({ vni: fc.integer({ min: 0, max: 0xffffff }) })),
  roundTrip(
    'vnetHdr',
    vnetHdr,
    fc.record({ flags: u8, gsoType: u8, hdrLen: u16, gsoSize: u16, csumStart: u16, csumOffset: u16 }),
  ),
];

describe('codec round trip', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => c.run());
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PacketError ? err.code : `not a PacketError: ${String(err)}`;
  }
  return undefined;
}

describe('codec errors', () => {
  it('rejects a buffer without room', () => {
    const value = { dst: Buffer.alloc(6), src: Buffer.alloc(6), etherType: 0x0800 };
    expect(codeOf(() => ethernetHeader.encode(value, Buffer.alloc(13)))).toBe('ERR_BUFFER_TOO_SMALL');
    expect(codeOf(() => ethernetHeader.encode(value, Buffer.alloc(20), 7))).toBe('ERR_BUFFER_TOO_SMALL');
  });

  it('rejects truncated input', () => {
    expect(codeOf(() => ethernetHeader.decode(Buffer.alloc(13)))).toBe('ERR_TRUNCATED');
    expect(codeOf(() => udpHeader.decode(Buffer.alloc(8), 1))).toBe('ERR_TRUNCATED');
    // data offset says 24 bytes of header but only 20 are there
    const tcp = Buffer.alloc(20);
    tcp[12] = 6 << 4;
    expect(codeOf(() => tcpHeader.decode(tcp))).toBe('ERR_TRUNCATED');
  });

  it('rejects malformed input', () => {
    expect(codeOf(() => ipv4Header.decode(Buffer.alloc(20)))).toBe('ERR_MALFORMED'); // version 0
    expect(codeOf(() => arpPacket.decode(Buffer.alloc(28)))).toBe('ERR_MALFORMED'); // htype 0
  });

  it('rejects values that do not fit their fields', () => {
    expect(codeOf(() => udpHeader.encode({ srcPort: 65536, dstPort: 1, length: 8, checksum: 0 }))).toBe(
      'ERR_BAD_VALUE',
    );
    expect(codeOf(() => vxlanHeader.encode({ vni: 1 << 24 }))).toBe('ERR_BAD_VALUE');
    expect(codeOf(() => ipv4Header.encode({ src: 1, dst: 2, protocol: 6, payloadLength: 65516 }))).toBe(
      'ERR_BAD_VALUE',
    );
    const tcp = { srcPort: 1, dstPort: 2, seq: 0, ack: 0, flags: 0, window: 0, checksum: 0, urgentPointer: 0 };
    expect(codeOf(() => tcpHeader.encode({ ...tcp, options: Buffer.alloc(3) }))).toBe('ERR_BAD_VALUE');
    expect(codeOf(() => tcpHeader.encode({ ...tcp, options: Buffer.alloc(44) }))).toBe('ERR_BAD_VALUE');
    expect(codeOf(() => ethernetHeader.encode({ dst: Buffer.alloc(5), src: Buffer.alloc(6), etherType: 0 }))).toBe(
      'ERR_BAD_VALUE',
    );
  });

  it('ipv4Header applies the documented defaults', () => {
    const h = ipv4Header.decode(ipv4Header.encode({ src: 1, dst: 2, protocol: 17, payloadLength: 8 }));
    expect(h).toEqual({ src: 1, dst: 2, protocol: 17, ttl: 64, id: 0, tos: 0, dontFragment: true, payloadLength: 8 });
  });
});
