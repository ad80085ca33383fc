// Building ICMP replies and errors into a caller's buffer.
//
// Both builders read everything they need from the original before writing,
// and copy with Buffer#copy (memmove semantics), so `out` may be the very
// buffer the original arrived in — the usual way to answer a frame in place.
// They never throw and never allocate: bad input or too little room returns 0.

import { read16, read32, write16, write32 } from './bytes.js';
import { finishChecksum, sum16 } from './checksum.js';
import { IPPROTO_ICMP, IPV4_MIN_HEADER_SIZE, writeIpv4Header } from './ipv4.js';
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HEADER_SIZE, isIcmpErrorType } from './icmp.js';

/**
 * Linux (icmp_send) caps an ICMP error at 576 bytes, the minimum datagram
 * every host must accept (RFC 1812 §4.3.2.3): 576 − 20 (IP) − 8 (ICMP) =
 * 548 bytes of the original datagram, its IP header included.
 */
export const ICMP_ERROR_MAX_SIZE = 576;
export const ICMP_ERROR_MAX_QUOTE = ICMP_ERROR_MAX_SIZE - IPV4_MIN_HEADER_SIZE - ICMP_HEADER_SIZE;

/** TTL of packets podwire originates, as Linux's default ip_default_ttl. */
export const ICMP_TTL = 64;

/** RFC 1812 §4.3.2.5: ICMP errors carry precedence 6 (internetwork control). */
const TOS_INTERNETWORK_CONTROL = 0xc0;

/**
 * How many bytes of the IPv4 datagram at buf[ipOff] (ipLen available) are
 * real: totalLength when it is sane, trimming Ethernet padding; what is
 * there when the datagram was truncated; 0 when there is no IPv4 header.
 */
function datagramLength(buf: Buffer, ipOff: number, ipLen: number): number {
  if (ipOff < 0 || ipOff >= buf.length) return 0;
  const avail = Math.min(ipLen, buf.length - ipOff);
  if (avail < IPV4_MIN_HEADER_SIZE || buf[ipOff] >>> 4 !== 4) return 0;
  const hl = (buf[ipOff] & 0x0f) << 2;
  if (hl < IPV4_MIN_HEADER_SIZE || hl > avail) return 0;
  const total = read16(buf, ipOff + 2);
  return total >= hl && total <= avail ? total : avail;
}

/**
 * The RFC 1812 §4.3.2.7 rules a packet can answer on its own: no ICMP error
 * about an ICMP error, a non-initial fragment, a limited-broadcast or
 * multicast destination, or a source that is not one host (0/8, 127/8,
 * multicast, class E, broadcast). Directed subnet broadcasts and link-layer
 * broadcasts need context the pipeline has and this function does not.
 */
export function icmpErrorAllowed(original: Buffer, origIpOff: number, origIpLen: number): boolean {
  const len = datagramLength(original, origIpOff, origIpLen);
  if (len === 0) return false;
  const o = origIpOff;
  if ((read16(original, o + 6) & 0x1fff) !== 0) return false;
  const dst = read32(original, o + 16);
  if (dst === 0xffffffff || dst >>> 28 === 0xe) return false;
  const srcTop = original[o + 12];
  if (srcTop === 0 || srcTop === 127 || srcTop >= 224) return false;
  const hl = (original[o] & 0x0f) << 2;
  if (original[o + 9] === IPPROTO_ICMP && len > hl && isIcmpErrorType(original[o + hl])) return false;
  return true;
}

/**
 * Writes a complete IPv4 + ICMP error at out[outOff] from srcIp to the
 * original's source: TTL 64, then the original IP header and as much of its
 * data as fits in 576 bytes in total (the Linux rule; at least header + 8
 * bytes whenever the original has them). `extra` fills bytes 4–7 of the ICMP
 * header, i.e. the next-hop MTU for ICMP_CODE_FRAG_NEEDED.
 *
 * Returns the bytes written, or 0 when the original has no sane IPv4 header
 * or `out` cannot hold the error with the original's full IP header.
 * Whether an error may be sent at all is icmpErrorAllowed's question.
 */
export function buildIcmpError(
  out: Buffer,
  outOff: number,
  original: Buffer,
  origIpOff: number,
  origIpLen: number,
  type: number,
  code: number,
  srcIp: number,
  extra = 0,
): number {
  const origLen = datagramLength(original, origIpOff, origIpLen);
  if (origLen === 0 || outOff < 0) return 0;
  const origHl = (original[origIpOff] & 0x0f) << 2;
  const room = out.length - outOff - IPV4_MIN_HEADER_SIZE - ICMP_HEADER_SIZE;
  const quote = Math.min(origLen, ICMP_ERROR_MAX_QUOTE, room);
  if (quote < origHl) return 0;
  const origSrc = read32(original, origIpOff + 12); // read before a same-buffer copy clobbers it

  const icmpOff = outOff + IPV4_MIN_HEADER_SIZE;
  original.copy(out, icmpOff + ICMP_HEADER_SIZE, origIpOff, origIpOff + quote);
  out[icmpOff] = type;
  out[icmpOff + 1] = code;
  write16(out, icmpOff + 2, 0);
  write32(out, icmpOff + 4, extra);
  const icmpLen = ICMP_HEADER_SIZE + quote;
  write16(out, icmpOff + 2, finishChecksum(sum16(out, icmpOff, icmpLen)));
  writeIpv4Header(out, outOff, srcIp, origSrc, IPPROTO_ICMP, icmpLen, ICMP_TTL, 0, TOS_INTERNETWORK_CONTROL);
  return IPV4_MIN_HEADER_SIZE + icmpLen;
}

/**
 * Writes the IPv4 echo reply to the echo request at request[reqIpOff]
 * (reqIpLen available) into out[outOff]: addresses swapped, type 0, TTL 64,
 * identifier, sequence and data echoed, both checksums recomputed. IP
 * options of the request are not reflected (the reply has IHL 5).
 *
 * Returns the bytes written, or 0 when the request is not a complete IPv4
 * ICMP echo request or `out` is too small. Does not check the request's
 * checksum — verify it first with IcmpView.isChecksumValid().
 */
export function buildEchoReply(
  out: Buffer,
  outOff: number,
  request: Buffer,
  reqIpOff: number,
  reqIpLen: number,
): number {
  const len = datagramLength(request, reqIpOff, reqIpLen);
  if (len === 0 || outOff < 0) return 0;
  const o = reqIpOff;
  const hl = (request[o] & 0x0f) << 2;
  if (read16(request, o + 2) !== len) return 0; // truncated request: nothing to echo faithfully
  if (request[o + 9] !== IPPROTO_ICMP || read16(request, o + 6) & 0x3fff) return 0;
  const icmpLen = len - hl;
  if (icmpLen < ICMP_HEADER_SIZE || request[o + hl] !== ICMP_ECHO_REQUEST) return 0;
  if (outOff + IPV4_MIN_HEADER_SIZE + icmpLen > out.length) return 0;

  const src = read32(request, o + 12);
  const dst = read32(request, o + 16);
  const tos = request[o + 1];
  const id = read16(request, o + 4);
  const icmpOff = outOff + IPV4_MIN_HEADER_SIZE;
  request.copy(out, icmpOff, o + hl, o + len);
  out[icmpOff] = ICMP_ECHO_REPLY;
  out[icmpOff + 1] = 0;
  write16(out, icmpOff + 2, 0);
  write16(out, icmpOff + 2, finishChecksum(sum16(out, icmpOff, icmpLen)));
  writeIpv4Header(out, outOff, dst, src, IPPROTO_ICMP, icmpLen, ICMP_TTL, id, tos);
  return IPV4_MIN_HEADER_SIZE + icmpLen;
}
