import { ETHERNET_HEADER_SIZE, VNET_HDR_SIZE, VNET_HDR_GSO_NONE, ipv4ToString, macToString } from '../packet/index.js';
import { askPods } from './arp.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { mtuExceeded } from './icmp-replies.js';
import { FWD_LOCAL_POD } from './trace.js';
import { HOLD_DELIVER } from './trace-hold.js';

/** Step mode: a probe released from its hold before delivery is delivered (the frame from its virtio-net header on). */
export function resumeDelivery(ctx: PipelineContext, frame: Buffer, port: number): void {
  ctx.podTx.payload = frame;
  ctx.curBuf = frame;
  ctx.curOff = VNET_HDR_SIZE;
  ctx.curLen = frame.length - VNET_HDR_SIZE;
  ctx.curPort = port;
  ctx.curProbe = true;
  ctx.ip.wrap(frame, VNET_HDR_SIZE + ETHERNET_HEADER_SIZE, frame.length - VNET_HDR_SIZE - ETHERNET_HEADER_SIZE);
  deliverLocal(ctx, frame, 0, frame.length, false);
  ctx.flush();
}

/**
 * Delivery to a pod on this node, from a local pod or decapsulated from a
 * peer: L2 rewrite (gateway MAC to the pod's), TTL decrement, and the frame
 * goes out of the receive buffer unchanged otherwise. Decapsulated TCP may
 * be coalesced first (gro.ts).
 *
 * Drops: arp-unresolved, mtu-exceeded. Trace stage: deliver.
 */

const ETH = ETHERNET_HEADER_SIZE;

/** Hand an IPv4 frame (Ethernet at slot+10; ctx.ip on its header) to a pod on this node; `viaOverlay` frames may be coalesced. */
export function deliverLocal(ctx: PipelineContext, buf: Buffer, slot: number, len: number, viaOverlay: boolean): void {
  if (ctx.curProbe && ctx.holds !== null && ctx.parkProbe(HOLD_DELIVER, buf, slot, len)) return;
  const c = ctx.counters;
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const ip = ctx.ip;
  const mac = ctx.neighbors.get(ip.dst);
  if (!mac) {
    askPods(ctx, ip.dst);
    ctx.drop(DROP['arp-unresolved']);
    return;
  }
  const vnet = ctx.vnet.wrap(buf, slot);
  const gso = vnet.gsoType & 0x7f;
  const tooBig =
    gso === VNET_HDR_GSO_NONE
      ? ip.totalLength > ctx.id.podMtu
      : vnet.gsoSize + (vnet.hdrLen || 54) - ETH > ctx.id.podMtu;
  if (tooBig) {
    mtuExceeded(ctx, buf, f, flen);
    return;
  }
  ip.decrementTtl();
  const eth = ctx.eth.wrap(buf, f, flen);
  eth.setDst(mac);
  eth.setSrc(ctx.id.gatewayMac);
  const got = ctx.neighbors.trafficOf(ip.dst);
  if (got !== undefined) {
    got.toPodFrames++;
    got.toPodBytes += flen - ETH;
  }
  if (ctx.tracer?.forwarded)
    ctx.tracer.forwarded(
      FWD_LOCAL_POD,
      ctx.curPort,
      buf,
      f,
      flen,
      0,
      gso === VNET_HDR_GSO_NONE ? 1 : Math.ceil((ip.totalLength - ip.headerLength - 20) / (vnet.gsoSize || 1)),
    );
  if (viaOverlay && ctx.gro && !ctx.curProbe) {
    if (ctx.gro.offer(buf, slot, len)) return;
    ctx.gro.flushFlowOf(buf, slot, len);
  }
  if (ctx.curProbe)
    ctx.stage('deliver', `to pod ${ipv4ToString(ip.dst)} (${macToString(mac)}) through cbr0, TTL now ${ip.ttl}`, {
      mac: macToString(mac),
      ttl: ip.ttl,
    });
  if (!ctx.room(ctx.podTx, ctx.ports.pods, 0, 1)) return;
  ctx.podTx.pushScratchPayload(0, 0, slot, len);
  c.localTx++;
  c.localTxBytes += flen;
}

/**
 * Hand an IPv4 frame to the node's own kernel through its host port (pwh0):
 * replies to the node's traffic into the cluster (from remote pods over
 * VXLAN, or un-NATed replies of a Service it called). False when the node
 * has no host port (the caller drops).
 */
export function deliverToHost(ctx: PipelineContext, buf: Buffer, slot: number, len: number): boolean {
  const mac = ctx.id.hostMac;
  if (mac === undefined) return false;
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const ip = ctx.ip;
  ip.decrementTtl();
  const eth = ctx.eth.wrap(buf, f, flen);
  eth.setDst(mac);
  eth.setSrc(ctx.id.gatewayMac);
  if (ctx.curProbe)
    ctx.stage('deliver', `to the node itself (${ipv4ToString(ip.dst)}) through its host port pwh0`, { host: true });
  if (ctx.tracer?.forwarded) ctx.tracer.forwarded(FWD_LOCAL_POD, ctx.curPort, buf, f, flen, 0, 1);
  if (!ctx.room(ctx.podTx, ctx.ports.pods, 0, 1)) return true;
  ctx.podTx.pushScratchPayload(0, 0, slot, len);
  ctx.counters.toHost++;
  return true;
}
