// The codec shape shared by every header in this folder (the dns-packet /
// js-libp2p convention): encode into a caller's buffer or a fresh one,
// decode into a plain object, and say how many bytes that takes.
//
// Codecs are for building packets in tests, tools and the control plane and
// for printing them; they copy and may throw PacketError. The per-packet path
// uses the *View classes instead, which do neither.

import { PacketError } from './errors.js';

export interface Codec<T> {
  /** Writes `value` at `offset` (default 0) of `buf` (default: a new buffer) and returns `buf`. */
  encode(value: T, buf?: Buffer, offset?: number): Buffer;
  /** Reads a value at `offset` (default 0); throws PacketError on truncated or malformed bytes. */
  decode(buf: Buffer, offset?: number): T;
  /** Bytes `encode(value)` writes. Fixed-size headers ignore `value`. */
  encodingLength(value?: T): number;
}

/** Returns the buffer to encode into, allocating one if the caller gave none. */
export function targetBuffer(buf: Buffer | undefined, offset: number, length: number, what: string): Buffer {
  const out = buf ?? Buffer.alloc(offset + length);
  if (!Number.isInteger(offset) || offset < 0 || offset + length > out.length) {
    throw new PacketError(
      'ERR_BUFFER_TOO_SMALL',
      `${what}: need ${length} bytes at offset ${offset}, buffer has ${out.length}`,
    );
  }
  return out;
}

/** Throws unless `buf` holds `length` bytes at `offset`. */
export function requireBytes(buf: Buffer, offset: number, length: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw new PacketError(
      'ERR_TRUNCATED',
      `${what}: need ${length} bytes at offset ${offset}, have ${Math.max(0, buf.length - offset)}`,
    );
  }
}

/** Throws unless `value` is an integer in [0, 2^bits). */
export function requireUint(value: number, bits: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    throw new PacketError('ERR_BAD_VALUE', `${field}: ${value} is not an unsigned ${bits}-bit integer`);
  }
}

/** Throws unless `mac` is a 6-byte buffer. */
export function requireMac(mac: Buffer, field: string): void {
  if (!(mac instanceof Uint8Array) || mac.length !== 6) {
    throw new PacketError('ERR_BAD_VALUE', `${field}: a MAC address is 6 bytes`);
  }
}
