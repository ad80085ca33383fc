import { Informer, objectKey, type ApiClient, type KubeObject } from '../control/client/index.js';
import {
  PROTO_UDP,
  compileService,
  type Backend,
  type CompileOptions,
  type Frontend,
  type ServiceChange,
} from '../lb/index.js';
import type { LbState } from '../dataplane/index.js';

/**
 * kube-proxy's informers: every Service and EndpointSlice of the cluster,
 * compiled per Service into this node's frontends (src/lb/compile.ts) and
 * swapped into the dataplane's table one Service at a time, so a change
 * costs that Service only, however many there are. Backends that leave a
 * Service have their UDP conntrack entries flushed and their TCP flows
 * reset on their next packet (LbState.backendRemoved).
 */

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ServiceWatchOptions {
  client: ApiClient;
  node: string;
  lb: LbState;
  compile: CompileOptions;
  log: (msg: string) => void;
  /** the set of healthCheckNodePorts changed (the agent serves them and lets them past eth0's filter) */
  onHealthPorts?(ports: Map<number, string>): void;
  /** called after every applied change, with how long it took (ms), for metrics and the bench */
  onApplied?(service: string, ms: number): void;
}

export class ServiceWatch {
  private readonly services: Informer;
  private readonly slices: Informer;
  /** "ns/service" -> its slices by name (the slices' index: no scan of every slice per change) */
  private readonly slicesOf = new Map<string, Map<string, KubeObject>>();
  private readonly warned = new Map<string, string>();
  private healthPorts = new Map<number, string>();
  /** "ns/name" → its healthCheckNodePort, for the Services that have one (kept per change: no scan of every Service) */
  private readonly healthPortOf = new Map<string, number>();
  /** "ns/name" → the frontends this watch put in the table (what the table holds for it; absent = none) */
  private readonly programmed = new Map<string, readonly Frontend[]>();
  /** usable backends summed over every programmed frontend (kept per change) */
  usableBackends = 0;
  /** changes applied so far, and when the last one was */
  applied = 0;
  lastAppliedMs = 0;

  constructor(private readonly o: ServiceWatchOptions) {
    const err = (what: string) => (m: string) => o.log(`service watch (${what}): ${m}`);
    this.services = new Informer(o.client, 'services', {}, err('services'));
    this.slices = new Informer(o.client, 'endpointslices', {}, err('endpointslices'));
    const onService = (svc: KubeObject) => this.sync(objectKey(svc));
    this.services.on({ added: onService, modified: onService, deleted: onService });
    this.slices.on({
      added: (s) => this.sliceChanged(s, false),
      modified: (s, old) => {
        if (serviceOf(old) !== serviceOf(s)) this.sliceChanged(old, true);
        this.sliceChanged(s, false);
      },
      deleted: (s) => this.sliceChanged(s, true),
    });
  }

  /** Resolves once both kinds are listed and every Service is programmed. */
  async start(): Promise<void> {
    await Promise.all([this.slices.start(), this.services.start()]);
    for (const svc of this.services.list()) this.sync(objectKey(svc));
  }

  stop(): void {
    this.services.stop();
    this.slices.stop();
  }

  private sliceChanged(slice: KubeObject, gone: boolean): void {
    const svc = serviceOf(slice);
    if (svc === null) return;
    const key = `${slice.metadata.namespace ?? 'default'}/${svc}`;
    let m = this.slicesOf.get(key);
    if (gone) m?.delete(slice.metadata.name);
    else {
      if (m === undefined) this.slicesOf.set(key, (m = new Map()));
      m.set(slice.metadata.name, slice);
    }
    if (m !== undefined && m.size === 0) this.slicesOf.delete(key);
    this.sync(key);
  }

  /** Recompile one Service ("ns/name") from the informers' current state and swap it in. */
  private sync(key: string): void {
    const t0 = performance.now();
    const lb = this.o.lb;
    const [ns, name] = key.split('/');
    const svc = this.services.get(ns, name);
    const before = this.frontendsOf(key);
    let change: ServiceChange;
    if (svc === undefined) {
      change = lb.table.deleteService(key);
      this.programmed.delete(key);
      this.warned.delete(key);
    } else {
      const slices = [...(this.slicesOf.get(key)?.values() ?? [])];
      const c = compileService(svc, slices, { name: this.o.node }, this.o.compile, (id) => lb.table.backendFor(id));
      const warning = [c.ignored ? `not proxied: ${c.ignored}` : '', ...c.warnings].filter(Boolean).join('; ');
      if (
        warning &&
        this.warned.get(key) !== warning &&
        !c.ignored?.startsWith('headless') &&
        !c.ignored?.startsWith('ExternalName')
      )
        this.o.log(`service ${key}: ${warning}`);
      this.warned.set(key, warning);
      change = lb.table.setService(key, c.frontends);
      if (c.frontends.length) this.programmed.set(key, c.frontends);
      else this.programmed.delete(key);
      for (const conflict of change.conflicts) this.o.log(`service ${key}: ${conflict}`);
    }
    this.usableBackends += usable(this.frontendsOf(key)) - usable(before);
    this.flush(before, change);
    this.updateHealthPorts(key, svc);
    this.applied++;
    this.lastAppliedMs = Date.now();
    this.o.onApplied?.(key, performance.now() - t0);
  }

  /**
   * Endpoints gone from the Service: their TCP flows are reset on their
   * next packet. Endpoints no longer usable (gone, or not ready): their UDP
   * flows are flushed, as kube-proxy does, so the next datagram picks a
   * live backend instead of vanishing into a dead one.
   */
  private flush(before: readonly Frontend[], change: ServiceChange): void {
    const now = new Set<Backend>();
    for (const fe of this.frontendsOf(change.service)) for (const b of fe.allBackends) now.add(b);
    for (const fe of before) for (const b of fe.allBackends) if (!now.has(b)) b.removed = true;
    for (const r of change.removedBackends) if (r.proto === PROTO_UDP) this.o.lb.flushUdpBackend(r.ip, r.port);
  }

  /** healthCheckNodePort of every LoadBalancer Service with externalTrafficPolicy Local, kept per changed Service. */
  private updateHealthPorts(key: string, svc: KubeObject | undefined): void {
    const p = svc?.spec?.healthCheckNodePort;
    const want =
      Number.isInteger(p) && p > 0 && svc?.spec?.externalTrafficPolicy === 'Local' ? (p as number) : undefined;
    if (want === this.healthPortOf.get(key)) return;
    if (want === undefined) this.healthPortOf.delete(key);
    else this.healthPortOf.set(key, want);
    const ports = new Map<number, string>();
    for (const [k, port] of this.healthPortOf) ports.set(port, k);
    const same = ports.size === this.healthPorts.size && [...ports].every(([q, k]) => this.healthPorts.get(q) === k);
    if (same) return;
    this.healthPorts = ports;
    this.o.onHealthPorts?.(ports);
  }

  /** Ready endpoints of a Service on this node (what its health-check port reports). */
  localEndpoints(service: string): number {
    const seen = new Set<string>();
    for (const fe of this.frontendsOf(service)) {
      for (const b of fe.allBackends) if (b.ready && b.nodeName === this.o.node) seen.add(`${b.ip}`);
    }
    return seen.size;
  }

  /** The frontends of one Service ("ns/name") in the table: a map lookup (this runs twice per change). */
  frontendsOf(service: string): readonly Frontend[] {
    return this.programmed.get(service) ?? [];
  }

  /** Every programmed Service ("ns/name") and its frontends, unsorted. */
  programmedServices(): IterableIterator<[string, readonly Frontend[]]> {
    return this.programmed.entries();
  }

  get synced(): boolean {
    return this.applied > 0 || this.services.list().length === 0;
  }
}

function usable(frontends: readonly Frontend[]): number {
  let n = 0;
  for (const f of frontends) n += f.backends.length;
  return n;
}

function serviceOf(slice: KubeObject): string | null {
  const v = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return typeof v === 'string' && v !== '' ? v : null;
}
