import { cidrMask, macToString } from '../packet/index.js';
import type { Peer as OverlayPeer } from '../overlay/index.js';

/**
 * The tables the pipeline reads. Only the control side (agent, peer source)
 * writes them; stages only look up. Keys are IPv4 addresses as uint32.
 */

/** Frames and bytes a pod sent and received through the pipeline (a GSO super-frame counts as one frame). */
export class PodTraffic {
  fromPodFrames = 0;
  fromPodBytes = 0;
  toPodFrames = 0;
  toPodBytes = 0;
}

/** VXLAN packets and bytes exchanged with one peer node (on the wire: after segmentation). */
export class PeerTraffic {
  txPackets = 0;
  txBytes = 0;
  rxPackets = 0;
  rxBytes = 0;
}

/**
 * Health of a peer as its agent answers our VXLAN pings to its gateway.
 * A peer that never answered (a kernel VTEP that does not, say) is never
 * marked down: only one whose agent went silent after answering.
 */
export class PeerHealth {
  answeredOnce = false;
  /** when the peer's agent was last heard: a health reply, or any VXLAN frame from it (only its agent sends those) */
  lastReplyMs = 0;
  /** the peer's received-frame count at the last health tick (traffic since then means its agent is alive) */
  rxAtLastTick = 0;
  down = false;
  probesSent = 0;
  repliesSeen = 0;
}

/** Local pods: IP -> MAC. Registered entries (the agent made the pod) beat learned ones. */
export class NeighborTable {
  private readonly macs = new Map<number, Buffer>();
  private readonly registered = new Set<number>();
  /** the cbr0 port (host veth ifindex) a registered pod's frames come in on */
  private readonly ports = new Map<number, number>();
  private readonly traffic = new Map<number, PodTraffic>();

  register(ip: number, mac: Buffer, port = 0): void {
    this.macs.set(ip, Buffer.from(mac));
    this.registered.add(ip);
    if (port > 0) this.ports.set(ip, port);
    else this.ports.delete(ip);
    if (!this.traffic.has(ip)) this.traffic.set(ip, new PodTraffic());
  }
  unregister(ip: number): void {
    this.macs.delete(ip);
    this.registered.delete(ip);
    this.ports.delete(ip);
    this.traffic.delete(ip);
  }
  /** Counters of a registered pod (undefined for others). */
  trafficOf(ip: number): PodTraffic | undefined {
    return this.traffic.get(ip);
  }
  trafficEntries(): [number, PodTraffic][] {
    return [...this.traffic];
  }
  /** Learn from ARP; never overrides what the agent registered. */
  learn(ip: number, mac: Buffer, macOff: number): void {
    if (this.registered.has(ip)) return;
    const cur = this.macs.get(ip);
    if (cur && cur.compare(mac, macOff, macOff + 6) === 0) return;
    this.macs.set(ip, Buffer.from(mac.subarray(macOff, macOff + 6)));
  }
  get(ip: number): Buffer | undefined {
    return this.macs.get(ip);
  }
  /** The MAC of a pod the agent made (undefined for any other address): who may send from this IP. */
  registeredMac(ip: number): Buffer | undefined {
    return this.registered.has(ip) ? this.macs.get(ip) : undefined;
  }
  /** The cbr0 port a registered pod sends from (0: not known): a frame from another port is not the pod's. */
  registeredPort(ip: number): number {
    return this.ports.get(ip) ?? 0;
  }
  entries(): { ip: number; mac: string; registered: boolean }[] {
    return [...this.macs].map(([ip, mac]) => ({ ip, mac: macToString(mac), registered: this.registered.has(ip) }));
  }
}

/** A peer node (overlay/peers.ts) with what the pipeline keeps of it. */
export interface Peer extends OverlayPeer {
  /** counters, attached by the pipeline (kept across peer-set changes) */
  traffic?: PeerTraffic;
  health?: PeerHealth;
}

/** Peer nodes by pod CIDR (longest prefix first) and by node IP. */
export class PeerTable {
  private byPrefix: { prefixLen: number; mask: number; map: Map<number, Peer> }[] = [];
  private readonly byNode = new Map<number, Peer>();

  replace(peers: Peer[]): void {
    this.byNode.clear();
    const lens = [...new Set(peers.map((p) => p.podCidr.prefixLen))].sort((a, b) => b - a);
    this.byPrefix = lens.map((prefixLen) => ({ prefixLen, mask: cidrMask(prefixLen), map: new Map() }));
    for (const p of peers) {
      this.byPrefix.find((b) => b.prefixLen === p.podCidr.prefixLen)!.map.set(p.podCidr.network, p);
      this.byNode.set(p.nodeIp, p);
    }
  }
  lookup(ip: number): Peer | undefined {
    for (const b of this.byPrefix) {
      const p = b.map.get((ip & b.mask) >>> 0);
      if (p) return p;
    }
    return undefined;
  }
  byNodeIp(ip: number): Peer | undefined {
    return this.byNode.get(ip);
  }
  list(): Peer[] {
    return [...this.byNode.values()];
  }
}

/** Underlay neighbours: peer node IP -> MAC, learned from ARP and from VXLAN frames. */
export class UnderlayNeighbors {
  private readonly macs = new Map<number, { mac: Buffer; seenMs: number }>();
  learn(ip: number, mac: Buffer, macOff: number, nowMs: number): void {
    const cur = this.macs.get(ip);
    if (cur && cur.mac.compare(mac, macOff, macOff + 6) === 0) {
      cur.seenMs = nowMs;
      return;
    }
    this.macs.set(ip, { mac: Buffer.from(mac.subarray(macOff, macOff + 6)), seenMs: nowMs });
  }
  get(ip: number): Buffer | undefined {
    return this.macs.get(ip)?.mac;
  }
  forget(ip: number): void {
    this.macs.delete(ip);
  }
  entries(): { ip: number; mac: string; seenMs: number }[] {
    return [...this.macs].map(([ip, e]) => ({ ip, mac: macToString(e.mac), seenMs: e.seenMs }));
  }
}
