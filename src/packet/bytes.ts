// Big-endian field access by byte math, shared by the views.
//
// Why not buf.readUInt32BE? Those throw RangeError past the end, and views
// must never throw on a malformed packet. Out-of-range typed-array reads
// yield undefined, which the bit operators turn into 0, and out-of-range
// writes are ignored — so a view over garbage returns garbage, never an
// exception. These tiny functions are inlined by V8.

export function read16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function write16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Unsigned: 0 … 2^32 − 1. */
export function read32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function write32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** A buffer views start out wrapping, so an unwrapped view is merely invalid. */
export const EMPTY: Buffer = Buffer.alloc(0);
