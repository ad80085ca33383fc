import {
  ARP_REQUEST,
  ETHERNET_HEADER_SIZE,
  VNET_HDR_SIZE,
  vxlanSourcePort,
  writeArpReply,
  writeArpRequest,
  cidrContains,
  ipv4ToString,
  macToString,
} from '../packet/index.js';
import { OUTER_HEADERS_SIZE } from '../overlay/index.js';
import type { PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { type Peer } from './tables.js';
import { templateFor } from './tunnel.js';

/**
 * ARP: the agent answers for the pods it knows (proxy ARP on cbr0, so
 * same-node pod traffic comes through the pipeline too, and over VXLAN for a
 * kernel VTEP that asks), learns pods' MACs from what they send, and asks
 * when it needs one: a pod's on cbr0, a peer node's on the underlay.
 *
 * Drops: malformed-arp, arp-unresolved, spoofed-source (an ARP claiming an
 * address that is not the sender's).
 */

const ETH = ETHERNET_HEADER_SIZE;

/**
 * Anti-spoofing for ARP (no cache poisoning, no claiming a free address of
 * the pod CIDR): the sender must be a pod the agent made, its sender and
 * Ethernet source MACs both that pod's, or one of the node's own addresses
 * from its host port. Probes (sender 0.0.0.0) claim nothing and pass.
 */
function ownArpSender(ctx: PipelineContext, buf: Buffer, f: number, shaOff: number, sender: number): boolean {
  const pod = ctx.neighbors.registeredMac(sender);
  const mac = pod ?? (ctx.id.localAddresses.has(sender) ? ctx.id.hostMac : undefined);
  if (mac === undefined) return false;
  const port = pod ? ctx.neighbors.registeredPort(sender) : (ctx.id.hostPortIndex ?? 0);
  return mac.compare(buf, f + 6, f + 12) === 0 && mac.compare(buf, shaOff, shaOff + 6) === 0 && ctx.cameFromPort(port);
}

/** An ARP packet from a pod (Ethernet at f): learn the sender, answer for pods we know. */
export function podArp(ctx: PipelineContext, buf: Buffer, f: number, flen: number): void {
  const c = ctx.counters;
  const arp = ctx.arp.wrap(buf, f + ETH, flen - ETH);
  if (!arp.isValid()) {
    ctx.drop(DROP['malformed-arp']);
    return;
  }
  const sender = arp.senderIp;
  if (ctx.antiSpoofing && sender !== 0 && !ownArpSender(ctx, buf, f, arp.off + 8, sender)) {
    ctx.drop(DROP['spoofed-source'], `ARP: ${ipv4ToString(sender)} claimed by ${macToString(buf, f + 6)}`);
    return;
  }
  if (sender !== 0 && cidrContains(ctx.id.podCidr, sender) && !ctx.id.localAddresses.has(sender)) {
    ctx.neighbors.learn(sender, buf, arp.off + 8);
  }
  // An RFC 5227 probe (sender 0.0.0.0) asks "is my address taken?": a
  // proxy must not answer it, as Linux's proxy ARP does not.
  if (arp.op !== ARP_REQUEST || sender === 0) return;
  const target = arp.targetIp;
  // The node's kernel answers for its own addresses (the gateway); we
  // answer for pods we know, so same-node pod traffic comes to us too.
  if (ctx.id.localAddresses.has(target) || target === sender) return;
  if (!cidrContains(ctx.id.podCidr, target)) return;
  if (!ctx.neighbors.get(target) && (ctx.lb === null || target !== ctx.lb.snatIp)) {
    askPods(ctx, target);
    ctx.drop(DROP['arp-unresolved']);
    return;
  }
  if (!ctx.room(ctx.podTx, ctx.ports.pods, 80)) return;
  const off = ctx.podTx.alloc(VNET_HDR_SIZE + 64);
  ctx.podTx.scratch.fill(0, off, off + VNET_HDR_SIZE);
  const n = writeArpReply(ctx.podTx.scratch, off + VNET_HDR_SIZE, arp, ctx.id.gatewayMac);
  ctx.podTx.pushScratch(off, VNET_HDR_SIZE + n);
  c.arpReplies++;
}

/** ARP over VXLAN (a kernel VTEP without static neighbours asks this way): answer for our pods. */
export function overlayArp(ctx: PipelineContext, buf: Buffer, inner: number, innerLen: number, peer: Peer): void {
  const arp = ctx.arp.wrap(buf, inner + ETH, innerLen - ETH);
  if (!arp.isValid()) {
    ctx.drop(DROP['malformed-arp']);
    return;
  }
  if (arp.op !== ARP_REQUEST || !cidrContains(ctx.id.podCidr, arp.targetIp)) return;
  const tpl = templateFor(ctx, peer);
  if (!tpl || !ctx.room(ctx.underlayTx, ctx.ports.underlay, 160)) return;
  const tx = ctx.underlayTx;
  const off = tx.alloc(VNET_HDR_SIZE + OUTER_HEADERS_SIZE + 64);
  tx.scratch.fill(0, off, off + VNET_HDR_SIZE);
  const n = writeArpReply(tx.scratch, off + VNET_HDR_SIZE + OUTER_HEADERS_SIZE, arp, ctx.id.vtepMac);
  tpl.write(tx.scratch, off + VNET_HDR_SIZE, n, ctx.nextIpId(), vxlanSourcePort(arp.targetIp));
  tx.pushScratch(off, VNET_HDR_SIZE + OUTER_HEADERS_SIZE + n);
  ctx.counters.arpReplies++;
}

/** ARP for a pod IP on cbr0 (at most once a second per address). */
export function askPods(ctx: PipelineContext, ip: number): void {
  const now = ctx.clock();
  const last = ctx.arpAsked.get(ip);
  if (last !== undefined && now - last < 1000) return;
  if (ctx.arpAsked.size > 4096) ctx.arpAsked.clear();
  ctx.arpAsked.set(ip, now);
  if (!ctx.room(ctx.podTx, ctx.ports.pods, 80)) return;
  const off = ctx.podTx.alloc(VNET_HDR_SIZE + 64);
  ctx.podTx.scratch.fill(0, off, off + VNET_HDR_SIZE);
  const n = writeArpRequest(ctx.podTx.scratch, off + VNET_HDR_SIZE, ctx.id.gatewayMac, ctx.id.gatewayIp, ip);
  ctx.podTx.pushScratch(off, VNET_HDR_SIZE + n);
}

/** Build an ARP request for a peer node on the underlay into the underlay batch (caller flushes). */
export function queueUnderlayArp(ctx: PipelineContext, targetIp: number): void {
  if (!ctx.room(ctx.underlayTx, ctx.ports.underlay, 80)) return;
  const off = ctx.underlayTx.alloc(VNET_HDR_SIZE + 64);
  ctx.underlayTx.scratch.fill(0, off, off + VNET_HDR_SIZE);
  const n = writeArpRequest(ctx.underlayTx.scratch, off + VNET_HDR_SIZE, ctx.id.nodeMac, ctx.id.nodeIp, targetIp);
  ctx.underlayTx.pushScratch(off, VNET_HDR_SIZE + n);
}
