// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 §2.2, with the 3.1 changes:
// WINDOW_UPDATE on stream 0 is the session's window). Every frame starts with
// 8 bytes; the first bit tells control frames from data frames:
//
//  Control frame                          Data frame
// +----------------------------------+   +----------------------------------+
// |C| Version(15bits) | Type(16bits) |   |C|       Stream-ID (31bits)       |
// +----------------------------------+   +----------------------------------+
// | Flags (8)  |  Length (24 bits)   |   | Flags (8)  |  Length (24 bits)   |
// +----------------------------------+   +----------------------------------+
// |               Data               |   |               Data               |
//
// Name/value blocks (SYN_STREAM, SYN_REPLY, HEADERS) are carried here as the
// compressed bytes they are on the wire: compressing them needs the session's
// zlib context (header-block.ts), which a pure frame codec cannot own.

import { SpdyError } from './errors.js';

export const SPDY_VERSION = 3;
export const FRAME_HEADER_SIZE = 8;
/** The 24-bit length field's limit. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export const TYPE_SYN_STREAM = 1;
export const TYPE_SYN_REPLY = 2;
export const TYPE_RST_STREAM = 3;
export const TYPE_SETTINGS = 4;
export const TYPE_PING = 6;
export const TYPE_GOAWAY = 7;
export const TYPE_HEADERS = 8;
export const TYPE_WINDOW_UPDATE = 9;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
export const FLAG_SETTINGS_CLEAR = 0x01;

/** RST_STREAM status codes (§2.6.3). */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  INVALID_CREDENTIALS: 10,
  FRAME_TOO_LARGE: 11,
} as const;

/** GOAWAY status codes (§2.6.6). */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

/** SETTINGS ids (§2.6.4); 7 is the initial per-stream window. */
export const SettingsId = {
  UPLOAD_BANDWIDTH: 1,
  DOWNLOAD_BANDWIDTH: 2,
  ROUND_TRIP_TIME: 3,
  MAX_CONCURRENT_STREAMS: 4,
  CURRENT_CWND: 5,
  DOWNLOAD_RETRANS_RATE: 6,
  INITIAL_WINDOW_SIZE: 7,
  CLIENT_CERTIFICATE_VECTOR_SIZE: 8,
} as const;

export interface SettingsEntry {
  flags: number;
  id: number;
  value: number;
}

export type SpdyFrame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | {
      type: 'syn_stream';
      streamId: number;
      associatedTo: number;
      priority: number;
      slot: number;
      flags: number;
      headerBlock: Buffer;
    }
  | { type: 'syn_reply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: SettingsEntry[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'window_update'; streamId: number; delta: number }
  /** A control frame type this codec does not know (CREDENTIAL, NOOP): receivers ignore it (§2.2.1). */
  | { type: 'unknown'; frameType: number; flags: number; payload: Buffer };

function check31(v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
    throw new SpdyError('ERR_SPDY_VALUE', `${field}: ${v} is not a 31-bit unsigned integer`);
}

function checkUint(v: number, bits: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits)
    throw new SpdyError('ERR_SPDY_VALUE', `${field}: ${v} is not an unsigned ${bits}-bit integer`);
}

/** Bytes after the 8-byte header. */
function payloadLength(f: SpdyFrame): number {
  switch (f.type) {
    case 'data':
      return f.data.length;
    case 'syn_stream':
      return 10 + f.headerBlock.length;
    case 'syn_reply':
    case 'headers':
      return 4 + f.headerBlock.length;
    case 'rst_stream':
    case 'goaway':
    case 'window_update':
      return 8;
    case 'settings':
      return 4 + 8 * f.entries.length;
    case 'ping':
      return 4;
    case 'unknown':
      return f.payload.length;
  }
}

function controlType(f: SpdyFrame): number {
  switch (f.type) {
    case 'syn_stream':
      return TYPE_SYN_STREAM;
    case 'syn_reply':
      return TYPE_SYN_REPLY;
    case 'rst_stream':
      return TYPE_RST_STREAM;
    case 'settings':
      return TYPE_SETTINGS;
    case 'ping':
      return TYPE_PING;
    case 'goaway':
      return TYPE_GOAWAY;
    case 'headers':
      return TYPE_HEADERS;
    case 'window_update':
      return TYPE_WINDOW_UPDATE;
    case 'unknown':
      return f.frameType;
    case 'data':
      throw new SpdyError('ERR_SPDY_VALUE', 'a data frame has no control type');
  }
}

function flagsOf(f: SpdyFrame): number {
  return 'flags' in f ? f.flags : 0;
}

/** The frame codec: encode / decode / encodingLength (house codec shape). */
export const frame = {
  encodingLength(f: SpdyFrame): number {
    return FRAME_HEADER_SIZE + payloadLength(f);
  },

  encode(f: SpdyFrame, buf?: Buffer, offset = 0): Buffer {
    const len = payloadLength(f);
    if (len > MAX_FRAME_PAYLOAD) throw new SpdyError('ERR_SPDY_VALUE', `frame payload of ${len} bytes exceeds 2^24-1`);
    const out = buf ?? Buffer.allocUnsafe(offset + FRAME_HEADER_SIZE + len);
    if (offset < 0 || offset + FRAME_HEADER_SIZE + len > out.length)
      throw new SpdyError('ERR_SPDY_VALUE', `need ${FRAME_HEADER_SIZE + len} bytes at offset ${offset}`);
    const flags = flagsOf(f);
    checkUint(flags, 8, 'flags');
    const o = offset;
    if (f.type === 'data') {
      check31(f.streamId, 'stream id');
      out.writeUInt32BE(f.streamId, o);
      out.writeUInt32BE(((flags << 24) | len) >>> 0, o + 4);
      f.data.copy(out, o + 8);
      return out;
    }
    const type = controlType(f);
    checkUint(type, 16, 'type');
    out.writeUInt16BE(0x8000 | SPDY_VERSION, o);
    out.writeUInt16BE(type, o + 2);
    out.writeUInt32BE(((flags << 24) | len) >>> 0, o + 4);
    const p = o + 8;
    switch (f.type) {
      case 'syn_stream':
        check31(f.streamId, 'stream id');
        check31(f.associatedTo, 'associated-to stream id');
        checkUint(f.priority, 3, 'priority');
        checkUint(f.slot, 8, 'slot');
        out.writeUInt32BE(f.streamId, p);
        out.writeUInt32BE(f.associatedTo, p + 4);
        out[p + 8] = f.priority << 5;
        out[p + 9] = f.slot;
        f.headerBlock.copy(out, p + 10);
        break;
      case 'syn_reply':
      case 'headers':
        check31(f.streamId, 'stream id');
        out.writeUInt32BE(f.streamId, p);
        f.headerBlock.copy(out, p + 4);
        break;
      case 'rst_stream':
        check31(f.streamId, 'stream id');
        checkUint(f.status, 32, 'status');
        out.writeUInt32BE(f.streamId, p);
        out.writeUInt32BE(f.status, p + 4);
        break;
      case 'settings':
        out.writeUInt32BE(f.entries.length, p);
        f.entries.forEach((e, i) => {
          checkUint(e.flags, 8, 'setting flags');
          checkUint(e.id, 24, 'setting id');
          checkUint(e.value, 32, 'setting value');
          out.writeUInt32BE(((e.flags << 24) | e.id) >>> 0, p + 4 + 8 * i);
          out.writeUInt32BE(e.value, p + 8 + 8 * i);
        });
        break;
      case 'ping':
        checkUint(f.id, 32, 'ping id');
        out.writeUInt32BE(f.id, p);
        break;
      case 'goaway':
        check31(f.lastGoodStreamId, 'last-good-stream-id');
        checkUint(f.status, 32, 'status');
        out.writeUInt32BE(f.lastGoodStreamId, p);
        out.writeUInt32BE(f.status, p + 4);
        break;
      case 'window_update':
        check31(f.streamId, 'stream id');
        check31(f.delta, 'delta-window-size');
        if (f.delta === 0) throw new SpdyError('ERR_SPDY_VALUE', 'delta-window-size: 0 is not allowed (1..2^31-1)');
        out.writeUInt32BE(f.streamId, p);
        out.writeUInt32BE(f.delta, p + 4);
        break;
      case 'unknown':
        f.payload.copy(out, p);
        break;
    }
    return out;
  },

  /**
   * Decodes the frame at `offset`; throws SpdyError if it is truncated or
   * malformed. Data and header blocks are views into `buf`, not copies.
   */
  decode(buf: Buffer, offset = 0): SpdyFrame {
    const len = frameLength(buf, offset);
    if (len === null || offset + len > buf.length)
      throw new SpdyError('ERR_SPDY_TRUNCATED', `frame at ${offset}: ${buf.length - offset} bytes, truncated`);
    return decodeComplete(buf, offset, len - FRAME_HEADER_SIZE);
  },
};

/** The whole frame's length (header included) if its header is in `buf`, else null. */
export function frameLength(buf: Buffer, offset = 0): number | null {
  if (buf.length - offset < FRAME_HEADER_SIZE) return null;
  return FRAME_HEADER_SIZE + (buf.readUInt32BE(offset + 4) & 0xffffff);
}

function need(len: number, min: number, what: string, exact = false): void {
  if (exact ? len !== min : len < min)
    throw new SpdyError('ERR_SPDY_FRAME', `${what}: length ${len}, ${exact ? 'must be' : 'needs at least'} ${min}`);
}

function decodeComplete(buf: Buffer, o: number, len: number): SpdyFrame {
  const flags = buf[o + 4];
  const p = o + 8;
  if ((buf[o] & 0x80) === 0) {
    return { type: 'data', streamId: buf.readUInt32BE(o) & 0x7fffffff, flags, data: buf.subarray(p, p + len) };
  }
  const version = buf.readUInt16BE(o) & 0x7fff;
  if (version !== SPDY_VERSION)
    throw new SpdyError('ERR_SPDY_VERSION', `control frame of SPDY version ${version}, this peer speaks 3`);
  const type = buf.readUInt16BE(o + 2);
  const u31 = (at: number) => buf.readUInt32BE(at) & 0x7fffffff;
  switch (type) {
    case TYPE_SYN_STREAM:
      need(len, 10, 'SYN_STREAM');
      return {
        type: 'syn_stream',
        streamId: u31(p),
        associatedTo: u31(p + 4),
        priority: buf[p + 8] >> 5,
        slot: buf[p + 9],
        flags,
        headerBlock: buf.subarray(p + 10, p + len),
      };
    case TYPE_SYN_REPLY:
      need(len, 4, 'SYN_REPLY');
      return { type: 'syn_reply', streamId: u31(p), flags, headerBlock: buf.subarray(p + 4, p + len) };
    case TYPE_HEADERS:
      need(len, 4, 'HEADERS');
      return { type: 'headers', streamId: u31(p), flags, headerBlock: buf.subarray(p + 4, p + len) };
    case TYPE_RST_STREAM:
      need(len, 8, 'RST_STREAM', true);
      return { type: 'rst_stream', streamId: u31(p), status: buf.readUInt32BE(p + 4) };
    case TYPE_SETTINGS: {
      need(len, 4, 'SETTINGS');
      const n = buf.readUInt32BE(p);
      need(len, 4 + 8 * n, `SETTINGS with ${n} entries`, true);
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < n; i++) {
        const w = buf.readUInt32BE(p + 4 + 8 * i);
        entries.push({ flags: w >>> 24, id: w & 0xffffff, value: buf.readUInt32BE(p + 8 + 8 * i) });
      }
      return { type: 'settings', flags, entries };
    }
    case TYPE_PING:
      need(len, 4, 'PING', true);
      return { type: 'ping', id: buf.readUInt32BE(p) };
    case TYPE_GOAWAY:
      need(len, 8, 'GOAWAY', true);
      return { type: 'goaway', lastGoodStreamId: u31(p), status: buf.readUInt32BE(p + 4) };
    case TYPE_WINDOW_UPDATE:
      need(len, 8, 'WINDOW_UPDATE', true);
      return { type: 'window_update', streamId: u31(p), delta: u31(p + 4) };
    default:
      return { type: 'unknown', frameType: type, flags, payload: buf.subarray(p, p + len) };
  }
}

/**
 * Reassembles frames from a byte stream cut anywhere (TCP segments, or
 * WebSocket messages of a tunnel). push() returns every frame completed by
 * the chunk; a frame inside one chunk is a view into it, not a copy.
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Length of the frame at the head of `pending`, once its header is known. */
  private needed = 0;

  push(chunk: Buffer): SpdyFrame[] {
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.needed === 0) {
      if (this.pendingBytes < FRAME_HEADER_SIZE) return [];
      const head = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
      this.needed = frameLength(head)!;
    }
    if (this.pendingBytes < this.needed) return [];
    // At least one whole frame: join what is pending once, cut every whole frame out of it.
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const out: SpdyFrame[] = [];
    let off = 0;
    for (;;) {
      const len = frameLength(buf, off);
      if (len === null || off + len > buf.length) break;
      out.push(decodeComplete(buf, off, len - FRAME_HEADER_SIZE));
      off += len;
    }
    const rest = buf.subarray(off);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    this.needed = frameLength(rest) ?? 0;
    return out;
  }

  /** Bytes held of an incomplete frame. */
  get buffered(): number {
    return this.pendingBytes;
  }
}
