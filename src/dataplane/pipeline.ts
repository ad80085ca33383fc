import type { RxBatch, TxBatch } from '../native/index.js';
import { VNET_HDR_SIZE } from '../packet/index.js';
import { queueUnderlayArp } from './arp.js';
import {
  PipelineContext,
  type NodeIdentity,
  type PipelineEvents,
  type PipelineOptions,
  type TxPort,
} from './context.js';
import type { Counters } from './counters.js';
import { processFromPods, resumeFromPods } from './from-pods.js';
import { resumeDelivery } from './to-pods.js';
import { DROP } from './drop-reasons.js';
import { resumeEncap } from './encap.js';
import { HOLD_ENCAP, HOLD_POD_RX, HOLD_POINT_NAMES, ProbeHolds, probeKey, type HeldProbe } from './trace-hold.js';
import { processFromUnderlay } from './from-underlay.js';
import type { Gro } from './gro.js';
import { sendHealthProbes } from './health.js';
import {
  PeerTraffic,
  PeerHealth,
  type NeighborTable,
  type PeerTable,
  type Peer,
  type UnderlayNeighbors,
} from './tables.js';
import type { PipelineTracer } from './trace.js';
import { learnUnderlay } from './tunnel.js';
import type { LbState } from './lb-state.js';
import type { PolicySet } from '../policy/index.js';

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

  constructor(
    readonly id: NodeIdentity,
    ports: { pods: TxPort; underlay: TxPort },
    options: PipelineOptions = {},
    events: PipelineEvents = {},
  ) {
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

  /**
   * Turn on the Service stage (load balancer, conntrack, masquerade) with
   * its tables; null turns it off (pod routing only).
   */
  setLoadBalancer(lb: LbState | null): void {
    this.ctx.lb = lb;
  }

  get lb(): LbState | null {
    return this.ctx.lb;
  }

  /**
   * NetworkPolicy (policy-stage.ts): a compiled set makes the stage judge
   * new connections and track every pod flow; null turns it off. Needs the
   * Service stage's conntrack (setLoadBalancer) to do anything.
   */
  setPolicy(policy: PolicySet | null): void {
    this.ctx.policy = policy;
  }

  get policy(): PolicySet | null {
    return this.ctx.policy;
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

  /**
   * Step mode (podwire ui): hold the probe being followed at this node's
   * hold points (trace-hold.ts) until releaseProbe; `on` false ends it and
   * drops whatever is still parked (trace-hold-expired).
   */
  holdProbe(probe: { src: number; id: number }, on: boolean, timeoutMs?: number): void {
    const key = probeKey(probe.src, probe.id);
    if (on) {
      if (this.ctx.holds === null) this.ctx.holds = new ProbeHolds(timeoutMs);
      this.ctx.holds.enable(key);
      return;
    }
    const h = this.ctx.holds;
    if (h === null) return;
    const left = h.disable(key);
    if (left) this.ctx.counters.drops[DROP['trace-hold-expired']]++;
    if (h.size === 0) this.ctx.holds = null;
  }

  /** "next": send the parked probe on from where it waits; says where that was, or null (nothing parked here). */
  releaseProbe(probe: { src: number; id: number }): string | null {
    const held = this.ctx.holds?.release(probeKey(probe.src, probe.id)) ?? null;
    if (held === null) return null;
    this.resume(held);
    return HOLD_POINT_NAMES[held.point];
  }

  /** The agent's timer: probes parked longer than the hold timeout are dropped (trace-hold-expired, counted and traced). */
  expireHolds(): number {
    const gone = this.ctx.holds?.expire(this.ctx.clock()) ?? [];
    for (const g of gone) {
      const ctx = this.ctx;
      ctx.curBuf = g.frame;
      ctx.curOff = VNET_HDR_SIZE;
      ctx.curLen = g.frame.length - VNET_HDR_SIZE;
      ctx.curPort = g.port;
      ctx.curProbe = true;
      ctx.drop(DROP['trace-hold-expired']);
      ctx.curProbe = false;
    }
    return gone.length;
  }

  private resume(held: HeldProbe): void {
    if (held.point === HOLD_POD_RX) resumeFromPods(this.ctx, held.frame);
    else if (held.point === HOLD_ENCAP) resumeEncap(this.ctx, held.frame, held.port);
    else resumeDelivery(this.ctx, held.frame, held.port);
    this.ctx.curProbe = false;
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
