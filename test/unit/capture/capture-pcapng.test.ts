import { describe, it, expect } from 'vitest';
import { sectionHeader, interfaceDescription, enhancedPacket } from '../../../src/capture/index.js';

/** Walk pcapng blocks: every block's leading and trailing lengths agree and are 4-aligned. */
function blocks(buf: Buffer): { type: number; body: Buffer }[] {
  const out: { type: number; body: Buffer }[] = [];
  let off = 0;
  while (off < buf.length) {
    const type = buf.readUInt32LE(off);
    const total = buf.readUInt32LE(off + 4);
    expect(total % 4).toBe(0);
    expect(buf.readUInt32LE(off + total - 4)).toBe(total);
    out.push({ type, body: buf.subarray(off + 8, off + total - 4) });
    off += total;
  }
  expect(off).toBe(buf.length);
  return out;
}

describe('pcapng writer', () => {
  it('writes SHB, IDB and EPB with padded data and a comment option', () => {
    const frame = Buffer.from('0102030405060708090a0b0c0d', 'hex'); // 13 bytes: needs padding
    const file = Buffer.concat([
      sectionHeader(),
      interfaceDescription('node1/pipeline:from-pods'),
      enhancedPacket(frame, { timestampUs: 1_700_000_000_123_456n, comment: 'podwire drop: no-route', direction: 1 }),
    ]);
    const [shb, idb, epb] = blocks(file);
    expect(shb.type).toBe(0x0a0d0d0a);
    expect(shb.body.readUInt32LE(0)).toBe(0x1a2b3c4d);
    expect(idb.type).toBe(1);
    expect(idb.body.readUInt16LE(0)).toBe(1); // LINKTYPE_ETHERNET
    expect(epb.type).toBe(6);
    const ts = (BigInt(epb.body.readUInt32LE(4)) << 32n) | BigInt(epb.body.readUInt32LE(8));
    expect(ts).toBe(1_700_000_000_123_456n);
    expect(epb.body.readUInt32LE(12)).toBe(13);
    expect(epb.body.subarray(20, 33)).toEqual(frame);
    const optOff = 20 + 16; // 13 bytes padded to 16
    expect(epb.body.readUInt16LE(optOff)).toBe(1); // opt_comment
    const len = epb.body.readUInt16LE(optOff + 2);
    expect(epb.body.subarray(optOff + 4, optOff + 4 + len).toString()).toBe('podwire drop: no-route');
  });
});
