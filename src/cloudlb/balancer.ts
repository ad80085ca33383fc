import {
  ArpView,
  ARP_REQUEST,
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_SYN,
  flowHash,
  macEquals,
  BROADCAST_MAC,
} from '../packet/index.js';
import { FlowTable } from './flow-table.js';
import { pickNode } from './pick.js';

/**
 * The cloud load balancer's per-frame decision, without any socket (so the
 * unit tests feed it frames): answer ARP for the EXTERNAL-IPs it holds,
 * learn the nodes' MACs from their ARP, and choose a node for each frame to
 * an EXTERNAL-IP — by connection tracking, else by rendezvous hash of the
 * 5-tuple over the Service's healthy nodes (all nodes when none is healthy:
 * GCP's last resort). The frame itself is never changed here; the forwarder
 * rewrites only its Ethernet addresses (passthrough: the IP packet keeps the
 * EXTERNAL-IP as destination, and the node answers the client directly).
 */
export type LbDropReason =
  /** an IPv4 frame to another MAC (the bridge flooded it) */
  | 'not-for-us'
  | 'malformed'
  /** to an address of the pool no Service holds */
  | 'no-frontend'
  /** a protocol or port the Service does not list (ICMP included) */
  | 'no-port'
  /** the Service has no node at all */
  | 'no-node'
  /** the chosen node's MAC is not known yet (an ARP request goes out) */
  | 'node-mac-unresolved';

export const LB_DROP_REASONS: readonly LbDropReason[] = [
  'not-for-us',
  'malformed',
  'no-frontend',
  'no-port',
  'no-node',
  'node-mac-unresolved',
];

export interface LbFrontend {
  /** namespace/name */
  service: string;
  ip: number;
  /** (protocol << 16) | port, for each Service port */
  ports: Set<number>;
}

export interface LbNode {
  name: string;
  ip: number;
  mac: Buffer | null;
}

/** A Service's candidate nodes for new flows: its healthy ones, or all (failOpen) when none is. */
export interface Candidates {
  ips: number[];
  failOpen: boolean;
}

export type LbDecision =
  | { kind: 'arp-reply' }
  | { kind: 'ignore' }
  /** `flow`: set when this frame started a new flow (a new choice was made) */
  | {
      kind: 'forward';
      node: LbNode;
      frontend: LbFrontend;
      flow?: { src: number; dst: number; proto: number; ports: number };
    }
  | { kind: 'drop'; reason: LbDropReason; node?: LbNode };

export const portKey = (proto: number, port: number) => ((proto & 0xff) << 16) | (port & 0xffff);

export class Balancer {
  readonly frontends = new Map<number, LbFrontend>();
  readonly nodes = new Map<number, LbNode>();
  readonly candidates = new Map<string, Candidates>();
  readonly flows: FlowTable;
  readonly counters = {
    arpReplies: 0,
    forwarded: 0,
    forwardedBytes: 0,
    drops: Object.fromEntries(LB_DROP_REASONS.map((r) => [r, 0])) as Record<LbDropReason, number>,
    /** frames forwarded per "service|node" */
    perPath: new Map<string, number>(),
  };
  private readonly arp = new ArpView();

  constructor(
    readonly ownMac: Buffer,
    flows = new FlowTable(),
  ) {
    this.flows = flows;
  }

  /** The nodes (name, IP), keeping MACs already learned. */
  setNodes(nodes: { name: string; ip: number }[]): void {
    const keep = new Set(nodes.map((n) => n.ip));
    for (const ip of [...this.nodes.keys()]) if (!keep.has(ip)) this.nodes.delete(ip);
    for (const n of nodes) {
      const old = this.nodes.get(n.ip);
      this.nodes.set(n.ip, { name: n.name, ip: n.ip, mac: old?.mac ?? null });
    }
  }

  setFrontends(list: LbFrontend[]): void {
    this.frontends.clear();
    for (const f of list) this.frontends.set(f.ip, f);
    for (const s of [...this.candidates.keys()]) if (!list.some((f) => f.service === s)) this.candidates.delete(s);
  }

  setCandidates(service: string, c: Candidates): void {
    this.candidates.set(service, { ips: [...c.ips].sort((a, b) => a - b), failOpen: c.failOpen });
  }

  learnMac(ip: number, mac: Buffer): boolean {
    const n = this.nodes.get(ip);
    if (!n || (n.mac && n.mac.equals(mac))) return false;
    n.mac = Buffer.from(mac);
    return true;
  }

  /** One frame at buf[off, off+len) (Ethernet first). */
  decide(buf: Buffer, off: number, len: number, nowMs: number): LbDecision {
    if (len < ETHERNET_HEADER_SIZE) return this.drop('malformed');
    const ethertype = buf.readUInt16BE(off + 12);
    const l3 = off + ETHERNET_HEADER_SIZE;
    if (ethertype === ETHERTYPE_ARP) {
      const a = this.arp.wrap(buf, l3, len - ETHERNET_HEADER_SIZE);
      if (!a.isValid()) return this.drop('malformed');
      const sender = this.nodes.get(a.senderIp);
      if (sender) {
        const mac = Buffer.allocUnsafe(6);
        a.copySenderMacTo(mac, 0);
        this.learnMac(a.senderIp, mac);
      }
      if (a.op === ARP_REQUEST && !a.isGratuitous() && this.frontends.has(a.targetIp)) {
        this.counters.arpReplies++;
        return { kind: 'arp-reply' };
      }
      return { kind: 'ignore' };
    }
    if (ethertype !== ETHERTYPE_IPV4) return { kind: 'ignore' };
    if (!macEquals(buf, off, this.ownMac, 0)) {
      if (macEquals(buf, off, BROADCAST_MAC, 0)) return { kind: 'ignore' };
      return this.drop('not-for-us');
    }
    const ipLen = len - ETHERNET_HEADER_SIZE;
    if (ipLen < 20 || buf[l3] >> 4 !== 4) return this.drop('malformed');
    const ihl = (buf[l3] & 0x0f) * 4;
    if (ihl < 20 || ihl > ipLen) return this.drop('malformed');
    const proto = buf[l3 + 9];
    const src = buf.readUInt32BE(l3 + 12);
    const dst = buf.readUInt32BE(l3 + 16);
    const frontend = this.frontends.get(dst);
    if (!frontend) return this.drop('no-frontend');
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return this.drop('no-port');
    const fragOff = buf.readUInt16BE(l3 + 6) & 0x1fff;
    const l4 = l3 + ihl;
    let ports = 0;
    let syn = false;
    if (fragOff === 0) {
      if (l4 + 4 > off + len) return this.drop('malformed');
      ports = buf.readUInt32BE(l4);
      if (!frontend.ports.has(portKey(proto, ports & 0xffff))) return this.drop('no-port');
      if (proto === IPPROTO_TCP && l4 + 14 <= off + len) {
        const flags = buf[l4 + 13];
        syn = (flags & TCP_SYN) !== 0 && (flags & TCP_ACK) === 0;
      }
    }
    const cand = this.candidates.get(frontend.service);
    if (!cand || cand.ips.length === 0) return this.drop('no-node');
    const key = FlowTable.key(src, dst, proto, ports);
    let nodeIp = -1;
    let fresh = false;
    const tracked = syn ? undefined : this.flows.lookup(key, nowMs);
    // An established TCP connection stays on its node while the node exists;
    // a UDP flow only while its node is still a candidate.
    if (tracked && (proto === IPPROTO_TCP ? this.nodes.has(tracked.nodeIp) : cand.ips.includes(tracked.nodeIp)))
      nodeIp = tracked.nodeIp;
    else {
      nodeIp = cand.ips[pickNode(flowHash(buf.subarray(0, off + len), l3), cand.ips)];
      this.flows.record(key, nodeIp, nowMs);
      fresh = true;
    }
    const node = this.nodes.get(nodeIp);
    if (!node) return this.drop('no-node');
    if (!node.mac) return { ...this.drop('node-mac-unresolved'), node };
    this.counters.forwarded++;
    this.counters.forwardedBytes += len;
    const path = `${frontend.service}|${node.name}`;
    this.counters.perPath.set(path, (this.counters.perPath.get(path) ?? 0) + 1);
    return fresh
      ? { kind: 'forward', node, frontend, flow: { src, dst, proto, ports } }
      : { kind: 'forward', node, frontend };
  }

  private drop(reason: LbDropReason): { kind: 'drop'; reason: LbDropReason } {
    this.counters.drops[reason]++;
    return { kind: 'drop', reason };
  }
}
