import type { RxBatch, TxBatch } from '../native/batch.js';
import { queueUnderlayArp, podArp, askPods, overlayArp } from './arp.js';
import { PipelineContext, type NodeIdentity, type PipelineEvents, type PipelineOptions, type TxPort, PORT_PODS, PORT_UNDERLAY } from './context.js';
import type { Counters } from './counters.js';
import type { Gro } from './gro.js';
import { sendHealthProbes, healthReplied, isHealthReply } from './health.js';
import { PeerTraffic, PeerHealth, type NeighborTable, type PeerTable, type Peer, type UnderlayNeighbors, cidrContains } from './tables.js';
import { type PipelineTracer, FWD_LOCAL_POD, FWD_VXLAN } from './trace.js';
import { learnUnderlay, templateFor } from './tunnel.js';
import { ETHERNET_HEADER_SIZE, ETHERTYPE_ARP, ETHERTYPE_IPV4, VNET_HDR_SIZE, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, ipv4ToString, ICMP_DEST_UNREACHABLE, ICMP_CODE_NET_UNREACHABLE, VNET_HDR_GSO_NONE, macToString, VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4, ICMP_CODE_HOST_UNREACHABLE, flowHash, vxlanSourcePort, IPPROTO_ICMP, IPPROTO_UDP, VXLAN_HEADER_SIZE, UDP_HEADER_SIZE, ICMP_CODE_FRAG_NEEDED } from '../packet/index.js';
import { DROP } from './drop-reasons.js';
import { icmpErrorToPod, mtuExceeded, echoReplyOverlay, icmpErrorOverlay } from './icmp-replies.js';
import { formatCidr } from './cidr.js';
import { OUTER_HEADERS_SIZE, writeEncapVnetHdr, type OuterTemplate, planTcpSegments, patchTcpSegment } from '../overlay/vxlan-encap.js';

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
 * Frames the pods send (cbr0 side): only those for the gateway's MAC (or
 * broadcast) are ours; ARP goes to the responder (arp.ts), IPv4 is checked,
 * counted for its pod, left to the kernel if it is for the node itself,
 * and, with TTL to spare, routed (route.ts).
 *
 * Drops: truncated, malformed-ethernet, not-for-gateway,
 * unsupported-ethertype, malformed-ipv4, bad-ipv4-checksum, ttl-expired.
 * Trace stages: received, to-host.
 */


/** One batch from cbr0's packet socket; sends what it produced. */
function processFromPods(ctx: PipelineContext, rx: RxBatch): void {
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
    ctx.curProbe = false;
    if (len > rx.slotSize) {
      ctx.drop(DROP.truncated);
      continue;
    }
    fromPod(ctx, rx.buf, slot, len);
  }
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
  const dst = ip.dst;
  if (ctx.probe !== null && ctx.isProbe(ip.src, ip.id)) {
    ctx.curProbe = true;
    ctx.stage('received', `from pod ${ipv4ToString(ip.src)} on cbr0 (TTL ${ip.ttl}, ${ip.totalLength} bytes)`, { ttl: ip.ttl, length: ip.totalLength });
  }
  const sent = ctx.neighbors.trafficOf(ip.src);
  if (sent !== undefined) {
    sent.fromPodFrames++;
    sent.fromPodBytes += flen - ETH;
  }
  if (ctx.id.localAddresses.has(dst)) {
    c.toHost++; // the node's kernel got its own copy via cbr0
    if (ctx.curProbe) ctx.stage('to-host', `${ipv4ToString(dst)} is this node's own address: its kernel answers`);
    return;
  }
  if (ip.ttl <= 1) {
    icmpErrorToPod(ctx, buf, f, flen, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, 0);
    ctx.drop(DROP['ttl-expired']);
    return;
  }
  routeFromPod(ctx, buf, slot, len);
}

/**
 * Where a pod's IPv4 frame goes, by its destination: this node's pod CIDR
 * (to-pods.ts), a peer node's (encap.ts), or nowhere (net unreachable).
 *
 * Drops: no-route. Trace stage: route.
 */

/** Route the pod frame at slot (ctx.ip on its header). */
function routeFromPod(ctx: PipelineContext, buf: Buffer, slot: number, len: number): void {
  const dst = ctx.ip.dst;
  if (cidrContains(ctx.id.podCidr, dst)) {
    if (ctx.curProbe) ctx.stage('route', `${ipv4ToString(dst)} is in this node's pod CIDR ${formatCidr(ctx.id.podCidr)}: deliver locally`);
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
  if (!peer) {
    icmpErrorToPod(ctx, buf, slot + VNET_HDR_SIZE, len - VNET_HDR_SIZE, ICMP_DEST_UNREACHABLE, ICMP_CODE_NET_UNREACHABLE, 0);
    ctx.drop(DROP['no-route']);
    return;
  }
  encapToPeer(ctx, buf, slot, len, peer);
}

/**
 * Delivery to a pod on this node, from a local pod or decapsulated from a
 * peer: L2 rewrite (gateway MAC to the pod's), TTL decrement, and the frame
 * goes out of the receive buffer unchanged otherwise. Decapsulated TCP may
 * be coalesced first (gro.ts).
 *
 * Drops: arp-unresolved, mtu-exceeded. Trace stage: deliver.
 */


/** Hand an IPv4 frame (Ethernet at slot+10; ctx.ip on its header) to a pod on this node; `viaOverlay` frames may be coalesced. */
function deliverLocal(ctx: PipelineContext, buf: Buffer, slot: number, len: number, viaOverlay: boolean): void {
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
    gso === VNET_HDR_GSO_NONE ? ip.totalLength > ctx.id.podMtu : vnet.gsoSize + (vnet.hdrLen || 54) - ETH > ctx.id.podMtu;
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
  if (ctx.tracer?.forwarded) ctx.tracer.forwarded(FWD_LOCAL_POD, ctx.curPort, buf, f, flen, 0, gso === VNET_HDR_GSO_NONE ? 1 : Math.ceil((ip.totalLength - ip.headerLength - 20) / (vnet.gsoSize || 1)));
  if (viaOverlay && ctx.gro && !ctx.curProbe) {
    if (ctx.gro.offer(buf, slot, len)) return;
    ctx.gro.flushFlowOf(buf, slot, len);
  }
  if (ctx.curProbe) ctx.stage('deliver', `to pod ${ipv4ToString(ip.dst)} (${macToString(mac)}) through cbr0, TTL now ${ip.ttl}`, { mac: macToString(mac), ttl: ip.ttl });
  if (!ctx.room(ctx.podTx, ctx.ports.pods, 0, 1)) return;
  ctx.podTx.pushScratchPayload(0, 0, slot, len);
  c.localTx++;
  c.localTxBytes += flen;
}

/**
 * A pod's frame to a pod on a peer node: checks the peer is reachable and
 * the frame fits, rewrites the inner Ethernet VTEP to VTEP, and sends it
 * behind the peer's outer headers — payload straight from the receive
 * buffer, only the headers written. A TCP GSO super-frame is split (tso.ts).
 *
 * Drops: peer-unresolved, peer-unreachable, malformed-l4, mtu-exceeded,
 * gso-unsupported. Trace stage: encap.
 */


/** Encapsulate the pod frame at slot (ctx.ip on its header) to `peer`. */
function encapToPeer(ctx: PipelineContext, buf: Buffer, slot: number, len: number, peer: Peer): void {
  const c = ctx.counters;
  const f = slot + VNET_HDR_SIZE;
  const flen = len - VNET_HDR_SIZE;
  const ip = ctx.ip;
  const vnet = ctx.vnet.wrap(buf, slot);
  const tpl = templateFor(ctx, peer);
  if (!tpl) {
    ctx.events.onPeerUnresolved?.(peer.nodeIp);
    ctx.drop(DROP['peer-unresolved']);
    return;
  }
  if (peer.health?.down) {
    icmpErrorToPod(ctx, buf, f, flen, ICMP_DEST_UNREACHABLE, ICMP_CODE_HOST_UNREACHABLE, 0);
    ctx.drop(DROP['peer-unreachable']);
    return;
  }
  const gso = vnet.gsoType & 0x7f;
  if (vnet.flags & VNET_HDR_F_NEEDS_CSUM && vnet.csumStart + vnet.csumOffset + 2 > flen) {
    ctx.drop(DROP['malformed-l4']); // the checksum it asks to complete is not inside the frame
    return;
  }
  if (gso === VNET_HDR_GSO_NONE && ip.totalLength > ctx.id.podMtu) {
    mtuExceeded(ctx, buf, f, flen);
    return;
  }
  if (gso !== VNET_HDR_GSO_NONE && gso !== VNET_HDR_GSO_TCPV4) {
    ctx.drop(DROP['gso-unsupported']);
    return;
  }
  ip.decrementTtl();
  // Inner Ethernet: from our VTEP to the peer's, as a kernel VTEP would.
  const eth = ctx.eth.wrap(buf, f, flen);
  eth.setDst(peer.vtepMac);
  eth.setSrc(ctx.id.vtepMac);
  const sport = vxlanSourcePort(flowHash(buf, f + ETH));
  if (ctx.curProbe) {
    const id = ctx.id;
    ctx.stage(
      'encap',
      `VXLAN: outer ${ipv4ToString(id.nodeIp)} -> ${ipv4ToString(peer.nodeIp)} UDP ${sport} -> ${id.vxlanPort}, VNI ${id.vni}; inner ${macToString(id.vtepMac)} -> ${macToString(peer.vtepMac)}`,
      { outerSrc: ipv4ToString(id.nodeIp), outerDst: ipv4ToString(peer.nodeIp), srcPort: sport, vni: id.vni },
    );
  }
  if (ctx.tracer?.forwarded) {
    ctx.tracer.forwarded(FWD_VXLAN, ctx.curPort, buf, f, flen, peer.nodeIp, gso === VNET_HDR_GSO_NONE ? 1 : Math.ceil((ip.totalLength - ip.headerLength - 20) / (vnet.gsoSize || 1)));
  }
  if (gso === VNET_HDR_GSO_NONE) {
    if (!ctx.room(ctx.underlayTx, ctx.ports.underlay, VNET_HDR_SIZE + OUTER_HEADERS_SIZE)) return;
    const tx = ctx.underlayTx;
    const off = tx.alloc(VNET_HDR_SIZE + OUTER_HEADERS_SIZE);
    writeEncapVnetHdr(tx.scratch, off, vnet.flags, vnet.csumStart, vnet.csumOffset);
    tpl.write(tx.scratch, off + VNET_HDR_SIZE, flen, ctx.nextIpId(), sport);
    tx.pushScratchPayload(off, VNET_HDR_SIZE + OUTER_HEADERS_SIZE, f, flen);
    c.vxlanTx++;
    c.vxlanTxBytes += flen + OUTER_HEADERS_SIZE;
    if (peer.traffic) {
      peer.traffic.txPackets++;
      peer.traffic.txBytes += flen + OUTER_HEADERS_SIZE;
    }
    return;
  }
  const before = c.vxlanTx;
  const beforeBytes = c.vxlanTxBytes;
  segmentTcp(ctx, buf, f, flen, vnet.gsoSize, tpl, sport);
  if (peer.traffic) {
    peer.traffic.txPackets += c.vxlanTx - before;
    peer.traffic.txBytes += c.vxlanTxBytes - beforeBytes;
  }
}

/**
 * Userspace TSO: a pod's TCP GSO super-frame leaves as MSS-sized VXLAN
 * frames. Each segment is new headers in scratch (outer, then the inner
 * headers copied and patched: length, id, seq, flags) plus its slice of the
 * payload from the receive buffer; the kernel completes each TCP checksum.
 *
 * Drops: gso-unsupported, mtu-exceeded.
 */


/** Split the TCP super-frame at f (Ethernet) into `mss`-sized segments behind `tpl`. */
function segmentTcp(ctx: PipelineContext, buf: Buffer, f: number, flen: number, mss: number, tpl: OuterTemplate, sport: number): void {
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
