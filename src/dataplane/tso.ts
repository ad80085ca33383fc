import { ETHERNET_HEADER_SIZE, VNET_HDR_SIZE, VNET_HDR_F_NEEDS_CSUM } from '../packet/index.js';
import { type OuterTemplate, OUTER_HEADERS_SIZE, planTcpSegments, patchTcpSegment } from '../overlay/index.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { mtuExceeded } from './icmp-replies.js';

/**
 * Userspace TSO: a pod's TCP GSO super-frame leaves as MSS-sized VXLAN
 * frames. Each segment is new headers in scratch (outer, then the inner
 * headers copied and patched: length, id, seq, flags) plus its slice of the
 * payload from the receive buffer; the kernel completes each TCP checksum.
 *
 * Drops: gso-unsupported, mtu-exceeded.
 */

const ETH = ETHERNET_HEADER_SIZE;

/** Split the TCP super-frame at f (Ethernet) into `mss`-sized segments behind `tpl`. */
export function segmentTcp(
  ctx: PipelineContext,
  buf: Buffer,
  f: number,
  flen: number,
  mss: number,
  tpl: OuterTemplate,
  sport: number,
): void {
  const c = ctx.counters;
  const plan = planTcpSegments(buf, f, flen, mss);
  if (!plan) {
    ctx.drop(DROP['gso-unsupported']);
    return;
  }
  if (plan.ipHeaderLen + plan.tcpHeaderLen + mss > ctx.id.podMtu) {
    mtuExceeded(ctx, buf, f, flen);
    return;
  }
  const ipOff = f + ETH;
  const tcpOff = ipOff + plan.ipHeaderLen;
  const baseSeq = buf.readUInt32BE(tcpOff + 4);
  const baseId = buf.readUInt16BE(ipOff + 4);
  const baseFlags = buf[tcpOff + 13];
  const csumStart = OUTER_HEADERS_SIZE + ETH + plan.ipHeaderLen;
  const hdrBytes = VNET_HDR_SIZE + OUTER_HEADERS_SIZE + plan.headerLen;
  const tx = ctx.underlayTx;
  let payloadOff = f + plan.headerLen;
  let remaining = plan.payloadLen;
  for (let s = 0; s < plan.segments; s++) {
    const segLen = remaining < mss ? remaining : mss;
    if (!ctx.room(tx, ctx.ports.underlay, hdrBytes)) return;
    const off = tx.alloc(hdrBytes);
    const sc = tx.scratch;
    sc.fill(0, off, off + VNET_HDR_SIZE);
    sc[off] = VNET_HDR_F_NEEDS_CSUM;
    sc.writeUInt16LE(csumStart, off + 6);
    sc.writeUInt16LE(16, off + 8);
    const innerLen = plan.headerLen + segLen;
    tpl.write(sc, off + VNET_HDR_SIZE, innerLen, ctx.nextIpId(), sport);
    const hdr = off + VNET_HDR_SIZE + OUTER_HEADERS_SIZE;
    buf.copy(sc, hdr, f, f + plan.headerLen);
    patchTcpSegment(sc, hdr, plan, s, segLen, baseSeq, baseId, baseFlags);
    tx.pushScratchPayload(off, hdrBytes, payloadOff, segLen);
    payloadOff += segLen;
    remaining -= segLen;
    c.vxlanTx++;
    c.vxlanTxBytes += innerLen + OUTER_HEADERS_SIZE;
  }
  c.segmented++;
}
