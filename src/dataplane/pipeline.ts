import type { RxBatch, TxBatch } from '../native/batch.js';
import { queueUnderlayArp, overlayArp } from './arp.js';
import { PipelineContext, type NodeIdentity, type PipelineEvents, type PipelineOptions, type TxPort, PORT_UNDERLAY } from './context.js';
import type { Counters } from './counters.js';
import { processFromPods } from './from-pods.js';
import type { Gro } from './gro.js';
import { sendHealthProbes, healthReplied, isHealthReply } from './health.js';
import { PeerTraffic, PeerHealth, type NeighborTable, type PeerTable, type Peer, type UnderlayNeighbors, cidrContains } from './tables.js';
import type { PipelineTracer } from './trace.js';
import { learnUnderlay } from './tunnel.js';
import { ETHERNET_HEADER_SIZE, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_ICMP, IPPROTO_UDP, VNET_HDR_SIZE, VNET_HDR_F_NEEDS_CSUM, VXLAN_HEADER_SIZE, UDP_HEADER_SIZE, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, ipv4ToString } from '../packet/index.js';
import { DROP } from './drop-reasons.js';
import { echoReplyOverlay, icmpErrorOverlay } from './icmp-replies.js';
import { deliverLocal } from './to-pods.js';

const ETH = ETHERNET_HEADER_SIZE;

/**
 * The per-node userspace dataplane: every frame a pod sends, and every VXLAN
 * frame from a peer node, passes through here.
 *
 *   pods (cbr0)     from-pods: checks, TTL -> route: to-pods (L2 rewrite)
 *                     | encap to a peer (VXLAN; tso: TCP super-frames split) | drop(no-route)
 *                   ARP -> arp (proxy answers for our pods)
 *   underlay (eth0) from-underlay: ARP learning | VXLAN checks -> decap -> inner ARP (arp)
 *                     | ping of our gateway (icmp-replies, health) | IPv4 -> to-pods (GRO)
 *
 * Each stage is a module of plain functions over one PipelineContext (the
 * tables, header views, tx batches and the frame at hand); icmp-replies
 * builds the gateway's errors and echo replies, tunnel holds the outer
 * headers per peer. Stages read tables; only the agent writes them, through
 * this class. Nothing here throws on a packet: every way a frame can end is
 * a counted drop reason or a send. Payload bytes are not copied: forwarded
 * frames are sent straight out of the receive buffer, and
 * encapsulation/segmentation only writes headers.
 */
export class Pipeline {
  readonly counters: Counters;
  readonly neighbors: NeighborTable;
  readonly peers: PeerTable;
  readonly underlayNeighbors: UnderlayNeighbors;
  readonly podTx: TxBatch;
  readonly underlayTx: TxBatch;
  readonly gro: Gro | null;
  /** VXLAN counters per peer node IP, for metrics. */
  readonly peerTraffic = new Map<number, PeerTraffic>();
  /** health per peer node IP (see PeerHealth) */
  readonly peerHealth = new Map<number, PeerHealth>();
  private readonly ctx: PipelineContext;
  private healthSeq = 0;

  constructor(readonly id: NodeIdentity, ports: { pods: TxPort; underlay: TxPort }, options: PipelineOptions = {}, events: PipelineEvents = {}) {
    const ctx = new PipelineContext(id, ports, options, events);
    this.ctx = ctx;
    this.counters = ctx.counters;
    this.neighbors = ctx.neighbors;
    this.peers = ctx.peers;
    this.underlayNeighbors = ctx.underlayNeighbors;
    this.podTx = ctx.podTx;
    this.underlayTx = ctx.underlayTx;
    this.gro = ctx.gro;
  }

  /** Attach (or detach with null) the drop trace point. */
  setTracer(tracer: PipelineTracer | null): void {
    this.ctx.tracer = tracer;
  }

  /**
   * Follow one probe packet (IPv4 source and identification) through the
   * stages: each reports what it decided to the tracer's stage(). Costs one
   * comparison per frame while set.
   */
  setProbe(probe: { src: number; id: number } | null): void {
    this.ctx.probe = probe;
  }

  /** Replace the peer set (from a PeerSource snapshot). */
  setPeers(peers: Peer[]): void {
    const mine = peers.filter((p) => p.nodeIp !== this.id.nodeIp);
    for (const p of mine) {
      let t = this.peerTraffic.get(p.nodeIp);
      if (!t) this.peerTraffic.set(p.nodeIp, (t = new PeerTraffic()));
      p.traffic = t;
      let h = this.peerHealth.get(p.nodeIp);
      if (!h) this.peerHealth.set(p.nodeIp, (h = new PeerHealth()));
      p.health = h;
    }
    this.peers.replace(mine);
    this.ctx.templates.clear();
  }

  /**
   * Once a second (the agent's timer): ping every peer's gateway over VXLAN
   * and re-judge who is down. The peer's agent answers echo requests to its
   * gateway (echoReplyOverlay); the reply comes back through fromUnderlay.
   */
  healthTick(downAfterMs = 3500): void {
    this.healthSeq = (this.healthSeq + 1) & 0xffff;
    sendHealthProbes(this.ctx, this.healthSeq, downAfterMs);
    this.ctx.flush();
  }

  /** A peer's underlay MAC was learned (at mac[macOff]) or changed: its outer headers follow. */
  learnUnderlay(ip: number, mac: Buffer, macOff: number): void {
    learnUnderlay(this.ctx, ip, mac, macOff);
  }

  /** One batch from the pods' port (cbr0). */
  processFromPods(rx: RxBatch): void {
    processFromPods(this.ctx, rx);
  }

  /** One batch from the underlay port (eth0). */
  processFromUnderlay(rx: RxBatch): void {
    processFromUnderlay(this.ctx, rx);
  }

  /** Build an ARP request for a peer node on the underlay into the underlay batch (caller flushes). */
  queueUnderlayArp(targetIp: number): void {
    queueUnderlayArp(this.ctx, targetIp);
  }

  flush(): void {
    this.ctx.flush();
  }
}

/**
 * Frames from the underlay (eth0 side): peers' ARP teaches us their MACs;
 * VXLAN from a known peer is checked (outer IPv4, UDP, VXLAN header, VNI),
 * then its inner frame: ARP to the responder (arp.ts), pings of our gateway
 * answered (icmp-replies.ts, health.ts), IPv4 for a pod here decapsulated
 * in place and delivered (to-pods.ts).
 *
 * Drops: truncated, malformed-ethernet, malformed-arp, unsupported-ethertype,
 * malformed-ipv4, bad-ipv4-checksum, not-for-node, malformed-vxlan,
 * vxlan-bad-flags, vxlan-unknown-vni, vxlan-unknown-peer, no-route,
 * ttl-expired, mtu-exceeded. Trace stage: decap.
 */


/** One batch from eth0's packet socket; sends what it produced (GRO'd frames included). */
function processFromUnderlay(ctx: PipelineContext, rx: RxBatch): void {
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
  const dst = iip.dst;
  if (ctx.probe !== null && ctx.isProbe(iip.src, iip.id)) {
    ctx.curProbe = true;
    ctx.stage('decap', `VXLAN from peer node ${peer.name} (${ipv4ToString(outerSrc)}), VNI ${vx.vni}, UDP source port ${udp.srcPort}`, { peer: peer.name, vni: vx.vni });
  }
  if (!cidrContains(ctx.id.podCidr, dst)) {
    ctx.drop(DROP['no-route']);
    return;
  }
  if (dst === ctx.id.gatewayIp) {
    // A remote pod (or peer agent's health probe) pinging this node's
    // gateway: the agent answers as a router would. A reply to our own
    // health probe marks the peer alive.
    if (iip.protocol === IPPROTO_ICMP) {
      const icmp = inner + ETH + iip.headerLength;
      if (isHealthReply(buf, icmp, inner + innerLen)) return healthReplied(ctx, peer);
      echoReplyOverlay(ctx, buf, inner, innerLen, peer);
    } else ctx.drop(DROP['no-route']);
    return;
  }
  if (iip.ttl <= 1) {
    icmpErrorOverlay(ctx, buf, inner, innerLen, peer, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, 0);
    ctx.drop(DROP['ttl-expired']);
    return;
  }
  if (iip.totalLength > ctx.id.podMtu) {
    if (iip.dontFragment) icmpErrorOverlay(ctx, buf, inner, innerLen, peer, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, ctx.id.podMtu);
    ctx.drop(DROP['mtu-exceeded']);
    return;
  }
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
  deliverLocal(ctx, buf, newSlot, innerLen + VNET_HDR_SIZE, true);
}
