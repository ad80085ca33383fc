import {
  PacketSocket,
  RxBatch,
  underlayFilter,
  underlayServicesFilter,
  type UnderlayPorts,
  compileFilter,
  exceptInterfacesFilter,
  DROP_ALL_FILTER,
} from '../native/index.js';
import { Pipeline, type NodeIdentity } from '../dataplane/index.js';

/** 64 KiB GSO super-frames plus the virtio_net_hdr fit one slot. */
const POD_SLOT = 65536 + 128;
const POD_SLOTS = 64;
/**
 * The underlay carries 1500-byte frames, but not only: what an outside
 * client sends to a NodePort or LoadBalancer IP arrives as the kernel hands
 * it over, GRO'd or TSO'd into super-frames of up to 64 KiB, as the pods' do.
 */
const UNDERLAY_SLOT = POD_SLOT;
const UNDERLAY_SLOTS = 256;
/** Batches per readiness callback before yielding to the other socket. */
const BATCHES_PER_TURN = 8;
const SOCKET_BUFFER_BYTES = 32 << 20;
/**
 * The PACKET_FANOUT groups (per network namespace, so per node) the agent's
 * sockets join: a restarting agent's successor joins the same groups and
 * takes cbr0 and eth0 over when its predecessor leaves (handover.ts).
 */
export const FANOUT_GROUPS = { pods: 0x7079, underlay: 0x7078 };

/**
 * The Linux side of the dataplane: packet sockets feeding one Pipeline,
 * driven by libuv readiness.
 * - pods, receive: one socket on every interface of the node but lo, eth0,
 *   cbr0 and the node's kernel port — so each frame a pod sends is taken on
 *   the pod's own veth, and the pipeline knows which pod's port it came from
 *   (anti-spoofing: a pod forging another pod's IP *and* MAC is still caught;
 *   on cbr0 every frame looks alike, and PACKET_ORIGDEV names the bridge,
 *   not the port, as the bridge passes frames up in a second receive);
 * - the underlay, receive: eth0, filtered to what is the agent's;
 * - sending: a socket on cbr0 (the bridge delivers to the pod whose MAC a
 *   frame is for) and one on eth0, both receiving nothing.
 * The receiving sockets are opened by start(), when the agent's tables are
 * filled: they join the fanout groups, and a successor taking the node over
 * (handover.ts) must not be handed frames before it can forward them.
 */
export class Datapath {
  readonly pipeline: Pipeline;
  private readonly podSock: PacketSocket;
  private readonly underlaySock: PacketSocket;
  private podRxSock: PacketSocket | null = null;
  private underlayRxSock: PacketSocket | null = null;
  private readonly podRx = new RxBatch(POD_SLOT, POD_SLOTS, false, false, true);
  private readonly underlayRx = new RxBatch(UNDERLAY_SLOT, UNDERLAY_SLOTS);
  private readonly common = {
    vnetHdr: true,
    ignoreOutgoing: true,
    rcvbufBytes: SOCKET_BUFFER_BYTES,
    sndbufBytes: SOCKET_BUFFER_BYTES,
  };
  private readonly podRxFilter: Buffer;
  private readonly underlayRxFilter: Buffer;
  private timers: NodeJS.Timeout[] = [];
  kernelDrops = { pods: 0, underlay: 0 };
  /** exceptions caught around a batch: a bug, never expected; counted, never fatal */
  internalErrors = 0;
  private lastError = '';

  /** `services`: the agent runs Services, so its underlay socket also takes NodePort, NAT-range and MAC-steered traffic. */
  constructor(
    identity: Omit<NodeIdentity, 'nodeMac' | 'gatewayMac'>,
    private readonly bridge: string,
    private readonly underlayIf: string,
    services?: UnderlayPorts,
    antiSpoofing = true,
    /** the node's own kernel port on cbr0 (pwh0), whose frames are the agent's own sends to the node */
    kernelPort?: string,
  ) {
    // No PACKET_QDISC_BYPASS: it would skip the kernel's packet taps, and
    // tcpdump on eth0 or cbr0 would not see what the agent sends.
    const sendOnly = { ...this.common, filter: compileFilter(DROP_ALL_FILTER) };
    this.podSock = PacketSocket.open(bridge, sendOnly);
    try {
      this.underlaySock = PacketSocket.open(underlayIf, sendOnly);
    } catch (err) {
      this.podSock.close();
      throw err;
    }
    const excluded = ['lo', underlayIf, bridge, ...(kernelPort ? [kernelPort] : [])]
      .map((n) => PacketSocket.ifIndex(n))
      .filter((i) => i > 0);
    this.podRxFilter = compileFilter(exceptInterfacesFilter(excluded));
    this.underlayRxFilter = compileFilter(
      services ? underlayServicesFilter(identity.vxlanPort, services) : underlayFilter(identity.vxlanPort),
    );
    const full: NodeIdentity = { ...identity, nodeMac: this.underlaySock.mac, gatewayMac: this.podSock.mac };
    this.pipeline = new Pipeline(
      full,
      { pods: this.podSock, underlay: this.underlaySock },
      { antiSpoofing },
      {
        onPeerUnresolved: (ip) => this.resolvePeer(ip),
      },
    );
  }

  /** Open the receiving sockets (joining the fanout groups) and forward what they take. */
  start(): void {
    const podRx = PacketSocket.open('', { ...this.common, fanoutGroup: FANOUT_GROUPS.pods, filter: this.podRxFilter });
    let underlayRx: PacketSocket;
    try {
      underlayRx = PacketSocket.open(this.underlayIf, {
        ...this.common,
        fanoutGroup: FANOUT_GROUPS.underlay,
        filter: this.underlayRxFilter,
      });
    } catch (err) {
      podRx.close();
      throw err;
    }
    this.podRxSock = podRx;
    this.underlayRxSock = underlayRx;
    podRx.onReadable(() => {
      for (let b = 0; b < BATCHES_PER_TURN; b++) {
        if (podRx.recv(this.podRx) === 0) break;
        this.guard(() => this.pipeline.processFromPods(this.podRx));
      }
    });
    underlayRx.onReadable(() => {
      for (let b = 0; b < BATCHES_PER_TURN; b++) {
        if (underlayRx.recv(this.underlayRx) === 0) break;
        this.guard(() => this.pipeline.processFromUnderlay(this.underlayRx));
      }
    });
    // Peers' underlay MACs: ask for the missing often, refresh the known now and then.
    let tick = 0;
    const arpTimer = setInterval(() => {
      tick++;
      for (const peer of this.pipeline.peers.list()) {
        if (!this.pipeline.underlayNeighbors.get(peer.nodeIp) || tick % 20 === 0)
          this.pipeline.queueUnderlayArp(peer.nodeIp);
      }
      this.pipeline.flush();
    }, 500);
    arpTimer.unref();
    const healthTimer = setInterval(() => this.pipeline.healthTick(), 1000);
    healthTimer.unref();
    this.timers.push(healthTimer);
    const statsTimer = setInterval(() => {
      this.kernelDrops.pods += podRx.kernelStats().drops;
      this.kernelDrops.underlay += underlayRx.kernelStats().drops;
    }, 1000);
    statsTimer.unref();
    this.timers.push(arpTimer, statsTimer);
  }

  /** The agent never dies on a packet: a bug in a stage costs that batch, is counted and logged once. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.internalErrors++;
      const msg = (err as Error).stack ?? String(err);
      if (msg !== this.lastError) {
        this.lastError = msg;
        console.error(`internal error in pipeline (batch dropped): ${msg}`);
      }
      this.pipeline.podTx.reset();
      this.pipeline.underlayTx.reset();
    }
  }

  private resolvePeer(ip: number): void {
    // Called mid-batch; the request rides out with this batch's flush.
    this.pipeline.queueUnderlayArp(ip);
  }

  get macs(): { node: Buffer; gateway: Buffer } {
    return { node: this.underlaySock.mac, gateway: this.podSock.mac };
  }

  /**
   * Let go of the node for a successor (handover.ts): take no new frame —
   * the successor, in the same fanout groups, gets every one from that
   * instant — forward what is queued, then close.
   */
  release(): void {
    const pods = this.podRxSock;
    const underlay = this.underlayRxSock;
    // new frames go to the successor from now on; what is queued here is forwarded before the close
    // (a frame queued at the close would be lost: the kernel drops a closed socket's queue)
    pods?.stopTaking();
    underlay?.stopTaking();
    for (let b = 0; b < 4096 && pods && underlay; b++) {
      const p = pods.recv(this.podRx);
      if (p) this.guard(() => this.pipeline.processFromPods(this.podRx));
      const u = underlay.recv(this.underlayRx);
      if (u) this.guard(() => this.pipeline.processFromUnderlay(this.underlayRx));
      if (!p && !u) break;
    }
    this.stop();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.podRxSock?.close();
    this.underlayRxSock?.close();
    this.podSock.close();
    this.underlaySock.close();
  }
}
