import { ETHERNET_HEADER_SIZE, VNET_HDR_SIZE, ipv4ToString, macToString } from '../packet/index.js';
import { queueUnderlayArp } from './arp.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { cidrContains } from './tables.js';
import { FWD_UNDERLAY } from './trace.js';

/**
 * A plain IPv4 frame out of eth0, not tunnelled: a masqueraded pod packet
 * to the outside, or a reply to an external client of a NodePort or
 * LoadBalancer (straight back to it, direct server return). Only hosts on
 * the underlay's own subnet are reachable (the lab has no router to
 * anywhere else); their MACs come from ARP, asked at most once a second.
 *
 * Drops: no-route, underlay-unresolved. Trace stage: egress.
 */

const ETH = ETHERNET_HEADER_SIZE;

/** Send the frame at slot (ctx.ip on its header; addresses final) to its destination on the underlay. */
export function sendToUnderlay(ctx: PipelineContext, buf: Buffer, slot: number, len: number): void {
  const ip = ctx.ip;
  const dst = ip.dst;
  const subnet = ctx.id.underlayCidr;
  if (subnet === undefined || !cidrContains(subnet, dst)) {
    ctx.drop(DROP['no-route'], `${ipv4ToString(dst)} is not on the underlay`);
    return;
  }
  const mac = ctx.underlayNeighbors.get(dst);
  if (mac === undefined) {
    askUnderlay(ctx, dst);
    ctx.drop(DROP['underlay-unresolved'], ipv4ToString(dst));
    return;
  }
  ip.decrementTtl();
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const eth = ctx.eth.wrap(buf, f, flen);
  eth.setDst(mac);
  eth.setSrc(ctx.id.nodeMac);
  if (ctx.curProbe) ctx.stage('egress', `out of eth0 to ${ipv4ToString(dst)} (${macToString(mac)}), not tunnelled`, { mac: macToString(mac) });
  if (ctx.tracer?.forwarded) ctx.tracer.forwarded(FWD_UNDERLAY, ctx.curPort, buf, f, flen, 0, 1);
  if (!ctx.room(ctx.underlayTx, ctx.ports.underlay, 0, 1)) return;
  ctx.underlayTx.pushScratchPayload(0, 0, slot, len);
  ctx.counters.underlayEgress++;
  ctx.counters.underlayEgressBytes += flen - ETH;
}

/** ARP for an underlay host (at most once a second per address); the answer teaches underlayNeighbors. */
export function askUnderlay(ctx: PipelineContext, ip: number): void {
  const now = ctx.clock();
  const last = ctx.underlayAsked.get(ip);
  if (last !== undefined && now - last < 1000) return;
  if (ctx.underlayAsked.size > 4096) ctx.underlayAsked.clear();
  ctx.underlayAsked.set(ip, now);
  queueUnderlayArp(ctx, ip);
}
