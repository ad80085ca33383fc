// Address and port rewriting for NAT (Service DNAT, reverse NAT, SNAT),
// with the checksums patched incrementally (RFC 1624) instead of summed
// again: a 64 KiB GSO super-frame costs the same few word operations as a
// SYN.
//
// Two kinds of L4 checksum field reach the dataplane:
//   - complete: ~sum over pseudo header + segment. Address words are in the
//     pseudo header, ports in the segment: both are patched.
//   - partial (virtio_net_hdr NEEDS_CSUM, what a pod's veth hands us with
//     TX offload on): the field holds the folded pseudo-header sum, *not*
//     complemented, and whoever completes it sums the segment from
//     csum_start, ports included. Only address words are patched, in the
//     uncomplemented sense.
// UDP's complete checksum 0 means "none" (RFC 768): it stays 0, and a
// computed 0 is stored as 0xffff.

import { read16, read32, write16, write32 } from './bytes.js';
import { updateChecksum16, updateChecksum32 } from './checksum.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './ipv4.js';

const IP_CHECKSUM = 10;
const IP_SRC = 12;
const IP_DST = 16;
const TCP_CHECKSUM = 16;
const UDP_CHECKSUM = 6;

/** Where the L4 checksum of the IPv4 packet at ipOff lives, or -1 (not TCP/UDP, or a later fragment). */
function l4ChecksumOffset(buf: Uint8Array, ipOff: number): number {
  if ((read16(buf, ipOff + 6) & 0x1fff) !== 0) return -1; // later fragment: no L4 header here
  const l4 = ipOff + ((buf[ipOff] & 0x0f) << 2);
  const proto = buf[ipOff + 9];
  if (proto === IPPROTO_TCP) return l4 + TCP_CHECKSUM;
  if (proto === IPPROTO_UDP) return l4 + UDP_CHECKSUM;
  return -1;
}

/**
 * Rewrite one address (at ipOff + addrField) and one port (at l4 + portField)
 * of the IPv4 packet at ipOff, patching both checksums. The caller has
 * validated the IPv4 header and that the L4 header is present.
 */
function rewrite(
  buf: Uint8Array,
  ipOff: number,
  addrField: number,
  portField: number,
  addr: number,
  port: number,
  l4Partial: boolean,
): void {
  const oldAddr = read32(buf, ipOff + addrField);
  const l4 = ipOff + ((buf[ipOff] & 0x0f) << 2);
  const oldPort = read16(buf, l4 + portField);
  addr >>>= 0;
  if (oldAddr !== addr) {
    write32(buf, ipOff + addrField, addr);
    write16(buf, ipOff + IP_CHECKSUM, updateChecksum32(read16(buf, ipOff + IP_CHECKSUM), oldAddr, addr));
  }
  const cOff = l4ChecksumOffset(buf, ipOff);
  if (oldPort !== port) write16(buf, l4 + portField, port);
  if (cOff < 0) return;
  const c = read16(buf, cOff);
  if (l4Partial) {
    // uncomplemented pseudo-header sum: only the address words move it
    if (oldAddr !== addr) write16(buf, cOff, ~updateChecksum32(~c & 0xffff, oldAddr, addr) & 0xffff);
    return;
  }
  const udp = buf[ipOff + 9] === IPPROTO_UDP;
  if (udp && c === 0) return; // no checksum
  let n = c;
  if (oldAddr !== addr) n = updateChecksum32(n, oldAddr, addr);
  if (oldPort !== port) n = updateChecksum16(n, oldPort, port);
  if (udp && n === 0) n = 0xffff;
  write16(buf, cOff, n);
}

/** DNAT / reverse SNAT: set the destination address and port. */
export function natSetDst(buf: Uint8Array, ipOff: number, addr: number, port: number, l4Partial: boolean): void {
  rewrite(buf, ipOff, IP_DST, 2, addr, port, l4Partial);
}

/** SNAT / reverse DNAT: set the source address and port. */
export function natSetSrc(buf: Uint8Array, ipOff: number, addr: number, port: number, l4Partial: boolean): void {
  rewrite(buf, ipOff, IP_SRC, 0, addr, port, l4Partial);
}
