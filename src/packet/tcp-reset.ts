// The reset a host sends for a segment nobody will take (RFC 9293 §3.10.7.1,
// "If the connection does not exist (CLOSED)"): what a client sees as
// "connection refused" when a Service has no endpoints, exactly as the
// kernel's REJECT --reject-with tcp-reset answers for kube-proxy.

import { read16, read32, write16, write32 } from './bytes.js';
import { IPPROTO_TCP, writeIpv4Header } from './ipv4.js';
import { computeTcpChecksum, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './tcp.js';

const TCP_RESET_SIZE = 40;

/**
 * Writes IPv4 + TCP RST answering the TCP segment whose IPv4 header is at
 * orig[origIpOff] (already validated; `origIpLen` bytes of it exist) into
 * out[outOff]: from its destination to its source, ports swapped. If the
 * segment had ACK, the reset carries SEQ = its ACK; otherwise SEQ 0 and
 * ACK = its SEQ + its length (SYN and FIN count one each), flags RST|ACK.
 * Returns 40, or 0 when the segment is itself a reset (never answer one)
 * or is cut short.
 */
export function buildTcpReset(
  out: Buffer,
  outOff: number,
  orig: Uint8Array,
  origIpOff: number,
  origIpLen: number,
): number {
  const ihl = (orig[origIpOff] & 0x0f) << 2;
  const t = origIpOff + ihl;
  if (ihl < 20 || ihl + 20 > origIpLen || orig[origIpOff + 9] !== IPPROTO_TCP) return 0;
  const flags = orig[t + 13];
  if (flags & TCP_RST) return 0;
  const src = read32(orig, origIpOff + 12);
  const dst = read32(orig, origIpOff + 16);
  const sport = read16(orig, t);
  const dport = read16(orig, t + 2);
  const dataLen = read16(orig, origIpOff + 2) - ihl - ((orig[t + 12] >> 4) << 2);
  const o = outOff + 20;
  out.fill(0, o, o + 20);
  write16(out, o, dport);
  write16(out, o + 2, sport);
  if (flags & TCP_ACK) {
    write32(out, o + 4, read32(orig, t + 8));
    out[o + 13] = TCP_RST;
  } else {
    const seq = read32(orig, t + 4);
    const len = Math.max(0, dataLen) + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0);
    write32(out, o + 8, (seq + len) >>> 0);
    out[o + 13] = TCP_RST | TCP_ACK;
  }
  out[o + 12] = 5 << 4;
  writeIpv4Header(out, outOff, dst, src, IPPROTO_TCP, 20, 64, 0, 0, true);
  write16(out, o + 16, computeTcpChecksum(out, outOff));
  return TCP_RESET_SIZE;
}
