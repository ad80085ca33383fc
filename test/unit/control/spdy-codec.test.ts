import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  frame,
  FrameReader,
  HeaderCompressor,
  HeaderDecompressor,
  nameValueBlock,
  SPDY3_DICTIONARY,
  SPDY3_DICTIONARY_ADLER32,
  SpdyError,
  type SpdyFrame,
  type SpdyHeadersInit,
} from '../../../src/control/streams/spdy/index.js';

// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 §2.2, §2.6) and its
// header compression, against bytes kubectl 1.32 (client-go, moby/spdystream)
// sent to a test server when `kubectl port-forward pod/p 19999:80` got a
// connection: the error stream's SYN_STREAM and a PING.

const KUBECTL_SYN_STREAM = Buffer.from(
  '80030001' +
    '0000003d' +
    '00000001' +
    '00000000' +
    '0000' +
    '78f9e3c6a7c202253a703a2b294a4dcc851625aca9a0808614cb45a024cc6461c0c0c0c0590489c44c50e2663400000000ffff',
  'hex',
);
const KUBECTL_PING = Buffer.from('800300060000000400000001', 'hex');

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

describe('the SPDY/3 dictionary', () => {
  it('is the 1,423 bytes whose Adler-32 is the DICTID peers send', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(adler32(SPDY3_DICTIONARY)).toBe(SPDY3_DICTIONARY_ADLER32);
    expect(KUBECTL_SYN_STREAM.readUInt32BE(20)).toBe(SPDY3_DICTIONARY_ADLER32); // 78 f9 | e3 c6 a7 c2
    expect(Buffer.from(SPDY3_DICTIONARY.subarray(0, 11)).toString('latin1')).toBe('\0\0\0\x07options');
    expect(Buffer.from(SPDY3_DICTIONARY.subarray(-6)).toString('latin1')).toBe('enq=0.');
  });
});

describe('kubectl’s frames', () => {
  it('decodes the error stream’s SYN_STREAM and inflates its headers', () => {
    const f = frame.decode(KUBECTL_SYN_STREAM);
    expect(f).toMatchObject({ type: 'syn_stream', streamId: 1, associatedTo: 0, priority: 0, slot: 0, flags: 0 });
    const h = new HeaderDecompressor().decompress((f as Extract<SpdyFrame, { type: 'syn_stream' }>).headerBlock);
    expect({ ...h }).toEqual({ streamtype: ['error'], port: ['80'], requestid: ['0'] });
  });

  it('decodes its PING and encodes the same bytes back', () => {
    const f = frame.decode(KUBECTL_PING);
    expect(f).toEqual({ type: 'ping', id: 1 });
    expect(frame.encode(f).equals(KUBECTL_PING)).toBe(true);
  });

  it('re-encodes the SYN_STREAM byte for byte', () => {
    expect(frame.encode(frame.decode(KUBECTL_SYN_STREAM)).equals(KUBECTL_SYN_STREAM)).toBe(true);
  });
});

describe('frame codec', () => {
  const u31 = fc.integer({ min: 0, max: 0x7fffffff });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
  const frames: fc.Arbitrary<SpdyFrame> = fc.oneof(
    fc.record({
      type: fc.constant('data' as const),
      streamId: u31,
      flags: fc.integer({ min: 0, max: 255 }),
      data: bytes,
    }),
    fc.record({
      type: fc.constant('syn_stream' as const),
      streamId: u31,
      associatedTo: u31,
      priority: fc.integer({ min: 0, max: 7 }),
      slot: fc.integer({ min: 0, max: 255 }),
      flags: fc.integer({ min: 0, max: 3 }),
      headerBlock: bytes,
    }),
    fc.record({
      type: fc.constant('syn_reply' as const),
      streamId: u31,
      flags: fc.integer({ min: 0, max: 1 }),
      headerBlock: bytes,
    }),
    fc.record({
      type: fc.constant('headers' as const),
      streamId: u31,
      flags: fc.integer({ min: 0, max: 1 }),
      headerBlock: bytes,
    }),
    fc.record({ type: fc.constant('rst_stream' as const), streamId: u31, status: u32 }),
    fc.record({
      type: fc.constant('settings' as const),
      flags: fc.integer({ min: 0, max: 1 }),
      entries: fc.array(
        fc.record({ flags: fc.integer({ min: 0, max: 255 }), id: fc.integer({ min: 0, max: 0xffffff }), value: u32 }),
        { maxLength: 8 },
      ),
    }),
    fc.record({ type: fc.constant('ping' as const), id: u32 }),
    fc.record({ type: fc.constant('goaway' as const), lastGoodStreamId: u31, status: u32 }),
    fc.record({
      type: fc.constant('window_update' as const),
      streamId: u31,
      delta: fc.integer({ min: 1, max: 0x7fffffff }),
    }),
  );

  it('round-trips every frame type (encode → decode → encode), encodingLength exact', () => {
    fc.assert(
      fc.property(frames, (f) => {
        const b = frame.encode(f);
        expect(b.length).toBe(frame.encodingLength(f));
        const d = frame.decode(b);
        expect(d).toEqual(f);
        expect(frame.encode(d).equals(b)).toBe(true);
      }),
    );
  });

  it('encodes at an offset into a caller’s buffer', () => {
    const f: SpdyFrame = { type: 'window_update', streamId: 3, delta: 65536 };
    const buf = Buffer.alloc(20, 0xaa);
    frame.encode(f, buf, 4);
    expect(buf.subarray(4, 20).toString('hex')).toBe('80030009000000080000000300010000');
    expect(frame.decode(buf, 4)).toEqual(f);
  });

  it('lays out a DATA frame as the draft draws it: C=0, stream id, flags, 24-bit length', () => {
    const b = frame.encode({ type: 'data', streamId: 5, flags: 1, data: Buffer.from('hi') });
    expect(b.toString('hex')).toBe('00000005' + '01000002' + '6869');
  });

  it('refuses truncated, other-version and impossible frames with a code', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(SpdyError);
        return (e as SpdyError).code;
      }
      return 'no error';
    };
    expect(codeOf(() => frame.decode(KUBECTL_PING.subarray(0, 10)))).toBe('ERR_SPDY_TRUNCATED');
    expect(codeOf(() => frame.decode(KUBECTL_PING.subarray(0, 5)))).toBe('ERR_SPDY_TRUNCATED');
    const v2 = Buffer.from(KUBECTL_PING);
    v2[1] = 2;
    expect(codeOf(() => frame.decode(v2))).toBe('ERR_SPDY_VERSION');
    expect(codeOf(() => frame.decode(Buffer.from('8003000300000004' + '00000001', 'hex')))).toBe('ERR_SPDY_FRAME'); // RST of 4 bytes
    expect(codeOf(() => frame.decode(Buffer.from('8003000400000004' + '00000002', 'hex')))).toBe('ERR_SPDY_FRAME'); // 2 settings, none there
    expect(codeOf(() => frame.decode(Buffer.from('800300010000000200ff', 'hex')))).toBe('ERR_SPDY_FRAME'); // SYN_STREAM < 10
    expect(codeOf(() => frame.encode({ type: 'window_update', streamId: 1, delta: 0 }))).toBe('ERR_SPDY_VALUE');
    expect(codeOf(() => frame.encode({ type: 'ping', id: -1 }))).toBe('ERR_SPDY_VALUE');
  });

  it('passes unknown control types (CREDENTIAL) through as unknown', () => {
    const b = Buffer.from('8003000a00000003abcdef', 'hex');
    expect(frame.decode(b)).toEqual({
      type: 'unknown',
      frameType: 10,
      flags: 0,
      payload: Buffer.from('abcdef', 'hex'),
    });
  });
});

describe('FrameReader', () => {
  const stream = Buffer.concat([
    KUBECTL_SYN_STREAM,
    KUBECTL_PING,
    frame.encode({ type: 'data', streamId: 1, flags: 1, data: Buffer.alloc(5000, 7) }),
    frame.encode({ type: 'rst_stream', streamId: 3, status: 5 }),
  ]);
  const whole = new FrameReader().push(stream);
  const hex = (fs: SpdyFrame[]) => Buffer.concat(fs.map((f) => frame.encode(f))).toString('hex');

  it('cuts a byte stream into its frames', () => {
    expect(whole.map((f) => f.type)).toEqual(['syn_stream', 'ping', 'data', 'rst_stream']);
  });

  it('gives the same frames however the stream is cut (every split point, and byte by byte)', () => {
    for (let cut = 0; cut <= stream.length; cut += 7) {
      const r = new FrameReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(hex(got)).toBe(hex(whole));
      expect(r.buffered).toBe(0);
    }
    const r = new FrameReader();
    const got: SpdyFrame[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...r.push(stream.subarray(i, i + 1)));
    expect(hex(got)).toBe(hex(whole));
    expect(hex(got)).toBe(stream.toString('hex'));
  });

  it('holds an incomplete frame until the rest arrives', () => {
    const r = new FrameReader();
    expect(r.push(KUBECTL_PING.subarray(0, 9))).toEqual([]);
    expect(r.buffered).toBe(9);
    expect(r.push(KUBECTL_PING.subarray(9))).toEqual([{ type: 'ping', id: 1 }]);
  });
});

describe('name/value blocks', () => {
  it('encode as the draft lays them out (32-bit counts and lengths; values joined by NUL)', () => {
    const b = nameValueBlock.encode({ port: '80', via: ['a', 'b'] });
    expect(b.toString('hex')).toBe(
      '00000002' +
        '00000004' +
        Buffer.from('port').toString('hex') +
        '00000002' +
        '3830' +
        '00000003' +
        Buffer.from('via').toString('hex') +
        '00000003' +
        '610062',
    );
    expect({ ...nameValueBlock.decode(b) }).toEqual({ port: ['80'], via: ['a', 'b'] });
    expect(b.length).toBe(nameValueBlock.encodingLength({ port: '80', via: ['a', 'b'] }));
  });

  it('refuses upper-case and repeated names, and trailing or missing bytes', () => {
    expect(() => nameValueBlock.encode({ Port: '80' })).toThrow(/lower case/);
    const dup = Buffer.concat([
      Buffer.from('00000002', 'hex'),
      nameValueBlock.encode({ a: '1' }).subarray(4),
      nameValueBlock.encode({ a: '2' }).subarray(4),
    ]);
    expect(() => nameValueBlock.decode(dup)).toThrow(/twice/);
    const good = nameValueBlock.encode({ a: '1' });
    expect(() => nameValueBlock.decode(good.subarray(0, good.length - 1))).toThrow(/truncated/);
    expect(() => nameValueBlock.decode(Buffer.concat([good, Buffer.from([0])]))).toThrow(/after the last/);
  });

  it('compress in one zlib stream per direction: blocks inflate only in order, with the dictionary', () => {
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    const sets: SpdyHeadersInit[] = [
      { streamtype: 'error', port: '8080', requestid: '0' },
      { streamtype: 'data', port: '8080', requestid: '0' },
      {},
      { streamtype: 'data', port: '3000', requestid: '17', extra: ['x', 'y'] },
    ];
    const blocks = sets.map((h) => c.compress(h));
    expect(blocks[0].readUInt32BE(2)).toBe(SPDY3_DICTIONARY_ADLER32);
    expect(blocks[1].length).toBeLessThan(blocks[0].length); // the context remembers the first block
    for (let i = 0; i < sets.length; i++) {
      const want = Object.fromEntries(Object.entries(sets[i]).map(([k, v]) => [k, typeof v === 'string' ? [v] : v]));
      expect({ ...d.decompress(blocks[i]) }).toEqual(want);
    }
    // a fresh context cannot read the second block alone
    expect(() => new HeaderDecompressor().decompress(blocks[1])).toThrow(SpdyError);
  });
});
