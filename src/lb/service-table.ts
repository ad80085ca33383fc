/**
 * The per-node Service table the dataplane reads per packet. Only the
 * agent's watch writes it, one Service at a time: setService swaps that
 * Service's frontends in (cost ∝ that Service, not the cluster), and returns
 * what changed so the agent can flush conntrack entries of backends that
 * went away.
 *
 * mode 'hash' (default): lookup is one Map get on frontendKey — a number,
 * so no string is built per packet. mode 'linear' (--proxy-mode linear):
 * lookups scan kube-proxy-style rule lists (linear.ts), O(frontends).
 */

import { endpointIdentity } from './compile.js';
import { LinearTable } from './linear.js';
import { formatFrontend, frontendKey, type Backend, type Frontend } from './types.js';
import { ipv4ToString } from '../packet/index.js';

export type ProxyMode = 'hash' | 'linear';

export interface ServiceTableOptions {
  mode?: ProxyMode;
}

/** A backend new flows can no longer reach through one frontend: its conntrack entries are stale. */
export interface RemovedBackend {
  service: string;
  /** the frontend the entries were DNATed from (ip 0: a NodePort on any local address) */
  frontendIp: number;
  frontendPort: number;
  proto: number;
  ip: number;
  port: number;
}

export interface ServiceChange {
  service: string;
  added: Frontend[];
  removed: Frontend[];
  /**
   * Per frontend, the usable backends before that are not usable after
   * (the frontend may itself be gone). kube-proxy flushes these for UDP
   * only; TCP connections to a terminating pod may drain on their own.
   */
  removedBackends: RemovedBackend[];
  /** keys another Service already owns: that Service keeps them until it lets go */
  conflicts: string[];
}

/** The backends (by ip:port) each frontend of `before` loses in `after`. Pure. */
export function removedBackends(
  service: string,
  before: readonly Frontend[],
  after: readonly Frontend[],
): RemovedBackend[] {
  const next = new Map<number, Frontend>(after.map((f) => [f.key, f]));
  const out: RemovedBackend[] = [];
  for (const f of before) {
    const kept = new Set((next.get(f.key)?.backends ?? []).map((b) => b.ip * 0x10000 + b.port));
    for (const b of f.backends) {
      if (!kept.has(b.ip * 0x10000 + b.port))
        out.push({ service, frontendIp: f.ip, frontendPort: f.port, proto: f.proto, ip: b.ip, port: b.port });
    }
  }
  return out;
}

interface Entry {
  frontends: readonly Frontend[];
  identities: string[];
}

export class ServiceTable {
  readonly mode: ProxyMode;
  /** frontendKey → the frontend that answers for it */
  private readonly byKey = new Map<number, Frontend>();
  /** keys claimed by more than one Service: the later claimants, in order */
  private readonly shadowed = new Map<number, Frontend[]>();
  private readonly entries = new Map<string, Entry>();
  private readonly backends = new Map<string, Backend>();
  /** service IP → number of frontends on it */
  private readonly ips = new Map<number, number>();
  private readonly linear = new LinearTable();
  private linearDirty = false;
  private frontendTotal = 0;

  constructor(opts: ServiceTableOptions = {}) {
    this.mode = opts.mode ?? 'hash';
  }

  /** The frontend for a packet to ip:port/proto; undefined when none. O(1), allocation-free in hash mode. */
  lookup(ip: number, port: number, proto: number): Frontend | undefined {
    if (this.mode === 'linear') return this.linearTable().lookup(ip, port, proto);
    return this.byKey.get(frontendKey(ip, port, proto));
  }

  /** The NodePort frontend (ip 0) for port/proto, for packets to any local address. */
  lookupNodePort(port: number, proto: number): Frontend | undefined {
    if (this.mode === 'linear') return this.linearTable().lookupNodePort(port, proto);
    return this.byKey.get(frontendKey(0, port, proto));
  }

  /** Any ClusterIP, externalIP or LoadBalancer IP in the table. */
  isServiceIp(ip: number): boolean {
    return ip !== 0 && this.ips.has(ip >>> 0);
  }

  /** For compileService's `reuse`: the Backend object with this identity, so its counters carry over. */
  backendFor(identity: string): Backend | undefined {
    return this.backends.get(identity);
  }

  /** Replaces one Service's frontends ("ns/name"); [] is the same as deleteService. */
  setService(service: string, frontends: readonly Frontend[]): ServiceChange {
    const prev = this.entries.get(service)?.frontends ?? [];
    const prevByKey = new Map(prev.map((f) => [f.key, f]));
    const nextKeys = new Set(frontends.map((f) => f.key));
    const conflicts: string[] = [];
    for (const f of prev) if (!nextKeys.has(f.key)) this.release(f);
    for (const f of frontends) {
      const other = this.claim(f, prevByKey.get(f.key));
      if (other)
        conflicts.push(`${formatFrontend(f.ip ? ipv4ToString(f.ip) : '*', f.port, f.proto)} belongs to ${other}`);
    }
    for (const f of prev) this.countIp(f.ip, -1);
    for (const f of frontends) this.countIp(f.ip, 1);
    this.frontendTotal += frontends.length - prev.length;

    for (const id of this.entries.get(service)?.identities ?? []) this.backends.delete(id);
    const identities: string[] = [];
    for (const f of frontends) {
      for (const b of f.allBackends) {
        const id = endpointIdentity(service, f.portName, f.proto, b.ip, b.port);
        if (!this.backends.has(id)) identities.push(id);
        this.backends.set(id, b);
      }
    }
    if (frontends.length) this.entries.set(service, { frontends, identities });
    else this.entries.delete(service);
    this.linearDirty = true;

    return {
      service,
      added: frontends.filter((f) => !prevByKey.has(f.key)),
      removed: prev.filter((f) => !nextKeys.has(f.key)),
      removedBackends: removedBackends(service, prev, frontends),
      conflicts,
    };
  }

  deleteService(service: string): ServiceChange {
    return this.setService(service, []);
  }

  /** Every Service and its frontends, sorted by name, for display. */
  services(): { service: string; frontends: readonly Frontend[] }[] {
    return [...this.entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([service, e]) => ({ service, frontends: e.frontends }));
  }

  /** Every frontend, in Service insertion order. */
  *frontends(): IterableIterator<Frontend> {
    for (const e of this.entries.values()) yield* e.frontends;
  }

  get serviceCount(): number {
    return this.entries.size;
  }

  get frontendCount(): number {
    return this.frontendTotal;
  }

  /** linear mode: rules examined by the latest lookup, and by all of them. */
  get rulesExamined(): { last: number; total: number; lookups: number } {
    return { last: this.linear.lastRulesExamined, total: this.linear.rulesExamined, lookups: this.linear.lookups };
  }

  private linearTable(): LinearTable {
    if (this.linearDirty) {
      this.linear.rebuild(this.frontends());
      this.linearDirty = false;
    }
    return this.linear;
  }

  /** Takes f's key, replacing `old` (this Service's previous frontend for it). Returns the owning Service if another one holds the key. */
  private claim(f: Frontend, old: Frontend | undefined): string | null {
    const cur = this.byKey.get(f.key);
    if (!cur || cur === old || cur.service === f.service) {
      this.byKey.set(f.key, f);
      return null;
    }
    const waiting = this.shadowed.get(f.key) ?? [];
    const i = old ? waiting.indexOf(old) : -1;
    if (i >= 0) waiting[i] = f;
    else waiting.push(f);
    this.shadowed.set(f.key, waiting);
    return cur.service;
  }

  /** Gives up f's key; the first Service waiting for it takes over. */
  private release(f: Frontend): void {
    const waiting = this.shadowed.get(f.key);
    if (this.byKey.get(f.key) === f) {
      const next = waiting?.shift();
      if (next) this.byKey.set(f.key, next);
      else this.byKey.delete(f.key);
    } else if (waiting) {
      const i = waiting.indexOf(f);
      if (i >= 0) waiting.splice(i, 1);
    }
    if (waiting && !waiting.length) this.shadowed.delete(f.key);
  }

  private countIp(ip: number, delta: number): void {
    if (ip === 0) return;
    const n = (this.ips.get(ip) ?? 0) + delta;
    if (n > 0) this.ips.set(ip, n);
    else this.ips.delete(ip);
  }
}
