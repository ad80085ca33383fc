// The Internet checksum: RFC 1071 one's-complement arithmetic, plus the
// RFC 1624 incremental updates that NAT and TTL decrement need.
//
// Vocabulary used throughout the folder:
//   - a "sum" is an unfolded accumulation of 16-bit big-endian words. Sums
//     add: sum(A ++ B) ≡ sum(A) + sum(B) when A has even length, which is how
//     the pseudo header, the L4 header and the payload are combined.
//   - fold16(sum) squeezes the carries back in (end-around carry).
//   - a "checksum" is ~fold16(sum) & 0xffff, the value stored in a header.
// A receiver verifies by summing the whole header *including* the checksum
// field: the result folds to 0xffff when the header is intact.

/** Bytes summed between folds. 8192 words × 0xffff stays below 2^31, so the
 *  accumulator is always a small integer V8 keeps in a register. */
const CHUNK_BYTES = 16384;

/**
 * Sums the 16-bit big-endian words of buf[off, off+len), adding `initial`.
 *
 * An odd trailing byte is the high byte of a word whose low byte is zero
 * (RFC 1071 §4.1). A range that runs past the end of `buf` is clamped to the
 * bytes that exist, so a truncated packet yields a wrong sum, never an
 * exception or NaN. The result is the plain unfolded sum for ranges up to
 * 16 KB; longer ranges are folded between chunks, which keeps the value
 * congruent (mod 0xffff) to the true sum. Pass it to fold16 /
 * finishChecksum, or use it as `initial` of the next range.
 */
export function sum16(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let i = off > 0 ? off : 0;
  let end = off + len;
  if (end > buf.length) end = buf.length;
  let sum = initial > 0x7fffffff ? fold16(initial) : initial;
  while (i + 1 < end) {
    // Even number of bytes in this chunk so words stay aligned across chunks.
    let chunkEnd = i + CHUNK_BYTES;
    if (chunkEnd > end) chunkEnd = end - ((end - i) & 1);
    // Unrolled: 8 bytes per step while they last, then 2 at a time.
    while (i + 8 <= chunkEnd) {
      sum +=
        ((buf[i] << 8) | buf[i + 1]) +
        ((buf[i + 2] << 8) | buf[i + 3]) +
        ((buf[i + 4] << 8) | buf[i + 5]) +
        ((buf[i + 6] << 8) | buf[i + 7]);
      i += 8;
    }
    while (i < chunkEnd) {
      sum += (buf[i] << 8) | buf[i + 1];
      i += 2;
    }
    // Fold only when another chunk follows, so short ranges return the
    // true unfolded sum (RFC 1071's example reads 0x2ddf0, not 0xddf2).
    if (i + 1 < end) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/** Folds the carries of a sum into 16 bits (end-around carry). Accepts any
 *  non-negative integer below 2^53; 0xffff (one's-complement −0) is kept. */
export function fold16(sum: number): number {
  while (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum to store for a sum: its folded one's complement. */
export function finishChecksum(sum: number): number {
  return ~fold16(sum) & 0xffff;
}

/** The Internet checksum of buf[off, off+len), ready to store. */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return finishChecksum(sum16(buf, off, len, initial));
}

/**
 * Unfolded sum of the IPv4 pseudo header TCP and UDP checksums cover
 * (RFC 793 §3.1, RFC 768): source, destination, zero + protocol, L4 length.
 */
export function pseudoHeaderSumV4(src: number, dst: number, protocol: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) + (l4Length & 0xffff);
}

/**
 * RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered
 * data changed from oldWord to newWord: HC' = ~(~HC + ~m + m').
 *
 * Eqn. 3 (unlike eqn. 2) never produces the −0 ambiguity, so the result
 * equals a full recomputation whenever the old checksum was correct. UDP
 * callers must still skip a 0 checksum (RFC 768 "no checksum") and store a
 * 0 result as 0xffff.
 */
export function updateChecksum16(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~fold16(sum) & 0xffff;
}

/** updateChecksum16 for a 32-bit field, e.g. an IPv4 address rewritten by NAT
 *  (which also changes the TCP/UDP pseudo header — patch both checksums). */
export function updateChecksum32(oldChecksum: number, oldValue: number, newValue: number): number {
  const sum =
    (~oldChecksum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  return ~fold16(sum) & 0xffff;
}

/**
 * What a sender using TX checksum offload leaves in the TCP/UDP checksum
 * field: the folded pseudo-header sum, *not* complemented. With
 * virtio_net_hdr NEEDS_CSUM the device (or the kernel, or our dataplane)
 * later sums from csum_start to the end — this value included — and stores
 * the complement at csum_start + csum_offset. Linux's __tcp_v4_send_check
 * stores exactly ~csum_tcpudp_magic(...), which is this.
 */
export function partialPseudoChecksum(src: number, dst: number, protocol: number, l4Length: number): number {
  return fold16(pseudoHeaderSumV4(src, dst, protocol, l4Length));
}
