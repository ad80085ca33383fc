import {
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  VNET_HDR_SIZE,
  ICMP_DEST_UNREACHABLE,
  ICMP_CODE_NET_UNREACHABLE,
  ICMP_TIME_EXCEEDED,
  ICMP_CODE_TTL_EXCEEDED,
  ipv4ToString,
  macToString,
  type EthernetView,
  formatCidr,
  cidrContains,
} from '../packet/index.js';
import type { RxBatch } from '../native/index.js';
import { podArp } from './arp.js';
import { PORT_PODS, type PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { encapToPeer } from './encap.js';
import { icmpErrorToPod } from './icmp-replies.js';
import { deliverLocal, deliverToHost } from './to-pods.js';
import { NAT_CONSUMED, NAT_DONE, NAT_PASS, isOutside, masquerade, natFromPod } from './service-stage.js';
import { sendToUnderlay } from './to-underlay.js';
import { policyFromPod } from './policy-stage.js';
import { HOLD_POD_RX } from './trace-hold.js';

/**
 * Frames the pods send (cbr0 side): only those for the gateway's MAC (or
 * broadcast) are ours; ARP goes to the responder (arp.ts), IPv4 is checked,
 * counted for its pod, left to the kernel if it is for the node itself,
 * and, with TTL to spare, routed: to a pod here (to-pods.ts), to a peer
 * node (encap.ts), or nowhere (net unreachable).
 *
 * Drops: truncated, malformed-ethernet, not-for-gateway,
 * unsupported-ethertype, malformed-ipv4, bad-ipv4-checksum, spoofed-source, ttl-expired,
 * no-route (and the Service and policy stages'). Trace stages: received,
 * to-host, route (and the Service stage's: conntrack, service, nat,
 * masquerade; policy; egress).
 */

const ETH = ETHERNET_HEADER_SIZE;

/** One batch from cbr0's packet socket; sends what it produced. */
export function processFromPods(ctx: PipelineContext, rx: RxBatch): void {
  ctx.podTx.payload = rx.buf;
  ctx.underlayTx.payload = rx.buf;
  const c = ctx.counters;
  for (let i = 0; i < rx.count; i++) {
    const slot = rx.slotOffset(i);
    const len = rx.lengths[i];
    c.podRx++;
    c.podRxBytes += len;
    ctx.curBuf = rx.buf;
    ctx.curOff = slot + VNET_HDR_SIZE;
    ctx.curLen = Math.min(len, rx.slotSize) - VNET_HDR_SIZE;
    ctx.curPort = PORT_PODS;
    ctx.curIfindex = rx.ifindexes ? rx.ifindexes[i] : 0;
    ctx.curProbe = false;
    if (len > rx.slotSize) {
      ctx.drop(DROP.truncated);
      continue;
    }
    fromPod(ctx, rx.buf, slot, len);
  }
  ctx.flush();
}

/**
 * Anti-spoofing: a frame from cbr0 must come from a pod the agent made,
 * with its own IP and MAC, or from the node itself (its addresses, through
 * its host port). A policy that trusts a forged source protects nothing.
 */
function ownSource(ctx: PipelineContext, eth: EthernetView): boolean {
  const src = ctx.ip.src;
  const mac = ctx.neighbors.registeredMac(src);
  if (mac !== undefined) return eth.srcEquals(mac) && ctx.cameFromPort(ctx.neighbors.registeredPort(src));
  if (!ctx.id.localAddresses.has(src)) return false;
  const host = ctx.id.hostMac;
  return (host === undefined || eth.srcEquals(host)) && ctx.cameFromPort(ctx.id.hostPortIndex ?? 0);
}

/** Step mode: a probe released from its hold on cbr0 receive goes through the stages as it would have. */
export function resumeFromPods(ctx: PipelineContext, frame: Buffer): void {
  ctx.podTx.payload = frame;
  ctx.underlayTx.payload = frame;
  ctx.curBuf = frame;
  ctx.curOff = VNET_HDR_SIZE;
  ctx.curLen = frame.length - VNET_HDR_SIZE;
  ctx.curPort = PORT_PODS;
  ctx.curIfindex = 0; // judged when it first came in
  ctx.curProbe = false;
  fromPod(ctx, frame, 0, frame.length);
  ctx.flush();
}

function fromPod(ctx: PipelineContext, buf: Buffer, slot: number, len: number): void {
  const c = ctx.counters;
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const eth = ctx.eth.wrap(buf, f, flen);
  if (flen < ETH || !eth.isValid()) {
    ctx.drop(DROP['malformed-ethernet']);
    return;
  }
  if (!eth.dstEquals(ctx.id.gatewayMac) && !eth.dstIsBroadcast()) {
    if (eth.dstIsMulticast()) return; // IPv6/IGMP chatter to multicast: not ours, not a drop
    ctx.drop(DROP['not-for-gateway']);
    return;
  }
  const type = eth.etherType;
  if (type === ETHERTYPE_ARP) return podArp(ctx, buf, f, flen);
  if (type !== ETHERTYPE_IPV4) {
    ctx.drop(DROP['unsupported-ethertype']);
    return;
  }
  const ip = ctx.ip.wrap(buf, f + ETH, flen - ETH);
  if (!ip.isValid()) {
    ctx.drop(DROP['malformed-ipv4']);
    return;
  }
  if (!ip.isHeaderChecksumValid()) {
    ctx.drop(DROP['bad-ipv4-checksum']);
    return;
  }
  if (ctx.antiSpoofing && !ownSource(ctx, eth)) {
    ctx.drop(DROP['spoofed-source'], `${ipv4ToString(ip.src)} from ${macToString(buf, f + 6)}`);
    return;
  }
  if (ctx.probe !== null && ctx.isProbe(ip.src, ip.id)) {
    ctx.curProbe = true;
    if (ctx.holds !== null && ctx.parkProbe(HOLD_POD_RX, buf, slot, len)) return;
    ctx.stage('received', `from pod ${ipv4ToString(ip.src)} on cbr0 (TTL ${ip.ttl}, ${ip.totalLength} bytes)`, {
      ttl: ip.ttl,
      length: ip.totalLength,
    });
  }
  const sent = ctx.neighbors.trafficOf(ip.src);
  if (sent !== undefined) {
    sent.fromPodFrames++;
    sent.fromPodBytes += flen - ETH;
  }
  // Services and conntrack (service-stage.ts): may rewrite the addresses.
  const nat = ctx.lb !== null ? natFromPod(ctx, buf, slot) : NAT_PASS;
  if (nat === NAT_CONSUMED) return;
  const dst = ip.dst;
  if (ctx.id.localAddresses.has(dst)) {
    // a reply the Service stage un-NATed for the node: the kernel's own copy has the wrong addresses
    if (nat === NAT_DONE && deliverToHost(ctx, buf, slot, len)) return;
    c.toHost++; // the node's kernel got its own copy via cbr0
    if (ctx.curProbe) ctx.stage('to-host', `${ipv4ToString(dst)} is this node's own address: its kernel answers`);
    return;
  }
  // NetworkPolicy (policy-stage.ts): egress of this pod, ingress of a pod here; judged on the backend after DNAT.
  if (ctx.policy !== null && !policyFromPod(ctx, buf)) return;
  if (ip.ttl <= 1) {
    icmpErrorToPod(ctx, buf, f, flen, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, 0);
    ctx.drop(DROP['ttl-expired']);
    return;
  }
  // Route: this node's pod CIDR, a peer node's, the outside (masqueraded),
  // or nowhere. (Kept inline rather than a function of its own, as V8
  // would spend fromPod's inlining budget on it and slow the checks above.)
  if (cidrContains(ctx.id.podCidr, dst)) {
    if (ctx.curProbe)
      ctx.stage(
        'route',
        `${ipv4ToString(dst)} is in this node's pod CIDR ${formatCidr(ctx.id.podCidr)}: deliver locally`,
      );
    return deliverLocal(ctx, buf, slot, len, false);
  }
  const peer = ctx.peers.lookup(dst);
  if (ctx.curProbe) {
    ctx.stage(
      'route',
      peer
        ? `${ipv4ToString(dst)} is in ${formatCidr(peer.podCidr)} of peer node ${peer.name} (${ipv4ToString(peer.nodeIp)}): VXLAN`
        : `no pod CIDR of any node covers ${ipv4ToString(dst)}`,
      peer ? { peer: peer.name, peerIp: ipv4ToString(peer.nodeIp) } : {},
    );
  }
  if (!peer && ctx.lb !== null && isOutside(ctx, dst)) {
    // Leaving the cluster: already translated (a masqueraded flow, or a
    // reply to an external client), or masqueraded now.
    const out = nat === NAT_DONE ? NAT_DONE : masquerade(ctx, buf, slot);
    if (out === NAT_DONE) return sendToUnderlay(ctx, buf, slot, len);
    if (out === NAT_CONSUMED) return;
  }
  if (!peer) {
    icmpErrorToPod(ctx, buf, f, flen, ICMP_DEST_UNREACHABLE, ICMP_CODE_NET_UNREACHABLE, 0);
    ctx.drop(DROP['no-route']);
    return;
  }
  encapToPeer(ctx, buf, slot, len, peer);
}
