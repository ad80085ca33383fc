import { Conntrack, ServiceTable, type Backend, type Frontend } from '../lb/index.js';
import { cidrContains, type Cidr } from '../packet/index.js';

/**
 * What the Service stage (service-stage.ts) reads per packet, in one place:
 * the frontend table (written by the agent's Service watch), the
 * connection-tracking table (written only by the stage itself), the
 * backends conntrack entries point at, ClientIP affinity, and the node's
 * port range for SNAT and masquerade.
 */

/** Conntrack entry flags (what the entry does besides tracking). */
export const CT_DNAT = 1; // a Service frontend translated the destination
export const CT_SNAT = 2; // the source became the node (hairpin, external traffic with ETP Cluster)
export const CT_MASQ = 4; // pod → outside: the source became the node's underlay IP
export const CT_FROM_UNDERLAY = 8; // the flow came in on eth0 (NodePort, LB, externalIP)
export const CT_POLICY = 16; // tracked for NetworkPolicy only (policy-stage.ts): no translation, replies pass
/** the flags that mean the entry rewrites packets */
export const CT_TRANSLATES = CT_DNAT | CT_SNAT | CT_MASQ;

/**
 * The address a node SNATs Service traffic to when the reply must come back
 * through it (hairpin, external traffic with ETP Cluster): the last host
 * address of its pod CIDR (10.244.1.254). Inside the pod CIDR, so every
 * node routes it here over VXLAN; not the gateway, which the node's kernel
 * owns and would answer with resets. The agent answers ARP for it; IPAM
 * never hands it out.
 */
export function serviceSnatIp(podCidr: Cidr): number {
  return (podCidr.network + 2 ** (32 - podCidr.prefixLen) - 2) >>> 0;
}

/** How long a datagram's later fragments follow its first (Linux's ipfrag_time is 30 s; fragments of one datagram arrive together) */
const FRAGMENT_MS = 5000;

export interface LbOptions {
  /** Services' ClusterIP range: a packet to an unknown address in it is not routed anywhere */
  serviceCidr: Cidr;
  /** every pod address of the cluster: never masqueraded */
  clusterCidr: Cidr;
  /**
   * Source ports for SNAT and masquerade on the node's addresses: above
   * Linux's ephemeral range (32768–60999), so they never collide with the
   * node's own sockets; the node's tc filter keeps the kernel from
   * answering packets to them (it would reset them).
   */
  natPorts?: [number, number];
  /** the NodePort range: the underlay filters let these through to the agent */
  nodePorts?: [number, number];
  /** see serviceSnatIp */
  snatIp: number;
  conntrack?: Conntrack;
  table?: ServiceTable;
  clock?: () => number;
}

interface Affinity {
  backend: Backend;
  expiresMs: number;
}

export class LbState {
  readonly table: ServiceTable;
  readonly conntrack: Conntrack;
  readonly serviceCidr: Cidr;
  readonly clusterCidr: Cidr;
  readonly natPortMin: number;
  readonly natPortMax: number;
  readonly nodePortMin: number;
  readonly nodePortMax: number;
  readonly clock: () => number;
  readonly snatIp: number;
  /** backend by id (conntrack entries' owner); ids are never reused, so an old entry never names a new backend */
  private readonly backends: Backend[] = [];
  /** frontend key -> the frontend and, per client IP, the backend it sticks to */
  private readonly affinity = new Map<number, { fe: Frontend; clients: Map<number, Affinity> }>();
  private natCursor: number;
  /** node ports the node's kernel serves (Services' healthCheckNodePorts): the agent leaves them alone */
  readonly kernelPorts = new Set<number>();
  readonly stats = { newServiceFlows: 0, newMasqueradeFlows: 0, rejected: 0, affinityHits: 0 };

  constructor(opts: LbOptions) {
    this.clock = opts.clock ?? (() => performance.now());
    this.serviceCidr = opts.serviceCidr;
    this.clusterCidr = opts.clusterCidr;
    [this.natPortMin, this.natPortMax] = opts.natPorts ?? [61000, 65535];
    [this.nodePortMin, this.nodePortMax] = opts.nodePorts ?? [30000, 32767];
    this.natCursor = this.natPortMin;
    this.snatIp = opts.snatIp;
    this.table = opts.table ?? new ServiceTable();
    this.conntrack =
      opts.conntrack ??
      new Conntrack({
        clock: () => this.clock(),
        onRemoved: (owner) => {
          const b = this.backends[owner];
          if (b !== undefined && b.active > 0) b.active--;
        },
      });
  }

  /** The backend id a conntrack entry records (registering the backend on first use). */
  idOf(b: Backend): number {
    if (b.id < 0) {
      b.id = this.backends.length;
      this.backends.push(b);
    }
    return b.id;
  }

  backendOf(owner: number): Backend | undefined {
    return owner >= 0 ? this.backends[owner] : undefined;
  }

  /** The backend a client sticks to on this frontend, if still usable and not expired. */
  stickyBackend(fe: Frontend, client: number, nowMs: number): Backend | undefined {
    const m = this.affinity.get(fe.key)?.clients;
    const a = m?.get(client);
    if (a === undefined) return undefined;
    if (
      a.expiresMs <= nowMs ||
      a.backend.removed ||
      !(fe.backends.includes(a.backend) || fe.internal?.backends.includes(a.backend))
    ) {
      m!.delete(client);
      return undefined;
    }
    return a.backend;
  }

  /** Remember (or refresh: every packet of the flow counts, as in kube-proxy's `recent` match) the client's backend. */
  stick(fe: Frontend, client: number, b: Backend, nowMs: number): void {
    let e = this.affinity.get(fe.key);
    if (e === undefined) this.affinity.set(fe.key, (e = { fe, clients: new Map() }));
    e.fe = fe;
    const m = e.clients;
    const a = m.get(client);
    if (a !== undefined && a.backend === b) a.expiresMs = nowMs + fe.affinityTimeoutMs;
    else m.set(client, { backend: b, expiresMs: nowMs + fe.affinityTimeoutMs });
  }

  /** Forget affinity of frontends that are gone and entries that expired (a timer's job). */
  sweepAffinity(nowMs: number): void {
    for (const [key, { fe, clients }] of this.affinity) {
      const now =
        fe.ip === 0 ? this.table.lookupNodePort(fe.port, fe.proto) : this.table.lookup(fe.ip, fe.port, fe.proto);
      if (now === undefined) {
        this.affinity.delete(key);
        continue;
      }
      for (const [client, a] of clients) if (a.expiresMs <= nowMs) clients.delete(client);
    }
  }

  /**
   * A source port on `natIp` for a new translated flow towards
   * remote:remotePort: `preferred` if that reply tuple is free (kube-proxy's
   * SNAT keeps the client's port when it can), else the next free one in
   * the NAT range. -1 when every port is taken.
   */
  allocPort(proto: number, remote: number, remotePort: number, natIp: number, preferred: number): number {
    const ct = this.conntrack;
    if (preferred > 0 && ct.lookup(proto, remote, remotePort, natIp, preferred) < 0) return preferred;
    const span = this.natPortMax - this.natPortMin + 1;
    for (let i = 0; i < span; i++) {
      const p = this.natCursor;
      this.natCursor = p === this.natPortMax ? this.natPortMin : p + 1;
      if (ct.lookup(proto, remote, remotePort, natIp, p) < 0) return p;
    }
    return -1;
  }

  /** first fragment's (proto, src, dst, IP id) -> the addresses it was translated to; short-lived */
  private readonly fragments = new Map<string, { src: number; dst: number; expiresMs: number }>();

  rememberFragment(proto: number, src: number, dst: number, id: number, newSrc: number, newDst: number): void {
    if (this.fragments.size >= 4096) this.fragments.clear(); // a flood of first fragments must not grow memory
    this.fragments.set(`${proto}:${src}:${dst}:${id}`, {
      src: newSrc,
      dst: newDst,
      expiresMs: this.clock() + FRAGMENT_MS,
    });
  }

  fragmentTranslation(proto: number, src: number, dst: number, id: number): { src: number; dst: number } | undefined {
    if (this.fragments.size === 0) return undefined;
    const key = `${proto}:${src}:${dst}:${id}`;
    const f = this.fragments.get(key);
    if (f === undefined) return undefined;
    if (f.expiresMs <= this.clock()) {
      this.fragments.delete(key);
      return undefined;
    }
    return f;
  }

  isServiceAddress(ip: number): boolean {
    return cidrContains(this.serviceCidr, ip) || this.table.isServiceIp(ip);
  }

  /** Remove the UDP flows translated to ip:port (a backend no longer usable); returns how many. */
  flushUdpBackend(ip: number, port: number): number {
    const ct = this.conntrack;
    return ct.removeWhere(
      (e) => ct.proto(e) === 17 && (ct.flags(e) & CT_DNAT) !== 0 && ct.replySrc(e) === ip && ct.replySport(e) === port,
    );
  }
}
