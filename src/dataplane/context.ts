import { ArpView, EthernetView, Ipv4View, UdpView, VxlanView, VnetHdrView, type Cidr } from '../packet/index.js';
import type { TxBatch } from '../native/index.js';
import { TxBatch as TxBatchImpl } from '../native/index.js';
import type { OuterTemplate } from '../overlay/index.js';
import { Counters } from './counters.js';
import { DROP, dropReasonName, describeDropReason } from './drop-reasons.js';
import { NeighborTable, PeerTable, UnderlayNeighbors } from './tables.js';
import { TokenBucket } from './token-bucket.js';
import { Gro } from './gro.js';
import type { PipelineTracer, StageName } from './trace.js';
import type { LbState } from './lb-state.js';
import type { PolicySet } from '../policy/index.js';
import { HOLD_POINT_NAMES, probeKey, type HoldPoint, type ProbeHolds } from './trace-hold.js';

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
  /** the underlay subnet (eth0's): hosts on it are reached directly, others not at all (the lab has no router) */
  underlayCidr?: Cidr;
  /** the node's own port on cbr0 (pwh0's MAC): frames for the node's kernel that only the agent can hand over */
  hostMac?: Buffer;
  /** the bridge port of the node's own port (pwh1's ifindex): the only port the node's addresses may come from */
  hostPortIndex?: number;
}

/** Which port a frame came in on. */
export const PORT_PODS = 0;
export const PORT_UNDERLAY = 1;

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
  /** drop pod frames whose source IP/MAC is not the sending pod's (spoofed-source); default on */
  antiSpoofing?: boolean;
}

/** After processing, the peer we want an underlay MAC for, etc.: side effects the agent performs. */
export interface PipelineEvents {
  /** a peer's underlay MAC is unknown; resolve it (ARP on eth0) */
  onPeerUnresolved?(nodeIp: number): void;
}

/**
 * What every stage shares: the node, its tables, the header views frames
 * are wrapped in, the two tx batches, and the frame at hand (for drops and
 * the probe trace). The stages are plain functions taking this one object,
 * so every call site sees one shape; nothing here allocates per packet.
 * Stages read the tables; only Pipeline's methods (the agent) write them.
 */
export class PipelineContext {
  readonly counters = new Counters();
  readonly neighbors = new NeighborTable();
  readonly peers = new PeerTable();
  readonly underlayNeighbors = new UnderlayNeighbors();
  readonly podTx: TxBatch;
  readonly underlayTx: TxBatch;

  // Header views: a stage wraps the frame at hand in these (no parse, no copy).
  // `ip` stays wrapped around the frame's IPv4 header from stage to stage.
  readonly eth = new EthernetView();
  readonly ip = new Ipv4View();
  readonly arp = new ArpView();
  readonly udp = new UdpView();
  readonly vx = new VxlanView();
  readonly vnet = new VnetHdrView();
  readonly innerEth = new EthernetView();

  /** outer headers towards each peer node IP (see tunnel.ts) */
  readonly templates = new Map<number, OuterTemplate>();
  readonly icmpBucket: TokenBucket;
  /** pod IP -> when we last asked cbr0 for its MAC */
  readonly arpAsked = new Map<number, number>();
  /** underlay IP -> when we last asked eth0 for its MAC */
  readonly underlayAsked = new Map<number, number>();
  /** frames waiting for an underlay neighbour's ARP answer (to-underlay.ts) */
  readonly underlayHeld = new Map<number, { sinceMs: number; frames: Buffer[] }>();
  readonly clock: () => number;
  private ipId = 1;
  readonly gro: Gro | null;
  /** see PipelineOptions.antiSpoofing */
  antiSpoofing: boolean;
  tracer: PipelineTracer | null = null;
  /** the Service load balancer, conntrack and masquerade (null: pod routing only, as in dataplane-only labs) */
  lb: LbState | null = null;
  /** NetworkPolicy (policy-stage.ts; null: off, every pod open and flows untracked) */
  policy: PolicySet | null = null;
  // what the Service stage found for the frame at hand: a tracked flow (its
  // conntrack entry matched), or the entry it created (-1: none)
  ctKnown = false;
  ctCreated = -1;
  // the frame being processed, for the tracer
  curBuf: Buffer = Buffer.alloc(0);
  curOff = 0;
  curLen = 0;
  curPort = PORT_PODS;
  /** the cbr0 port (ifindex) the frame at hand came in on; 0: not known (a test's frame, a released probe) */
  curIfindex = 0;
  // a traced probe: IPv4 source + identification; curProbe marks the frame at hand
  probe: { src: number; id: number } | null = null;
  curProbe = false;
  /** step mode: where the probe is parked (null: never held) */
  holds: ProbeHolds | null = null;

  /**
   * The frame at hand came in on this port (the pod socket takes each frame on
   * the veth it entered by, src/agent/datapath.ts): a pod that
   * forges another pod's IP *and* MAC still sends from its own veth. Unknown
   * on either side (0): not judged by port.
   */
  cameFromPort(port: number): boolean {
    return port === 0 || this.curIfindex === 0 || this.curIfindex === port;
  }

  constructor(
    readonly id: NodeIdentity,
    readonly ports: { pods: TxPort; underlay: TxPort },
    options: PipelineOptions,
    readonly events: PipelineEvents,
  ) {
    this.clock = options.clock ?? (() => performance.now());
    this.antiSpoofing = options.antiSpoofing ?? true;
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

  // ---------------------------------------------------------- drops and trace

  /**
   * Count a drop of the current frame under `reason`, and show it to the
   * tracer; `detail` names what it is about (a Service, a policy), if anything.
   */
  drop(reason: number, detail?: string): void {
    this.counters.drops[reason]++;
    if (this.tracer !== null) {
      this.tracer.dropped(reason, this.curPort, this.curBuf, this.curOff, this.curLen, detail);
      if (this.curProbe) {
        const name = dropReasonName(reason);
        this.stage(
          'drop',
          `${name}${detail ? ` (${detail})` : ''} — ${describeDropReason(name)}`,
          detail ? { reason: name, detail } : { reason: name },
        );
      }
    }
  }

  /**
   * Step mode: park the probe (the frame at hand, from its virtio-net
   * header at `slot`) at `point` unless it was released from there: a copy
   * waits in `holds`, the caller stops processing it. Callers check
   * curProbe first, so no other packet pays for this.
   */
  parkProbe(point: HoldPoint, buf: Buffer, slot: number, len: number): boolean {
    const h = this.holds;
    const p = this.probe;
    if (h === null || p === null) return false;
    const key = probeKey(p.src, p.id);
    if (!h.shouldPark(key, point)) return false;
    h.park(key, point, Buffer.from(buf.subarray(slot, slot + len)), this.curPort, this.clock());
    this.stage('held', `held ${HOLD_POINT_NAMES[point]} (step mode): only this probe waits, until released`, {
      point: HOLD_POINT_NAMES[point],
    });
    return true;
  }

  isProbe(src: number, id: number): boolean {
    const p = this.probe;
    return p !== null && p.src === src && p.id === id;
  }

  /** Tell the tracer what a stage decided about the probe (callers check curProbe first). */
  stage(stage: StageName, detail: string, data?: Record<string, unknown>): void {
    this.tracer?.stage?.({ stage, detail, data });
  }

  // ------------------------------------------------------------------ output

  nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** Make room in a tx batch, sending what it holds if needed. */
  room(tx: TxBatch, port: TxPort, scratchLen: number, iovs = 2): boolean {
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
