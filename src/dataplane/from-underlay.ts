import {
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  IPPROTO_ICMP,
  ICMP_ECHO_REQUEST,
  IPPROTO_UDP,
  VNET_HDR_SIZE,
  VNET_HDR_F_NEEDS_CSUM,
  VXLAN_HEADER_SIZE,
  UDP_HEADER_SIZE,
  ICMP_DEST_UNREACHABLE,
  ICMP_CODE_FRAG_NEEDED,
  ICMP_TIME_EXCEEDED,
  ICMP_CODE_TTL_EXCEEDED,
  ipv4ToString,
  formatCidr,
  cidrContains,
} from '../packet/index.js';
import type { RxBatch } from '../native/index.js';
import { overlayArp } from './arp.js';
import { PORT_UNDERLAY, type PipelineContext } from './context.js';
import { DROP } from './drop-reasons.js';
import { healthReplied, isHealthReply } from './health.js';
import { echoReplyOverlay, icmpErrorOverlay } from './icmp-replies.js';
import { deliverLocal, deliverToHost } from './to-pods.js';
import { encapToPeer } from './encap.js';
import { NAT_CONSUMED, NAT_DONE, NAT_PASS, isOutside, natFromOverlay, natFromUnderlay } from './service-stage.js';
import { policyToLocalPod } from './policy-stage.js';
import { releaseHeld, sendToUnderlay } from './to-underlay.js';
import { learnUnderlay } from './tunnel.js';

/**
 * Frames from the underlay (eth0 side): peers' ARP teaches us their MACs;
 * VXLAN from a known peer is checked (outer IPv4, UDP, VXLAN header, VNI),
 * then its inner frame: ARP to the responder (arp.ts), pings of our gateway
 * answered (icmp-replies.ts, health.ts), IPv4 for a pod here decapsulated
 * in place and delivered (to-pods.ts).
 *
 * Drops: truncated, malformed-ethernet, malformed-arp, unsupported-ethertype,
 * malformed-ipv4, bad-ipv4-checksum, not-for-node, malformed-vxlan,
 * vxlan-bad-flags, vxlan-unknown-vni, vxlan-unknown-peer,
 * vxlan-spoofed-inner-source, no-route,
 * ttl-expired, mtu-exceeded. Trace stage: decap.
 */

const ETH = ETHERNET_HEADER_SIZE;
const ICMP_PARAMETER_PROBLEM = 12;

/** One batch from eth0's packet socket; sends what it produced (GRO'd frames included). */
export function processFromUnderlay(ctx: PipelineContext, rx: RxBatch): void {
  ctx.podTx.payload = rx.buf;
  ctx.underlayTx.payload = rx.buf;
  const c = ctx.counters;
  for (let i = 0; i < rx.count; i++) {
    const slot = rx.slotOffset(i);
    const len = rx.lengths[i];
    c.underlayRx++;
    c.underlayRxBytes += len;
    ctx.curBuf = rx.buf;
    ctx.curOff = slot + VNET_HDR_SIZE;
    ctx.curLen = Math.min(len, rx.slotSize) - VNET_HDR_SIZE;
    ctx.curPort = PORT_UNDERLAY;
    ctx.curProbe = false;
    if (len > rx.slotSize) {
      ctx.drop(DROP.truncated);
      continue;
    }
    fromUnderlay(ctx, rx.buf, slot, len);
  }
  ctx.gro?.flushAll();
  ctx.flush();
}

function fromUnderlay(ctx: PipelineContext, buf: Buffer, slot: number, len: number): void {
  const c = ctx.counters;
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const eth = ctx.eth.wrap(buf, f, flen);
  if (flen < ETH || !eth.isValid()) {
    ctx.drop(DROP['malformed-ethernet']);
    return;
  }
  const type = eth.etherType;
  if (type === ETHERTYPE_ARP) {
    const arp = ctx.arp.wrap(buf, f + ETH, flen - ETH);
    if (!arp.isValid()) {
      ctx.drop(DROP['malformed-arp']);
      return;
    }
    // Learn peers' underlay MACs from any ARP they send (the kernel answers for us).
    if (ctx.peers.byNodeIp(arp.senderIp)) learnUnderlay(ctx, arp.senderIp, buf, arp.off + 8);
    else if (
      ctx.lb !== null &&
      ctx.id.underlayCidr !== undefined &&
      cidrContains(ctx.id.underlayCidr, arp.senderIp) &&
      arp.senderIp !== ctx.id.nodeIp
    ) {
      // Other hosts on the underlay (the outside, a cloud LB): masqueraded
      // flows and external clients' replies go to them directly.
      ctx.underlayNeighbors.learn(arp.senderIp, buf, arp.off + 8, ctx.clock());
      if (ctx.underlayHeld.size > 0) releaseHeld(ctx, arp.senderIp);
    }
    return;
  }
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
  if (ctx.lb !== null) {
    // NodePort, LoadBalancer and external IPs, replies to masqueraded flows (service-stage.ts)
    const nat = natFromUnderlay(ctx, buf, slot);
    if (nat === NAT_CONSUMED) return;
    if (nat === NAT_DONE) return routeNative(ctx, buf, slot, len);
  }
  if (ip.dst !== ctx.id.nodeIp) {
    ctx.drop(DROP['not-for-node']);
    return;
  }
  if (ip.protocol !== IPPROTO_UDP || ip.isFragment()) {
    ctx.drop(DROP['malformed-vxlan']);
    return;
  }
  const udpOff = ip.payloadOffset;
  const udp = ctx.udp.wrap(buf, udpOff, ip.payloadLength);
  if (!udp.isValid() || udp.dstPort !== ctx.id.vxlanPort || udp.length < UDP_HEADER_SIZE + VXLAN_HEADER_SIZE + ETH) {
    ctx.drop(DROP['malformed-vxlan']);
    return;
  }
  const vx = ctx.vx.wrap(buf, udpOff + UDP_HEADER_SIZE, udp.length - UDP_HEADER_SIZE);
  if (!vx.isValid()) {
    ctx.drop(DROP['malformed-vxlan']);
    return;
  }
  // RFC 7348 §5: I must be 1; reserved bits are ignored on receipt.
  if (!vx.flagI) {
    ctx.drop(DROP['vxlan-bad-flags']);
    return;
  }
  if (vx.vni !== ctx.id.vni) {
    ctx.drop(DROP['vxlan-unknown-vni']);
    return;
  }
  const outerSrc = ip.src;
  const peer = ctx.peers.byNodeIp(outerSrc);
  if (!peer) {
    ctx.drop(DROP['vxlan-unknown-peer']);
    return;
  }
  learnUnderlay(ctx, outerSrc, buf, f + 6);
  c.vxlanRx++;
  if (peer.traffic) {
    peer.traffic.rxPackets++;
    peer.traffic.rxBytes += flen;
  }
  const inner = udpOff + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE;
  const innerLen = udp.length - UDP_HEADER_SIZE - VXLAN_HEADER_SIZE;
  const ieth = ctx.innerEth.wrap(buf, inner, innerLen);
  if (!ieth.isValid()) {
    ctx.drop(DROP['malformed-vxlan']);
    return;
  }
  const itype = ieth.etherType;
  if (itype === ETHERTYPE_ARP) return overlayArp(ctx, buf, inner, innerLen, peer);
  if (itype !== ETHERTYPE_IPV4) {
    ctx.drop(DROP['unsupported-ethertype']);
    return;
  }
  const iip = ctx.ip.wrap(buf, inner + ETH, innerLen - ETH);
  if (!iip.isValid()) {
    ctx.drop(DROP['malformed-ipv4']);
    return;
  }
  if (!iip.isHeaderChecksumValid()) {
    ctx.drop(DROP['bad-ipv4-checksum']);
    return;
  }
  // Anti-spoofing: a peer sends only its own pods' traffic (its Service
  // SNAT address and gateway are in its pod CIDR too) and its node's own.
  // External clients never arrive here with their address: ETP Cluster is
  // SNATed by the entry node, ETP Local goes only to that node's pods. The
  // one exception is an ICMP error a router sent about a flow the peer
  // translated (a frag-needed for a NodePort reply): conntrack keeps the
  // router's address, as Linux's does, so ICMP errors pass.
  const isrc = iip.src;
  if (
    ctx.antiSpoofing &&
    !cidrContains(peer.podCidr, isrc) &&
    isrc !== peer.nodeIp &&
    !isIcmpError(buf, iip.protocol, inner + ETH + iip.headerLength, inner + innerLen)
  ) {
    ctx.drop(
      DROP['vxlan-spoofed-inner-source'],
      `${ipv4ToString(isrc)} from node ${peer.name} (${formatCidr(peer.podCidr)})`,
    );
    return;
  }
  if (ctx.probe !== null && ctx.isProbe(iip.src, iip.id)) {
    ctx.curProbe = true;
    ctx.stage(
      'decap',
      `VXLAN from peer node ${peer.name} (${ipv4ToString(outerSrc)}), VNI ${vx.vni}, UDP source port ${udp.srcPort}`,
      { peer: peer.name, vni: vx.vni },
    );
  }
  // Replies of flows this node translated (a Service client here, a NodePort's SNAT)
  const nat = ctx.lb !== null ? natFromOverlay(ctx, buf, slot) : NAT_PASS;
  const dst = iip.dst;
  const outside = nat === NAT_DONE && !cidrContains(ctx.id.podCidr, dst) && isOutside(ctx, dst);
  if (!outside && !cidrContains(ctx.id.podCidr, dst)) {
    ctx.drop(DROP['no-route']);
    return;
  }
  const toNode = dst === ctx.id.gatewayIp;
  if (toNode && nat === NAT_PASS && iip.protocol === IPPROTO_ICMP) {
    // A remote pod (or peer agent's health probe) pinging this node's
    // gateway: the agent answers as a router would. A reply to our own
    // health probe marks the peer alive.
    const icmp = inner + ETH + iip.headerLength;
    if (isHealthReply(buf, icmp, inner + innerLen)) return healthReplied(ctx, peer);
    if (buf[icmp] === ICMP_ECHO_REQUEST || ctx.id.hostMac === undefined) {
      echoReplyOverlay(ctx, buf, inner, innerLen, peer);
      return;
    }
  }
  if (toNode && ctx.id.hostMac === undefined) {
    ctx.drop(DROP['no-route']);
    return;
  }
  if (iip.ttl <= 1) {
    icmpErrorOverlay(ctx, buf, inner, innerLen, peer, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, 0);
    ctx.drop(DROP['ttl-expired']);
    return;
  }
  if (iip.totalLength > ctx.id.podMtu && !outside) {
    if (iip.dontFragment)
      icmpErrorOverlay(ctx, buf, inner, innerLen, peer, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, ctx.id.podMtu);
    ctx.drop(DROP['mtu-exceeded']);
    return;
  }
  // NetworkPolicy: ingress of the pod here (the sender's node judged its egress)
  if (!outside && !toNode && ctx.policy !== null && !policyToLocalPod(ctx, buf)) return;
  // Decapsulate in place: a fresh virtio_net_hdr goes just before the inner
  // frame (over the outer UDP/VXLAN bytes we no longer need); a partial
  // inner checksum stays partial, its start moved back by the outer headers.
  const rxVnet = ctx.vnet.wrap(buf, slot);
  const flags = rxVnet.flags;
  const csumStart = rxVnet.csumStart;
  const csumOffset = rxVnet.csumOffset;
  const newSlot = inner - VNET_HDR_SIZE;
  buf.fill(0, newSlot, inner);
  if (flags & VNET_HDR_F_NEEDS_CSUM && csumStart >= inner - f) {
    buf[newSlot] = VNET_HDR_F_NEEDS_CSUM;
    buf.writeUInt16LE(csumStart - (inner - f), newSlot + 6);
    buf.writeUInt16LE(csumOffset, newSlot + 8);
  }
  if (outside) return sendToUnderlay(ctx, buf, newSlot, innerLen + VNET_HDR_SIZE);
  // the node's own traffic coming back (a pod answering it, or its errors about it)
  if (toNode) {
    deliverToHost(ctx, buf, newSlot, innerLen + VNET_HDR_SIZE);
    return;
  }
  deliverLocal(ctx, buf, newSlot, innerLen + VNET_HDR_SIZE, true);
}

/**
 * A native frame from eth0 that the Service stage translated: to a pod
 * here, to the node itself (the reply to its own call of a Service whose
 * backend is outside, e.g. the kubernetes Service), to a peer's pod over
 * VXLAN (NodePort with the backend elsewhere), or back out of eth0 (a reply
 * towards an external client).
 */
function routeNative(ctx: PipelineContext, buf: Buffer, slot: number, len: number): void {
  const ip = ctx.ip;
  const dst = ip.dst;
  if (ip.ttl <= 1) {
    ctx.drop(DROP['ttl-expired']);
    return;
  }
  if (cidrContains(ctx.id.podCidr, dst)) {
    if (dst === ctx.id.gatewayIp && deliverToHost(ctx, buf, slot, len)) return;
    if (ctx.curProbe) ctx.stage('route', `${ipv4ToString(dst)} is in this node's pod CIDR: deliver locally`);
    if (ctx.policy !== null && !policyToLocalPod(ctx, buf)) return;
    return deliverLocal(ctx, buf, slot, len, false);
  }
  const peer = ctx.peers.lookup(dst);
  if (peer) {
    if (ctx.curProbe)
      ctx.stage('route', `${ipv4ToString(dst)} is in ${formatCidr(peer.podCidr)} of peer node ${peer.name}: VXLAN`, {
        peer: peer.name,
      });
    return encapToPeer(ctx, buf, slot, len, peer);
  }
  sendToUnderlay(ctx, buf, slot, len);
}

/** An ICMP destination-unreachable, time-exceeded or parameter-problem message (at `l4`). */
function isIcmpError(buf: Buffer, protocol: number, l4: number, end: number): boolean {
  if (protocol !== IPPROTO_ICMP || l4 >= end) return false;
  const type = buf[l4];
  return type === ICMP_DEST_UNREACHABLE || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETER_PROBLEM;
}
