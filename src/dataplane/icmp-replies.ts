import {
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_IPV4,
  VNET_HDR_SIZE,
  ICMP_DEST_UNREACHABLE,
  ICMP_CODE_FRAG_NEEDED,
  ICMP_ECHO_REQUEST,
  buildIcmpError,
  buildEchoReply,
  icmpErrorAllowed,
} from '../packet/index.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import type { Peer } from './tables.js';
import { sendOverlayIp } from './tunnel.js';
import { unNatIcmpError } from './icmp-nat.js';

/**
 * What the gateway says back, as a router would: ICMP errors (TTL exceeded,
 * net/host unreachable, fragmentation needed) to the sender of the frame at
 * hand — a local pod over cbr0, or a remote pod over VXLAN — rate limited
 * together; and echo replies to remote pods pinging this node's gateway.
 * Each reads the frame's IPv4 header from ctx.ip.
 */

const ETH = ETHERNET_HEADER_SIZE;

/** ICMP error about the frame at f (Ethernet) to the local pod that sent it. */
export function icmpErrorToPod(
  ctx: PipelineContext,
  buf: Buffer,
  f: number,
  flen: number,
  type: number,
  code: number,
  mtu: number,
): void {
  const ipOff = f + ETH;
  if (!icmpErrorAllowed(buf, ipOff, flen - ETH)) return;
  if (!ctx.icmpBucket.take()) {
    ctx.counters.icmpRateLimited++;
    return;
  }
  const srcMacOff = f + 6;
  if (!ctx.room(ctx.podTx, ctx.ports.pods, 700)) return;
  const tx = ctx.podTx;
  const off = tx.alloc(VNET_HDR_SIZE + ETH + 600);
  const sc = tx.scratch;
  sc.fill(0, off, off + VNET_HDR_SIZE);
  buf.copy(sc, off + VNET_HDR_SIZE, srcMacOff, srcMacOff + 6); // back to the sender's MAC
  ctx.id.gatewayMac.copy(sc, off + VNET_HDR_SIZE + 6);
  sc.writeUInt16BE(ETHERTYPE_IPV4, off + VNET_HDR_SIZE + 12);
  const ipLen = Math.min(ctx.ip.totalLength, flen - ETH);
  const n = buildIcmpError(sc, off + VNET_HDR_SIZE + ETH, buf, ipOff, ipLen, type, code, ctx.id.gatewayIp, mtu);
  if (n <= 0) return;
  // about a packet the Service stage rewrote: quote it as the pod sent it
  if (ctx.lb !== null && ctx.lb.conntrack.size > 0) unNatIcmpError(ctx.lb, sc, off + VNET_HDR_SIZE + ETH, n);
  tx.pushScratch(off, VNET_HDR_SIZE + ETH + n);
  ctx.counters.icmpErrors++;
}

/** ICMP error about a decapsulated frame (inner Ethernet at `inner`) back to its remote pod. */
export function icmpErrorOverlay(
  ctx: PipelineContext,
  buf: Buffer,
  inner: number,
  innerLen: number,
  peer: Peer,
  type: number,
  code: number,
  mtu: number,
): void {
  const ipOff = inner + ETH;
  if (!icmpErrorAllowed(buf, ipOff, innerLen - ETH)) return;
  if (!ctx.icmpBucket.take()) {
    ctx.counters.icmpRateLimited++;
    return;
  }
  const ipLen = Math.min(ctx.ip.totalLength, innerLen - ETH);
  sendOverlayIp(ctx, peer, (out, o) => buildIcmpError(out, o, buf, ipOff, ipLen, type, code, ctx.id.gatewayIp, mtu));
  ctx.counters.icmpErrors++;
}

/** A remote pod pinged this node's gateway: answer it. */
export function echoReplyOverlay(ctx: PipelineContext, buf: Buffer, inner: number, innerLen: number, peer: Peer): void {
  const ipOff = inner + ETH;
  const ipLen = Math.min(ctx.ip.totalLength, innerLen - ETH);
  if (ipLen > ctx.id.podMtu || buf[ipOff + ctx.ip.headerLength] !== ICMP_ECHO_REQUEST) return;
  sendOverlayIp(ctx, peer, (out, o) => buildEchoReply(out, o, buf, ipOff, ipLen));
}

/** A local pod's frame is larger than the pod MTU: frag-needed if it said DF, and drop it. */
export function mtuExceeded(ctx: PipelineContext, buf: Buffer, f: number, flen: number): void {
  if (ctx.ip.dontFragment)
    icmpErrorToPod(ctx, buf, f, flen, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, ctx.id.podMtu);
  ctx.drop(DROP['mtu-exceeded']);
}
