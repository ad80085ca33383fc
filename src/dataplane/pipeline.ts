import {
  ArpView,
  ARP_REQUEST,
  EthernetView,
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  Ipv4View,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  UdpView,
  VxlanView,
  VnetHdrView,
  VNET_HDR_SIZE,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_GSO_NONE,
  VNET_HDR_GSO_TCPV4,
  VXLAN_HEADER_SIZE,
  UDP_HEADER_SIZE,
  ICMP_DEST_UNREACHABLE,
  ICMP_CODE_NET_UNREACHABLE,
  ICMP_CODE_HOST_UNREACHABLE,
  ICMP_CODE_FRAG_NEEDED,
  ICMP_TIME_EXCEEDED,
  ICMP_CODE_TTL_EXCEEDED,
  ICMP_ECHO_REQUEST,
  flowHash,
  vxlanSourcePort,
  writeArpReply,
  writeArpRequest,
  buildIcmpError,
  buildEchoReply,
  icmpErrorAllowed,
  ipv4ToString,
  sum16,
  finishChecksum,
  macToString,
} from '../packet/index.js';
import type { RxBatch, TxBatch } from '../native/batch.js';
import { TxBatch as TxBatchImpl } from '../native/batch.js';
import { OuterTemplate, OUTER_HEADERS_SIZE, writeEncapVnetHdr, planTcpSegments, patchTcpSegment } from '../overlay/vxlan-encap.js';
import { Counters } from './counters.js';
import { DROP, dropReasonName, describeDropReason } from './drop-reasons.js';
import { formatCidr } from './cidr.js';
import { NeighborTable, PeerTable, PeerTraffic, PeerHealth, UnderlayNeighbors, cidrContains, type Cidr, type Peer } from './tables.js';
import { TokenBucket } from './token-bucket.js';
import { Gro } from './gro.js';

/** What the pipeline needs to know about its node. Addresses are uint32. */
export interface NodeIdentity {
  nodeIp: number;
  /** eth0's MAC: outer source of VXLAN frames */
  nodeMac: Buffer;
  gatewayIp: number;
  /** cbr0's MAC: the pods' gateway, and the source of every frame we hand a pod */
  gatewayMac: Buffer;
  podCidr: Cidr;
  vtepMac: Buffer;
  vni: number;
  vxlanPort: number;
  podMtu: number;
  /** addresses the node's own kernel owns; packets to them are the kernel's */
  localAddresses: Set<number>;
}

/** ICMP identifier of agent-to-agent health probes ("pw"). */
export const HEALTH_ICMP_ID = 0x7077;

/** An ICMP echo request from one gateway to another: the health probe. Returns its IPv4 length. */
function writeHealthProbe(out: Buffer, off: number, src: number, dst: number, seq: number): number {
  const len = 20 + 8 + 16;
  out.fill(0, off, off + len);
  out[off] = 0x45;
  out.writeUInt16BE(len, off + 2);
  out.writeUInt16BE(seq, off + 4);
  out[off + 8] = 64;
  out[off + 9] = 1;
  out.writeUInt32BE(src >>> 0, off + 12);
  out.writeUInt32BE(dst >>> 0, off + 16);
  out.writeUInt16BE(finishChecksum(sum16(out, off, 20)), off + 10);
  const icmp = off + 20;
  out[icmp] = 8;
  out.writeUInt16BE(HEALTH_ICMP_ID, icmp + 4);
  out.writeUInt16BE(seq, icmp + 6);
  out.write('podwire-health', icmp + 8);
  out.writeUInt16BE(finishChecksum(sum16(out, icmp, 24)), icmp + 2);
  return len;
}

/** Which port a frame came in on. */
export const PORT_PODS = 0;
export const PORT_UNDERLAY = 1;

/**
 * Trace point for drops: called with the frame (Ethernet first, as it
 * arrived; outer headers included for VXLAN) while the bytes are valid, i.e.
 * during the call only. Capture, flow logs and `trace` attach here.
 */
export interface PipelineTracer {
  dropped(reason: number, port: number, buf: Buffer, off: number, len: number): void;
  /**
   * An IPv4 frame (Ethernet at off; the inner frame for decapsulated
   * traffic) leaves the pipeline: to a local pod, or to `peerNodeIp` over
   * VXLAN. A GSO super-frame is one call with all its bytes (`segments` says how many wire packets).
   */
  forwarded?(to: number, port: number, buf: Buffer, off: number, len: number, peerNodeIp: number, segments: number): void;
  /** A stage handled the probe (see Pipeline.setProbe): what it decided, in words and data. */
  stage?(event: StageEvent): void;
}

export interface StageEvent {
  stage: string;
  detail: string;
  data?: Record<string, unknown>;
}

/** Where a forwarded frame went. */
export const FWD_LOCAL_POD = 0;
export const FWD_VXLAN = 1;

/** Where the pipeline's output goes: the two packet sockets, or a test's capture. */
export interface TxPort {
  /** Sends the batch; returns frames the kernel took. */
  send(batch: TxBatch): number;
  /** frames refused (not queue-full) in the last send, if the port knows */
  readonly lastRejected?: number;
}

export interface PipelineOptions {
  clock?: () => number;
  /** scratch bytes per tx batch (headers we build) */
  scratchBytes?: number;
  maxTxFrames?: number;
  icmpErrorsPerSecond?: number;
  /** coalesce decapsulated TCP segments for pods (userspace GRO); default on */
  gro?: boolean;
}

/** After processing, the peer we want an underlay MAC for, etc.: side effects the agent performs. */
export interface PipelineEvents {
  /** a peer's underlay MAC is unknown; resolve it (ARP on eth0) */
  onPeerUnresolved?(nodeIp: number): void;
}

const ETH = ETHERNET_HEADER_SIZE;

/**
 * The per-node userspace dataplane: every frame a pod sends, and every VXLAN
 * frame from a peer node, passes through here.
 *
 *   pods (cbr0) -> ARP responder | IPv4: checks -> TTL -> route:
 *                    local pod (L2 rewrite) | peer node (VXLAN encap, TSO split) | drop(no-route)
 *   underlay (eth0) -> ARP learning | VXLAN checks -> decap -> inner ARP | IPv4 -> local pod
 *
 * Stages read tables; only the agent writes them. Nothing here throws on a
 * packet: every way a frame can end is a counted drop reason or a send.
 * Payload bytes are not copied: forwarded frames are sent straight out of the
 * receive buffer, and encapsulation/segmentation only writes headers.
 */
export class Pipeline {
  readonly counters = new Counters();
  readonly neighbors = new NeighborTable();
  readonly peers = new PeerTable();
  readonly underlayNeighbors = new UnderlayNeighbors();
  readonly podTx: TxBatch;
  readonly underlayTx: TxBatch;

  private readonly eth = new EthernetView();
  private readonly ip = new Ipv4View();
  private readonly arp = new ArpView();
  private readonly udp = new UdpView();
  private readonly vx = new VxlanView();
  private readonly vnet = new VnetHdrView();
  private readonly innerEth = new EthernetView();
  private readonly templates = new Map<number, OuterTemplate>();
  private readonly icmpBucket: TokenBucket;
  private readonly arpAsked = new Map<number, number>();
  private readonly clock: () => number;
  private ipId = 1;
  readonly gro: Gro | null;
  private tracer: PipelineTracer | null = null;
  // the frame being processed, for the tracer
  private curBuf: Buffer = Buffer.alloc(0);
  private curOff = 0;
  private curLen = 0;
  private curPort = PORT_PODS;
  // a traced probe: IPv4 source + identification; curProbe marks the frame at hand
  private probe: { src: number; id: number } | null = null;
  private curProbe = false;

  constructor(
    readonly id: NodeIdentity,
    private readonly ports: { pods: TxPort; underlay: TxPort },
    options: PipelineOptions = {},
    private readonly events: PipelineEvents = {},
  ) {
    this.clock = options.clock ?? (() => performance.now());
    const scratch = options.scratchBytes ?? 1 << 20;
    const frames = options.maxTxFrames ?? 1024;
    this.podTx = new TxBatchImpl(scratch, frames);
    this.underlayTx = new TxBatchImpl(scratch, frames);
    this.icmpBucket = new TokenBucket(options.icmpErrorsPerSecond ?? 200, 50, this.clock);
    const c = this.counters;
    this.gro =
      options.gro === false
        ? null
        : new Gro({
            tx: this.podTx,
            room: (scratch, iovs) => this.room(this.podTx, this.ports.pods, scratch, iovs),
            delivered: (frames, bytes) => {
              c.localTx += frames;
              c.localTxBytes += bytes;
            },
          });
  }

  /** Attach (or detach with null) the drop trace point. */
  setTracer(tracer: PipelineTracer | null): void {
    this.tracer = tracer;
  }

  /** Count a drop of the current frame under `reason`, and show it to the tracer. */
  private drop(reason: number): void {
    this.counters.drops[reason]++;
    if (this.tracer !== null) {
      this.tracer.dropped(reason, this.curPort, this.curBuf, this.curOff, this.curLen);
      if (this.curProbe) {
        const name = dropReasonName(reason);
        this.stage('drop', `${name} — ${describeDropReason(name)}`, { reason: name });
      }
    }
  }

  /**
   * Follow one probe packet (IPv4 source and identification) through the
   * stages: each reports what it decided to the tracer's stage(). Costs one
   * comparison per frame while set.
   */
  setProbe(probe: { src: number; id: number } | null): void {
    this.probe = probe;
  }

  private isProbe(src: number, id: number): boolean {
    const p = this.probe;
    return p !== null && p.src === src && p.id === id;
  }

  private stage(stage: string, detail: string, data?: Record<string, unknown>): void {
    this.tracer?.stage?.({ stage, detail, data });
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
    this.templates.clear();
  }

  /** VXLAN counters per peer node IP, for metrics. */
  readonly peerTraffic = new Map<number, PeerTraffic>();
  /** health per peer node IP (see PeerHealth) */
  readonly peerHealth = new Map<number, PeerHealth>();
  private healthSeq = 0;

  /**
   * Once a second (the agent's timer): ping every peer's gateway over VXLAN
   * and re-judge who is down. The peer's agent answers echo requests to its
   * gateway (echoReplyOverlay); the reply comes back through fromUnderlay.
   */
  healthTick(downAfterMs = 3500): void {
    const now = this.clock();
    this.healthSeq = (this.healthSeq + 1) & 0xffff;
    for (const peer of this.peers.list()) {
      const h = peer.health;
      if (!h) continue;
      h.down = h.answeredOnce && now - h.lastReplyMs > downAfterMs;
      const gw = (peer.podCidr.network + 1) >>> 0;
      const seq = this.healthSeq;
      const from = this.id.gatewayIp;
      this.sendOverlayIp(peer, (out, o) => writeHealthProbe(out, o, from, gw, seq));
      h.probesSent++;
    }
    this.flush();
  }

  /** The underlay MAC of a peer changed or was learned: rebuild its outer template. */
  private templateFor(peer: Peer): OuterTemplate | undefined {
    let t = this.templates.get(peer.nodeIp);
    if (t) return t;
    const mac = this.underlayNeighbors.get(peer.nodeIp);
    if (!mac) return undefined;
    t = new OuterTemplate(mac, this.id.nodeMac, this.id.nodeIp, peer.nodeIp, this.id.vni, this.id.vxlanPort);
    this.templates.set(peer.nodeIp, t);
    return t;
  }

  learnUnderlay(ip: number, mac: Buffer, macOff: number): void {
    const before = this.underlayNeighbors.get(ip);
    this.underlayNeighbors.learn(ip, mac, macOff, this.clock());
    if (!before || before.compare(mac, macOff, macOff + 6) !== 0) this.templates.delete(ip);
  }

  // ---------------------------------------------------------------- from pods

  processFromPods(rx: RxBatch): void {
    this.podTx.payload = rx.buf;
    this.underlayTx.payload = rx.buf;
    const c = this.counters;
    for (let i = 0; i < rx.count; i++) {
      const slot = rx.slotOffset(i);
      const len = rx.lengths[i];
      c.podRx++;
      c.podRxBytes += len;
      this.curBuf = rx.buf;
      this.curOff = slot + VNET_HDR_SIZE;
      this.curLen = Math.min(len, rx.slotSize) - VNET_HDR_SIZE;
      this.curPort = PORT_PODS;
      this.curProbe = false;
      if (len > rx.slotSize) {
        this.drop(DROP.truncated);
        continue;
      }
      this.fromPod(rx.buf, slot, len);
    }
    this.flush();
  }

  private fromPod(buf: Buffer, slot: number, len: number): void {
    const c = this.counters;
    const f = slot + VNET_HDR_SIZE;
    const flen = len - VNET_HDR_SIZE;
    const eth = this.eth.wrap(buf, f, flen);
    if (flen < ETH || !eth.isValid()) {
      this.drop(DROP['malformed-ethernet']);
      return;
    }
    if (!eth.dstEquals(this.id.gatewayMac) && !eth.dstIsBroadcast()) {
      if (eth.dstIsMulticast()) return; // IPv6/IGMP chatter to multicast: not ours, not a drop
      this.drop(DROP['not-for-gateway']);
      return;
    }
    const type = eth.etherType;
    if (type === ETHERTYPE_ARP) return this.podArp(buf, f, flen);
    if (type !== ETHERTYPE_IPV4) {
      this.drop(DROP['unsupported-ethertype']);
      return;
    }
    const ip = this.ip.wrap(buf, f + ETH, flen - ETH);
    if (!ip.isValid()) {
      this.drop(DROP['malformed-ipv4']);
      return;
    }
    if (!ip.isHeaderChecksumValid()) {
      this.drop(DROP['bad-ipv4-checksum']);
      return;
    }
    const dst = ip.dst;
    if (this.probe !== null && this.isProbe(ip.src, ip.id)) {
      this.curProbe = true;
      this.stage('received', `from pod ${ipv4ToString(ip.src)} on cbr0 (TTL ${ip.ttl}, ${ip.totalLength} bytes)`, { ttl: ip.ttl, length: ip.totalLength });
    }
    const sent = this.neighbors.trafficOf(ip.src);
    if (sent !== undefined) {
      sent.fromPodFrames++;
      sent.fromPodBytes += flen - ETH;
    }
    if (this.id.localAddresses.has(dst)) {
      c.toHost++; // the node's kernel got its own copy via cbr0
      if (this.curProbe) this.stage('to-host', `${ipv4ToString(dst)} is this node's own address: its kernel answers`);
      return;
    }
    if (ip.ttl <= 1) {
      this.icmpErrorToPod(buf, f, flen, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, 0);
      this.drop(DROP['ttl-expired']);
      return;
    }
    const vnet = this.vnet.wrap(buf, slot);
    if (cidrContains(this.id.podCidr, dst)) {
      if (this.curProbe) this.stage('route', `${ipv4ToString(dst)} is in this node's pod CIDR ${formatCidr(this.id.podCidr)}: deliver locally`);
      return this.deliverLocal(buf, slot, len, false);
    }
    const peer = this.peers.lookup(dst);
    if (this.curProbe) {
      this.stage(
        'route',
        peer
          ? `${ipv4ToString(dst)} is in ${formatCidr(peer.podCidr)} of peer node ${peer.name} (${ipv4ToString(peer.nodeIp)}): VXLAN`
          : `no pod CIDR of any node covers ${ipv4ToString(dst)}`,
        peer ? { peer: peer.name, peerIp: ipv4ToString(peer.nodeIp) } : {},
      );
    }
    if (!peer) {
      this.icmpErrorToPod(buf, f, flen, ICMP_DEST_UNREACHABLE, ICMP_CODE_NET_UNREACHABLE, 0);
      this.drop(DROP['no-route']);
      return;
    }
    this.encapToPeer(buf, slot, len, peer, vnet);
  }

  private podArp(buf: Buffer, f: number, flen: number): void {
    const c = this.counters;
    const arp = this.arp.wrap(buf, f + ETH, flen - ETH);
    if (!arp.isValid()) {
      this.drop(DROP['malformed-arp']);
      return;
    }
    const sender = arp.senderIp;
    if (sender !== 0 && cidrContains(this.id.podCidr, sender) && !this.id.localAddresses.has(sender)) {
      this.neighbors.learn(sender, buf, arp.off + 8);
    }
    // An RFC 5227 probe (sender 0.0.0.0) asks "is my address taken?": a
    // proxy must not answer it, as Linux's proxy ARP does not.
    if (arp.op !== ARP_REQUEST || sender === 0) return;
    const target = arp.targetIp;
    // The node's kernel answers for its own addresses (the gateway); we
    // answer for pods we know, so same-node pod traffic comes to us too.
    if (this.id.localAddresses.has(target) || target === sender) return;
    if (!cidrContains(this.id.podCidr, target)) return;
    if (!this.neighbors.get(target)) {
      this.askPods(target);
      this.drop(DROP['arp-unresolved']);
      return;
    }
    if (!this.room(this.podTx, this.ports.pods, 80)) return;
    const off = this.podTx.alloc(VNET_HDR_SIZE + 64);
    this.podTx.scratch.fill(0, off, off + VNET_HDR_SIZE);
    const n = writeArpReply(this.podTx.scratch, off + VNET_HDR_SIZE, arp, this.id.gatewayMac);
    this.podTx.pushScratch(off, VNET_HDR_SIZE + n);
    c.arpReplies++;
  }

  /** Hand an IPv4 frame (Ethernet at slot+10) to a pod on this node; `viaOverlay` frames may be coalesced. */
  private deliverLocal(buf: Buffer, slot: number, len: number, viaOverlay: boolean): void {
    const c = this.counters;
    const f = slot + VNET_HDR_SIZE;
    const flen = len - VNET_HDR_SIZE;
    const ip = this.ip;
    const mac = this.neighbors.get(ip.dst);
    if (!mac) {
      this.askPods(ip.dst);
      this.drop(DROP['arp-unresolved']);
      return;
    }
    const vnet = this.vnet.wrap(buf, slot);
    const gso = vnet.gsoType & 0x7f;
    const tooBig =
      gso === VNET_HDR_GSO_NONE ? ip.totalLength > this.id.podMtu : vnet.gsoSize + (vnet.hdrLen || 54) - ETH > this.id.podMtu;
    if (tooBig) {
      this.mtuExceeded(buf, f, flen);
      return;
    }
    ip.decrementTtl();
    const eth = this.eth.wrap(buf, f, flen);
    eth.setDst(mac);
    eth.setSrc(this.id.gatewayMac);
    const got = this.neighbors.trafficOf(ip.dst);
    if (got !== undefined) {
      got.toPodFrames++;
      got.toPodBytes += flen - ETH;
    }
    if (this.tracer?.forwarded) this.tracer.forwarded(FWD_LOCAL_POD, this.curPort, buf, f, flen, 0, gso === VNET_HDR_GSO_NONE ? 1 : Math.ceil((ip.totalLength - ip.headerLength - 20) / (vnet.gsoSize || 1)));
    if (viaOverlay && this.gro && !this.curProbe) {
      if (this.gro.offer(buf, slot, len)) return;
      this.gro.flushFlowOf(buf, slot, len);
    }
    if (this.curProbe) this.stage('deliver', `to pod ${ipv4ToString(ip.dst)} (${macToString(mac)}) through cbr0, TTL now ${ip.ttl}`, { mac: macToString(mac), ttl: ip.ttl });
    if (!this.room(this.podTx, this.ports.pods, 0, 1)) return;
    this.podTx.pushScratchPayload(0, 0, slot, len);
    c.localTx++;
    c.localTxBytes += flen;
  }

  private mtuExceeded(buf: Buffer, f: number, flen: number): void {
    if (this.ip.dontFragment) this.icmpErrorToPod(buf, f, flen, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, this.id.podMtu);
    this.drop(DROP['mtu-exceeded']);
  }

  private encapToPeer(buf: Buffer, slot: number, len: number, peer: Peer, vnet: VnetHdrView): void {
    const c = this.counters;
    const f = slot + VNET_HDR_SIZE;
    const flen = len - VNET_HDR_SIZE;
    const ip = this.ip;
    const tpl = this.templateFor(peer);
    if (!tpl) {
      this.events.onPeerUnresolved?.(peer.nodeIp);
      this.drop(DROP['peer-unresolved']);
      return;
    }
    if (peer.health?.down) {
      this.icmpErrorToPod(buf, f, flen, ICMP_DEST_UNREACHABLE, ICMP_CODE_HOST_UNREACHABLE, 0);
      this.drop(DROP['peer-unreachable']);
      return;
    }
    const gso = vnet.gsoType & 0x7f;
    if (vnet.flags & VNET_HDR_F_NEEDS_CSUM && vnet.csumStart + vnet.csumOffset + 2 > flen) {
      this.drop(DROP['malformed-l4']); // the checksum it asks to complete is not inside the frame
      return;
    }
    if (gso === VNET_HDR_GSO_NONE && ip.totalLength > this.id.podMtu) {
      this.mtuExceeded(buf, f, flen);
      return;
    }
    if (gso !== VNET_HDR_GSO_NONE && gso !== VNET_HDR_GSO_TCPV4) {
      this.drop(DROP['gso-unsupported']);
      return;
    }
    ip.decrementTtl();
    // Inner Ethernet: from our VTEP to the peer's, as a kernel VTEP would.
    const eth = this.eth.wrap(buf, f, flen);
    eth.setDst(peer.vtepMac);
    eth.setSrc(this.id.vtepMac);
    const sport = vxlanSourcePort(flowHash(buf, f + ETH));
    if (this.curProbe) {
      this.stage(
        'encap',
        `VXLAN: outer ${ipv4ToString(this.id.nodeIp)} -> ${ipv4ToString(peer.nodeIp)} UDP ${sport} -> ${this.id.vxlanPort}, VNI ${this.id.vni}; inner ${macToString(this.id.vtepMac)} -> ${macToString(peer.vtepMac)}`,
        { outerSrc: ipv4ToString(this.id.nodeIp), outerDst: ipv4ToString(peer.nodeIp), srcPort: sport, vni: this.id.vni },
      );
    }
    if (this.tracer?.forwarded) {
      this.tracer.forwarded(FWD_VXLAN, this.curPort, buf, f, flen, peer.nodeIp, gso === VNET_HDR_GSO_NONE ? 1 : Math.ceil((ip.totalLength - ip.headerLength - 20) / (vnet.gsoSize || 1)));
    }
    if (gso === VNET_HDR_GSO_NONE) {
      if (!this.room(this.underlayTx, this.ports.underlay, VNET_HDR_SIZE + OUTER_HEADERS_SIZE)) return;
      const tx = this.underlayTx;
      const off = tx.alloc(VNET_HDR_SIZE + OUTER_HEADERS_SIZE);
      writeEncapVnetHdr(tx.scratch, off, vnet.flags, vnet.csumStart, vnet.csumOffset);
      tpl.write(tx.scratch, off + VNET_HDR_SIZE, flen, this.nextIpId(), sport);
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
    this.segmentTcp(buf, f, flen, vnet.gsoSize, tpl, sport);
    if (peer.traffic) {
      peer.traffic.txPackets += c.vxlanTx - before;
      peer.traffic.txBytes += c.vxlanTxBytes - beforeBytes;
    }
  }

  /** Userspace TSO: split a TCP super-frame into MSS-sized VXLAN frames. */
  private segmentTcp(buf: Buffer, f: number, flen: number, mss: number, tpl: OuterTemplate, sport: number): void {
    const c = this.counters;
    const plan = planTcpSegments(buf, f, flen, mss);
    if (!plan) {
      this.drop(DROP['gso-unsupported']);
      return;
    }
    if (plan.ipHeaderLen + plan.tcpHeaderLen + mss > this.id.podMtu) {
      this.mtuExceeded(buf, f, flen);
      return;
    }
    const ipOff = f + ETH;
    const tcpOff = ipOff + plan.ipHeaderLen;
    const baseSeq = buf.readUInt32BE(tcpOff + 4);
    const baseId = buf.readUInt16BE(ipOff + 4);
    const baseFlags = buf[tcpOff + 13];
    const csumStart = OUTER_HEADERS_SIZE + ETH + plan.ipHeaderLen;
    const hdrBytes = VNET_HDR_SIZE + OUTER_HEADERS_SIZE + plan.headerLen;
    const tx = this.underlayTx;
    let payloadOff = f + plan.headerLen;
    let remaining = plan.payloadLen;
    for (let s = 0; s < plan.segments; s++) {
      const segLen = remaining < mss ? remaining : mss;
      if (!this.room(tx, this.ports.underlay, hdrBytes)) return;
      const off = tx.alloc(hdrBytes);
      const sc = tx.scratch;
      sc.fill(0, off, off + VNET_HDR_SIZE);
      sc[off] = VNET_HDR_F_NEEDS_CSUM;
      sc.writeUInt16LE(csumStart, off + 6);
      sc.writeUInt16LE(16, off + 8);
      const innerLen = plan.headerLen + segLen;
      tpl.write(sc, off + VNET_HDR_SIZE, innerLen, this.nextIpId(), sport);
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

  // ------------------------------------------------------------ from underlay

  processFromUnderlay(rx: RxBatch): void {
    this.podTx.payload = rx.buf;
    this.underlayTx.payload = rx.buf;
    const c = this.counters;
    for (let i = 0; i < rx.count; i++) {
      const slot = rx.slotOffset(i);
      const len = rx.lengths[i];
      c.underlayRx++;
      c.underlayRxBytes += len;
      this.curBuf = rx.buf;
      this.curOff = slot + VNET_HDR_SIZE;
      this.curLen = Math.min(len, rx.slotSize) - VNET_HDR_SIZE;
      this.curPort = PORT_UNDERLAY;
      this.curProbe = false;
      if (len > rx.slotSize) {
        this.drop(DROP.truncated);
        continue;
      }
      this.fromUnderlay(rx.buf, slot, len);
    }
    this.gro?.flushAll();
    this.flush();
  }

  private fromUnderlay(buf: Buffer, slot: number, len: number): void {
    const c = this.counters;
    const f = slot + VNET_HDR_SIZE;
    const flen = len - VNET_HDR_SIZE;
    const eth = this.eth.wrap(buf, f, flen);
    if (flen < ETH || !eth.isValid()) {
      this.drop(DROP['malformed-ethernet']);
      return;
    }
    const type = eth.etherType;
    if (type === ETHERTYPE_ARP) {
      const arp = this.arp.wrap(buf, f + ETH, flen - ETH);
      if (!arp.isValid()) {
        this.drop(DROP['malformed-arp']);
        return;
      }
      // Learn peers' underlay MACs from any ARP they send (the kernel answers for us).
      if (this.peers.byNodeIp(arp.senderIp)) this.learnUnderlay(arp.senderIp, buf, arp.off + 8);
      return;
    }
    if (type !== ETHERTYPE_IPV4) {
      this.drop(DROP['unsupported-ethertype']);
      return;
    }
    const ip = this.ip.wrap(buf, f + ETH, flen - ETH);
    if (!ip.isValid()) {
      this.drop(DROP['malformed-ipv4']);
      return;
    }
    if (!ip.isHeaderChecksumValid()) {
      this.drop(DROP['bad-ipv4-checksum']);
      return;
    }
    if (ip.dst !== this.id.nodeIp) {
      this.drop(DROP['not-for-node']);
      return;
    }
    if (ip.protocol !== IPPROTO_UDP || ip.isFragment()) {
      this.drop(DROP['malformed-vxlan']);
      return;
    }
    const udpOff = ip.payloadOffset;
    const udp = this.udp.wrap(buf, udpOff, ip.payloadLength);
    if (!udp.isValid() || udp.dstPort !== this.id.vxlanPort || udp.length < UDP_HEADER_SIZE + VXLAN_HEADER_SIZE + ETH) {
      this.drop(DROP['malformed-vxlan']);
      return;
    }
    const vx = this.vx.wrap(buf, udpOff + UDP_HEADER_SIZE, udp.length - UDP_HEADER_SIZE);
    if (!vx.isValid()) {
      this.drop(DROP['malformed-vxlan']);
      return;
    }
    // RFC 7348 §5: I must be 1; reserved bits are ignored on receipt.
    if (!vx.flagI) {
      this.drop(DROP['vxlan-bad-flags']);
      return;
    }
    if (vx.vni !== this.id.vni) {
      this.drop(DROP['vxlan-unknown-vni']);
      return;
    }
    const outerSrc = ip.src;
    const peer = this.peers.byNodeIp(outerSrc);
    if (!peer) {
      this.drop(DROP['vxlan-unknown-peer']);
      return;
    }
    this.learnUnderlay(outerSrc, buf, f + 6);
    c.vxlanRx++;
    if (peer.traffic) {
      peer.traffic.rxPackets++;
      peer.traffic.rxBytes += flen;
    }
    const inner = udpOff + UDP_HEADER_SIZE + VXLAN_HEADER_SIZE;
    const innerLen = udp.length - UDP_HEADER_SIZE - VXLAN_HEADER_SIZE;
    const ieth = this.innerEth.wrap(buf, inner, innerLen);
    if (!ieth.isValid()) {
      this.drop(DROP['malformed-vxlan']);
      return;
    }
    const itype = ieth.etherType;
    if (itype === ETHERTYPE_ARP) return this.overlayArp(buf, inner, innerLen, peer);
    if (itype !== ETHERTYPE_IPV4) {
      this.drop(DROP['unsupported-ethertype']);
      return;
    }
    const iip = this.ip.wrap(buf, inner + ETH, innerLen - ETH);
    if (!iip.isValid()) {
      this.drop(DROP['malformed-ipv4']);
      return;
    }
    if (!iip.isHeaderChecksumValid()) {
      this.drop(DROP['bad-ipv4-checksum']);
      return;
    }
    const dst = iip.dst;
    if (this.probe !== null && this.isProbe(iip.src, iip.id)) {
      this.curProbe = true;
      this.stage('decap', `VXLAN from peer node ${peer.name} (${ipv4ToString(outerSrc)}), VNI ${vx.vni}, UDP source port ${udp.srcPort}`, { peer: peer.name, vni: vx.vni });
    }
    if (!cidrContains(this.id.podCidr, dst)) {
      this.drop(DROP['no-route']);
      return;
    }
    if (dst === this.id.gatewayIp) {
      // A remote pod (or peer agent's health probe) pinging this node's
      // gateway: the agent answers as a router would. A reply to our own
      // health probe marks the peer alive.
      if (iip.protocol === IPPROTO_ICMP) {
        const icmp = inner + ETH + iip.headerLength;
        if (buf[icmp] === 0 && icmp + 8 <= inner + innerLen && buf.readUInt16BE(icmp + 4) === HEALTH_ICMP_ID) {
          const h = peer.health;
          if (h) {
            h.answeredOnce = true;
            h.lastReplyMs = this.clock();
            h.repliesSeen++;
            h.down = false;
          }
          return;
        }
        this.echoReplyOverlay(buf, inner, innerLen, peer);
      } else this.drop(DROP['no-route']);
      return;
    }
    if (iip.ttl <= 1) {
      this.icmpErrorOverlay(buf, inner, innerLen, peer, ICMP_TIME_EXCEEDED, ICMP_CODE_TTL_EXCEEDED, 0);
      this.drop(DROP['ttl-expired']);
      return;
    }
    if (iip.totalLength > this.id.podMtu) {
      if (iip.dontFragment) this.icmpErrorOverlay(buf, inner, innerLen, peer, ICMP_DEST_UNREACHABLE, ICMP_CODE_FRAG_NEEDED, this.id.podMtu);
      this.drop(DROP['mtu-exceeded']);
      return;
    }
    // Decapsulate in place: a fresh virtio_net_hdr goes just before the inner
    // frame (over the outer UDP/VXLAN bytes we no longer need); a partial
    // inner checksum stays partial, its start moved back by the outer headers.
    const rxVnet = this.vnet.wrap(buf, slot);
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
    this.deliverLocal(buf, newSlot, innerLen + VNET_HDR_SIZE, true);
  }

  /** ARP over VXLAN (a kernel VTEP without static neighbours asks this way): answer for our pods. */
  private overlayArp(buf: Buffer, inner: number, innerLen: number, peer: Peer): void {
    const arp = this.arp.wrap(buf, inner + ETH, innerLen - ETH);
    if (!arp.isValid()) {
      this.drop(DROP['malformed-arp']);
      return;
    }
    if (arp.op !== ARP_REQUEST || !cidrContains(this.id.podCidr, arp.targetIp)) return;
    const tpl = this.templateFor(peer);
    if (!tpl || !this.room(this.underlayTx, this.ports.underlay, 160)) return;
    const tx = this.underlayTx;
    const off = tx.alloc(VNET_HDR_SIZE + OUTER_HEADERS_SIZE + 64);
    tx.scratch.fill(0, off, off + VNET_HDR_SIZE);
    const n = writeArpReply(tx.scratch, off + VNET_HDR_SIZE + OUTER_HEADERS_SIZE, arp, this.id.vtepMac);
    tpl.write(tx.scratch, off + VNET_HDR_SIZE, n, this.nextIpId(), vxlanSourcePort(arp.targetIp));
    tx.pushScratch(off, VNET_HDR_SIZE + OUTER_HEADERS_SIZE + n);
    this.counters.arpReplies++;
  }

  // ------------------------------------------------------------ ICMP and ARP

  private icmpErrorToPod(buf: Buffer, f: number, flen: number, type: number, code: number, mtu: number): void {
    const ipOff = f + ETH;
    if (!icmpErrorAllowed(buf, ipOff, flen - ETH)) return;
    if (!this.icmpBucket.take()) {
      this.counters.icmpRateLimited++;
      return;
    }
    const srcMacOff = f + 6;
    if (!this.room(this.podTx, this.ports.pods, 700)) return;
    const tx = this.podTx;
    const off = tx.alloc(VNET_HDR_SIZE + ETH + 600);
    const sc = tx.scratch;
    sc.fill(0, off, off + VNET_HDR_SIZE);
    buf.copy(sc, off + VNET_HDR_SIZE, srcMacOff, srcMacOff + 6); // back to the sender's MAC
    this.id.gatewayMac.copy(sc, off + VNET_HDR_SIZE + 6);
    sc.writeUInt16BE(ETHERTYPE_IPV4, off + VNET_HDR_SIZE + 12);
    const ipLen = Math.min(this.ip.totalLength, flen - ETH);
    const n = buildIcmpError(sc, off + VNET_HDR_SIZE + ETH, buf, ipOff, ipLen, type, code, this.id.gatewayIp, mtu);
    if (n <= 0) return;
    tx.pushScratch(off, VNET_HDR_SIZE + ETH + n);
    this.counters.icmpErrors++;
  }

  private icmpErrorOverlay(buf: Buffer, inner: number, innerLen: number, peer: Peer, type: number, code: number, mtu: number): void {
    const ipOff = inner + ETH;
    if (!icmpErrorAllowed(buf, ipOff, innerLen - ETH)) return;
    if (!this.icmpBucket.take()) {
      this.counters.icmpRateLimited++;
      return;
    }
    const ipLen = Math.min(this.ip.totalLength, innerLen - ETH);
    this.sendOverlayIp(peer, (out, o) => buildIcmpError(out, o, buf, ipOff, ipLen, type, code, this.id.gatewayIp, mtu));
    this.counters.icmpErrors++;
  }

  private echoReplyOverlay(buf: Buffer, inner: number, innerLen: number, peer: Peer): void {
    const ipOff = inner + ETH;
    const ipLen = Math.min(this.ip.totalLength, innerLen - ETH);
    if (ipLen > this.id.podMtu || buf[ipOff + this.ip.headerLength] !== ICMP_ECHO_REQUEST) return;
    this.sendOverlayIp(peer, (out, o) => buildEchoReply(out, o, buf, ipOff, ipLen));
  }

  /** Send an IPv4 packet we build (from our gateway) to a peer's pod over VXLAN. */
  private sendOverlayIp(peer: Peer, build: (out: Buffer, off: number) => number): void {
    const tpl = this.templateFor(peer);
    if (!tpl || !this.room(this.underlayTx, this.ports.underlay, 1600)) return;
    const tx = this.underlayTx;
    const off = tx.alloc(VNET_HDR_SIZE + OUTER_HEADERS_SIZE + ETH + 1500);
    const sc = tx.scratch;
    sc.fill(0, off, off + VNET_HDR_SIZE);
    const e = off + VNET_HDR_SIZE + OUTER_HEADERS_SIZE;
    peer.vtepMac.copy(sc, e);
    this.id.vtepMac.copy(sc, e + 6);
    sc.writeUInt16BE(ETHERTYPE_IPV4, e + 12);
    const n = build(sc, e + ETH);
    if (n <= 0) return;
    const sport = vxlanSourcePort(flowHash(sc, e + ETH));
    tpl.write(sc, off + VNET_HDR_SIZE, ETH + n, this.nextIpId(), sport);
    tx.pushScratch(off, VNET_HDR_SIZE + OUTER_HEADERS_SIZE + ETH + n);
  }

  /** ARP for a pod IP on cbr0 (at most once a second per address). */
  private askPods(ip: number): void {
    const now = this.clock();
    const last = this.arpAsked.get(ip);
    if (last !== undefined && now - last < 1000) return;
    if (this.arpAsked.size > 4096) this.arpAsked.clear();
    this.arpAsked.set(ip, now);
    if (!this.room(this.podTx, this.ports.pods, 80)) return;
    const off = this.podTx.alloc(VNET_HDR_SIZE + 64);
    this.podTx.scratch.fill(0, off, off + VNET_HDR_SIZE);
    const n = writeArpRequest(this.podTx.scratch, off + VNET_HDR_SIZE, this.id.gatewayMac, this.id.gatewayIp, ip);
    this.podTx.pushScratch(off, VNET_HDR_SIZE + n);
  }

  /** Build an ARP request for a peer node on the underlay into the underlay batch (caller flushes). */
  queueUnderlayArp(targetIp: number): void {
    if (!this.room(this.underlayTx, this.ports.underlay, 80)) return;
    const off = this.underlayTx.alloc(VNET_HDR_SIZE + 64);
    this.underlayTx.scratch.fill(0, off, off + VNET_HDR_SIZE);
    const n = writeArpRequest(this.underlayTx.scratch, off + VNET_HDR_SIZE, this.id.nodeMac, this.id.nodeIp, targetIp);
    this.underlayTx.pushScratch(off, VNET_HDR_SIZE + n);
  }

  // ------------------------------------------------------------------ output

  private nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** Make room in a tx batch, sending what it holds if needed. */
  private room(tx: TxBatch, port: TxPort, scratchLen: number, iovs = 2): boolean {
    if (tx.hasRoom(scratchLen, iovs)) return true;
    const payload = tx.payload;
    this.sendBatch(tx, port);
    tx.payload = payload;
    return tx.hasRoom(scratchLen, iovs);
  }

  private sendBatch(tx: TxBatch, port: TxPort): void {
    const queued = tx.count;
    if (queued === 0) return;
    const sent = port.send(tx);
    const rejected = port.lastRejected ?? 0;
    if (rejected) this.counters.drops[DROP['tx-rejected']] += rejected;
    if (sent + rejected < queued) this.counters.drops[DROP['tx-queue-full']] += queued - sent - rejected;
    tx.reset();
  }

  flush(): void {
    this.sendBatch(this.podTx, this.ports.pods);
    this.sendBatch(this.underlayTx, this.ports.underlay);
  }
}

