import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { sectionHeader, interfaceDescription, enhancedPacket, readPcapng } from '../../../src/capture/index.js';
import { analyze, decodeFrame } from '../../../src/analyze/index.js';

describe('pcapng reader', () => {
  it('reads back what the writer wrote: data, timestamps, comments, interface names', () => {
    const f1 = Buffer.from(
      'ffffffffffff0a580af40102080600010800060400010a580af401020af401020000000000000af40101',
      'hex',
    );
    const file = Buffer.concat([
      sectionHeader(),
      interfaceDescription('node1/pipeline:from-pods'),
      enhancedPacket(f1, { timestampUs: 1_700_000_000_000_001n, comment: 'podwire drop: arp-unresolved — x' }),
      enhancedPacket(f1.subarray(0, 13), { timestampUs: 1_700_000_000_500_000n }),
    ]);
    const pk = readPcapng(file);
    expect(pk).toHaveLength(2);
    expect(pk[0].data).toEqual(f1);
    expect(pk[0].time).toBeCloseTo(1_700_000_000.000001, 6);
    expect(pk[0].interfaceName).toBe('node1/pipeline:from-pods');
    expect(pk[1].data).toHaveLength(13);
    const a = analyze(pk);
    expect(a.drops).toEqual({ 'arp-unresolved': 1 });
    expect(a.protocols.arp).toBe(1);
  });

  it('reports a cut-short file as an error instead of reading garbage', () => {
    const file = Buffer.concat([
      sectionHeader(),
      interfaceDescription('x'),
      enhancedPacket(Buffer.alloc(60), { timestampUs: 1n }),
    ]);
    expect(() => readPcapng(file.subarray(0, file.length - 10))).toThrow(/cut short or corrupt/);
  });
});

describe('decoder', () => {
  it('never throws on any bytes, for every link type it knows', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(1, 113, 276, 999), (bytes, lt) => {
        const d = decodeFrame(Buffer.from(bytes), lt);
        expect(Array.isArray(d.layers)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
