import {
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_IPV4,
  VNET_HDR_SIZE,
  buildIcmpError,
  buildTcpReset,
  icmpErrorAllowed,
} from '../packet/index.js';
import { PORT_PODS, type PipelineContext } from './context.js';

const ETH = ETHERNET_HEADER_SIZE;

/**
 * Answer the sender of the frame at hand on the port it came in (to its
 * MAC): a TCP reset (`tcpReset`), else an ICMP error from `srcIp`. Rate
 * limited with the gateway's other ICMP errors. True if queued.
 */
export function answerSender(
  ctx: PipelineContext,
  buf: Buffer,
  slot: number,
  tcpReset: boolean,
  icmpType: number,
  icmpCode: number,
  mtu: number,
  srcIp: number,
): boolean {
  const ip = ctx.ip;
  const f = slot + VNET_HDR_SIZE;
  const ipOff = ip.off;
  const ipLen = Math.min(ip.totalLength, buf.length - ipOff);
  if (!tcpReset && !icmpErrorAllowed(buf, ipOff, ipLen)) return false;
  if (!ctx.icmpBucket.take()) {
    ctx.counters.icmpRateLimited++;
    return false;
  }
  const toPods = ctx.curPort === PORT_PODS;
  const tx = toPods ? ctx.podTx : ctx.underlayTx;
  if (!ctx.room(tx, toPods ? ctx.ports.pods : ctx.ports.underlay, 700)) return false;
  const off = tx.alloc(VNET_HDR_SIZE + ETH + 600);
  const sc = tx.scratch;
  sc.fill(0, off, off + VNET_HDR_SIZE);
  buf.copy(sc, off + VNET_HDR_SIZE, f + 6, f + 12); // back to the sender's MAC
  (toPods ? ctx.id.gatewayMac : ctx.id.nodeMac).copy(sc, off + VNET_HDR_SIZE + 6);
  sc.writeUInt16BE(ETHERTYPE_IPV4, off + VNET_HDR_SIZE + 12);
  const o = off + VNET_HDR_SIZE + ETH;
  const n = tcpReset
    ? buildTcpReset(sc, o, buf, ipOff, ipLen)
    : buildIcmpError(sc, o, buf, ipOff, ipLen, icmpType, icmpCode, srcIp, mtu);
  if (n <= 0) return false;
  tx.pushScratch(off, VNET_HDR_SIZE + ETH + n);
  if (!tcpReset) ctx.counters.icmpErrors++;
  return true;
}
