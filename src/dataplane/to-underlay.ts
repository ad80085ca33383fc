import { ETHERNET_HEADER_SIZE, VNET_HDR_SIZE, ipv4ToString, macToString, cidrContains } from '../packet/index.js';
import { queueUnderlayArp } from './arp.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
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
    // Like the kernel's neighbour queue (unres_qlen): keep the first few
    // small frames (a SYN, a DNS query) until the answer comes, so a new
    // destination does not cost a retransmission.
    if (holdForArp(ctx, dst, buf, slot, len)) {
      if (ctx.curProbe) ctx.stage('egress', `${ipv4ToString(dst)} has no known MAC yet: held until ARP answers`);
      return;
    }
    ctx.drop(DROP['underlay-unresolved'], ipv4ToString(dst));
    return;
  }
  ip.decrementTtl();
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const eth = ctx.eth.wrap(buf, f, flen);
  eth.setDst(mac);
  eth.setSrc(ctx.id.nodeMac);
  if (ctx.curProbe)
    ctx.stage('egress', `out of eth0 to ${ipv4ToString(dst)} (${macToString(mac)}), not tunnelled`, {
      mac: macToString(mac),
    });
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

/** Frames held per unresolved underlay neighbour, and how big one may be (copied out of the receive buffer). */
const HOLD_FRAMES = 3;
const HOLD_MAX_BYTES = 2048;
const HOLD_MS = 3000;

function holdForArp(ctx: PipelineContext, dst: number, buf: Buffer, slot: number, len: number): boolean {
  if (len > HOLD_MAX_BYTES || (buf[slot + 1] & 0x7f) !== 0) return false; // GSO frames are not held
  let q = ctx.underlayHeld.get(dst);
  const now = ctx.clock();
  if (q === undefined || now - q.sinceMs > HOLD_MS) ctx.underlayHeld.set(dst, (q = { sinceMs: now, frames: [] }));
  if (q.frames.length >= HOLD_FRAMES) return false;
  if (ctx.underlayHeld.size > 1024) return false;
  q.frames.push(Buffer.from(buf.subarray(slot, slot + len)));
  return true;
}

/** An underlay neighbour's MAC was learned: send what was held for it (TTL and MACs set now). */
export function releaseHeld(ctx: PipelineContext, ip: number): void {
  const q = ctx.underlayHeld.get(ip);
  if (q === undefined) return;
  ctx.underlayHeld.delete(ip);
  const mac = ctx.underlayNeighbors.get(ip);
  if (mac === undefined) return;
  const tx = ctx.underlayTx;
  for (const frame of q.frames) {
    if (!ctx.room(tx, ctx.ports.underlay, frame.length + 16)) return;
    const off = tx.alloc(frame.length);
    frame.copy(tx.scratch, off);
    const f = off + VNET_HDR_SIZE;
    const ip4 = ctx.ip.wrap(tx.scratch, f + ETH, frame.length - VNET_HDR_SIZE - ETH);
    ip4.decrementTtl();
    mac.copy(tx.scratch, f);
    ctx.id.nodeMac.copy(tx.scratch, f + 6);
    tx.pushScratch(off, frame.length);
    ctx.counters.underlayEgress++;
    ctx.counters.underlayEgressBytes += frame.length - VNET_HDR_SIZE - ETH;
  }
}
