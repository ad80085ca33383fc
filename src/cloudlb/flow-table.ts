/**
 * The load balancer's connection tracking, after GCP's passthrough load
 * balancers: the node chosen for a connection is remembered, so a change in
 * the healthy set moves new connections only. A TCP SYN always starts a new
 * connection (PER_CONNECTION tracking); an established TCP connection stays
 * on its node even when that node turns unhealthy (connection persistence on
 * unhealthy backends, GCP's default for TCP), a UDP flow does not. Entries
 * idle for `idleMs` (GCP: 600 s) are forgotten.
 */
export interface FlowEntry {
  nodeIp: number;
  lastSeenMs: number;
}

export class FlowTable {
  private readonly flows = new Map<string, FlowEntry>();
  constructor(
    readonly idleMs = 600_000,
    readonly maxEntries = 65_536,
  ) {}

  static key(src: number, dst: number, proto: number, ports: number): string {
    return `${src}:${dst}:${proto}:${ports}`;
  }

  get size(): number {
    return this.flows.size;
  }

  lookup(key: string, nowMs: number): FlowEntry | undefined {
    const e = this.flows.get(key);
    if (!e) return undefined;
    if (nowMs - e.lastSeenMs > this.idleMs) {
      this.flows.delete(key);
      return undefined;
    }
    e.lastSeenMs = nowMs;
    return e;
  }

  record(key: string, nodeIp: number, nowMs: number): void {
    if (!this.flows.has(key) && this.flows.size >= this.maxEntries) {
      // full: forget the oldest entry (Map iterates in insertion order)
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) this.flows.delete(oldest);
    }
    this.flows.delete(key);
    this.flows.set(key, { nodeIp, lastSeenMs: nowMs });
  }

  forget(key: string): void {
    this.flows.delete(key);
  }

  /** Drop idle entries; returns how many went. */
  sweep(nowMs: number): number {
    let n = 0;
    for (const [k, e] of this.flows) {
      if (nowMs - e.lastSeenMs > this.idleMs) {
        this.flows.delete(k);
        n++;
      }
    }
    return n;
  }

  /** Flows per node (for /status). */
  perNode(): Map<number, number> {
    const out = new Map<number, number>();
    for (const e of this.flows.values()) out.set(e.nodeIp, (out.get(e.nodeIp) ?? 0) + 1);
    return out;
  }
}
