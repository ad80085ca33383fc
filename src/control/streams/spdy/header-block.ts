// SPDY/3 name/value header blocks (§2.6.10) and their compression (§2.6.10.1).
//
// +------------------------------------+
// | Number of Name/Value pairs (int32) |
// +------------------------------------+
// |     Length of name (int32)         |
// +------------------------------------+
// |           Name (string)            |
// +------------------------------------+
// |     Length of value  (int32)       |
// +------------------------------------+
// |          Value   (string)          |   several values: joined by NUL
// +------------------------------------+
//
// Names are lower case and unique. Each direction of a session compresses its
// blocks with ONE zlib stream primed with the SPDY/3 dictionary and flushed
// (Z_SYNC_FLUSH) after every block, so a block can only be inflated by the
// context that inflated every block before it. node:zlib has no synchronous
// streaming API (its *Sync calls are one-shot), so the contexts are pako's.

import pako from 'pako';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SpdyError } from './errors.js';

/** Decoded headers: lower-case name → its values (usually one). */
export type SpdyHeaders = Record<string, string[]>;
/** Headers to encode: a value or several. */
export type SpdyHeadersInit = Record<string, string | readonly string[]>;

const Z_SYNC_FLUSH = 2;
const Z_OK = 0;

/** The uncompressed name/value block codec. */
export const nameValueBlock = {
  encodingLength(h: SpdyHeadersInit): number {
    let n = 4;
    for (const [k, v] of Object.entries(h)) n += 8 + Buffer.byteLength(k) + Buffer.byteLength(joinValues(v));
    return n;
  },

  encode(h: SpdyHeadersInit, buf?: Buffer, offset = 0): Buffer {
    const len = nameValueBlock.encodingLength(h);
    const out = buf ?? Buffer.alloc(offset + len);
    if (offset < 0 || offset + len > out.length)
      throw new SpdyError('ERR_SPDY_VALUE', `need ${len} bytes at ${offset}`);
    const entries = Object.entries(h);
    let o = offset;
    o = out.writeUInt32BE(entries.length, o);
    for (const [k, v] of entries) {
      if (k.length === 0 || k !== k.toLowerCase())
        throw new SpdyError('ERR_SPDY_VALUE', `header name ${JSON.stringify(k)}: SPDY names are non-empty lower case`);
      o = out.writeUInt32BE(Buffer.byteLength(k), o);
      o += out.write(k, o);
      const val = joinValues(v);
      o = out.writeUInt32BE(Buffer.byteLength(val), o);
      o += out.write(val, o);
    }
    return out;
  },

  decode(buf: Buffer, offset = 0): SpdyHeaders {
    const out: SpdyHeaders = Object.create(null);
    let o = offset;
    const u32 = (what: string): number => {
      if (o + 4 > buf.length) throw new SpdyError('ERR_SPDY_HEADERS', `header block truncated at ${what}`);
      const v = buf.readUInt32BE(o);
      o += 4;
      return v;
    };
    const str = (n: number, what: string): string => {
      if (o + n > buf.length) throw new SpdyError('ERR_SPDY_HEADERS', `header block truncated in ${what}`);
      const s = buf.toString('utf8', o, o + n);
      o += n;
      return s;
    };
    const count = u32('the pair count');
    for (let i = 0; i < count; i++) {
      const name = str(u32('a name length'), 'a name');
      const value = str(u32('a value length'), 'a value');
      if (name.length === 0) throw new SpdyError('ERR_SPDY_HEADERS', 'an empty header name');
      if (name !== name.toLowerCase()) throw new SpdyError('ERR_SPDY_HEADERS', `header ${name} is not lower case`);
      if (name in out) throw new SpdyError('ERR_SPDY_HEADERS', `header ${name} appears twice`);
      out[name] = value.split('\0');
    }
    if (o !== buf.length) throw new SpdyError('ERR_SPDY_HEADERS', `${buf.length - o} bytes after the last header`);
    return out;
  },
};

function joinValues(v: string | readonly string[]): string {
  return typeof v === 'string' ? v : v.join('\0');
}

/** One direction's compression context: every block this side sends, in order. */
export class HeaderCompressor {
  private readonly z = new pako.Deflate({ dictionary: SPDY3_DICTIONARY });
  private chunks: Uint8Array[] = [];

  constructor() {
    this.z.onData = (c) => this.chunks.push(c as Uint8Array);
  }

  compress(h: SpdyHeadersInit): Buffer {
    this.chunks = [];
    this.z.push(nameValueBlock.encode(h), Z_SYNC_FLUSH);
    if (this.z.err !== Z_OK) throw new SpdyError('ERR_SPDY_HEADERS', `deflate: ${this.z.msg}`);
    return Buffer.concat(this.chunks);
  }
}

/** The other direction's context: every block the peer sent, in order. */
export class HeaderDecompressor {
  private readonly z = new pako.Inflate({ dictionary: SPDY3_DICTIONARY });
  private chunks: Uint8Array[] = [];

  constructor() {
    this.z.onData = (c) => this.chunks.push(c as Uint8Array);
  }

  /** Inflates one compressed block (empty → an empty header set, as SPDY/3 peers send for SYN_REPLY). */
  decompress(block: Buffer): SpdyHeaders {
    if (block.length === 0) return Object.create(null);
    this.chunks = [];
    this.z.push(block, Z_SYNC_FLUSH);
    if (this.z.err !== Z_OK) throw new SpdyError('ERR_SPDY_HEADERS', `inflate: ${this.z.msg || `error ${this.z.err}`}`);
    return nameValueBlock.decode(Buffer.concat(this.chunks));
  }
}
