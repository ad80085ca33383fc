import { KubeletError } from '../errors.js';

/**
 * What the agent and a container's console holder (console-holder.ts) say
 * on the holder's Unix socket: frames of {type: u8, length: u32 BE, data}.
 *
 *   agent → holder: INPUT (bytes for the container's stdin), INPUT_CLOSED
 *                   (the attach's stdin ended), RESIZE (u16 columns, u16 rows)
 *   holder → agent: STDOUT, STDERR (the container's output; a TTY's is all
 *                   STDOUT), EXITED (JSON {code, signal}: the container is done,
 *                   everything it printed was sent before)
 */
export const INPUT = 0;
export const INPUT_CLOSED = 1;
export const RESIZE_TO = 2;
export const OUT = 11;
export const ERR = 12;
export const EXITED = 13;

const HEADER = 5;
/** Larger frames are split by the sender; a peer announcing more is broken. */
export const MAX_CONSOLE_FRAME = 1 << 20;

export interface ConsoleFrame {
  type: number;
  data: Buffer;
}

export function consoleFrame(type: number, data: Uint8Array | string = Buffer.alloc(0)): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (body.length > MAX_CONSOLE_FRAME)
    throw new KubeletError('ERR_BAD_FRAME', `a console frame carries at most ${MAX_CONSOLE_FRAME} bytes`);
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out[0] = type;
  out.writeUInt32BE(body.length, 1);
  out.set(body, HEADER);
  return out;
}

/** Data of any size as frames of at most MAX_CONSOLE_FRAME bytes. */
export function consoleFrames(type: number, data: Buffer): Buffer {
  if (data.length <= MAX_CONSOLE_FRAME) return consoleFrame(type, data);
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += MAX_CONSOLE_FRAME)
    parts.push(consoleFrame(type, data.subarray(i, i + MAX_CONSOLE_FRAME)));
  return Buffer.concat(parts);
}

export function resizeFrame(cols: number, rows: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Math.min(cols, 0xffff), 0);
  b.writeUInt16BE(Math.min(rows, 0xffff), 2);
  return consoleFrame(RESIZE_TO, b);
}

export function parseResizeFrame(data: Buffer): { cols: number; rows: number } | null {
  if (data.length !== 4) return null;
  return { cols: data.readUInt16BE(0), rows: data.readUInt16BE(2) };
}

/** Reassembles frames from a byte stream, however it is cut. */
export class ConsoleFrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ConsoleFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: ConsoleFrame[] = [];
    let off = 0;
    while (this.buf.length - off >= HEADER) {
      const len = this.buf.readUInt32BE(off + 1);
      if (len > MAX_CONSOLE_FRAME)
        throw new KubeletError('ERR_BAD_FRAME', `a console frame of ${len} bytes (at most ${MAX_CONSOLE_FRAME})`);
      if (this.buf.length - off < HEADER + len) break;
      out.push({ type: this.buf[off], data: Buffer.from(this.buf.subarray(off + HEADER, off + HEADER + len)) });
      off += HEADER + len;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
    return out;
  }
}

/**
 * What a container printed before anyone attached, kept for the first attach
 * (kubectl run -i attaches once the pod is Running: a short command may have
 * printed by then). Bounded: the oldest output goes first past maxBytes (it
 * is in the log anyway).
 */
export class EarlyOutput {
  private chunks: ConsoleFrame[] = [];
  private bytes = 0;
  constructor(private readonly maxBytes = 1 << 20) {}

  add(type: number, data: Buffer): void {
    this.chunks.push({ type, data });
    this.bytes += data.length;
    while (this.bytes > this.maxBytes && this.chunks.length > 1) this.bytes -= this.chunks.shift()!.data.length;
  }

  /** Everything kept, once: it is emptied. */
  take(): ConsoleFrame[] {
    const c = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return c;
  }

  get size(): number {
    return this.bytes;
  }
}
