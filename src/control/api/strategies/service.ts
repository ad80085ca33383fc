import type { Store } from '../../store/index.js';
import { storagePrefix } from '../resources.js';
import {
  ServiceAllocations,
  allocateServiceAddresses,
  keepServiceAllocations,
  type ServiceAllocConfig,
} from '../service-alloc.js';
import type { KubeObject, Target } from '../object.js';
import type { Strategy } from './strategy.js';

/** Addressing defaults (DESIGN.md): service CIDR and NodePort range. */
export const SERVICE_ALLOC: ServiceAllocConfig = { serviceCidr: '10.96.0.0/12', nodePortRange: [30000, 32767] };

/**
 * Services: an empty load-balancer status on create, and cluster IPs and
 * node ports from one pool — so Service writes take turns, and each keeps
 * what it already holds on update.
 */
export class ServiceStrategy implements Strategy {
  constructor(private readonly store: Store) {}

  prepareForCreate(o: KubeObject): void {
    o.status = { loadBalancer: {} };
  }

  private queue: Promise<unknown> = Promise.resolve();
  turn<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Which Service holds which cluster IP and node port, brought up to date
   * from the store's list on every Service write: the store stays the truth
   * (a write made elsewhere shows up as a new revision), but each Service
   * is parsed once per revision, and allocation asks the index instead of
   * walking every Service. Before, a create at 10,000 Services parsed and
   * walked all 10,000 (~15 ms each: 10,000 creates took over 3 minutes).
   */
  private readonly allocations = new ServiceAllocations();
  private readonly seen = new Map<string, { rev: number; svc: Record<string, any> }>();

  async beforeWrite(t: Target, o: KubeObject, cur: KubeObject | null): Promise<KubeObject> {
    const { items } = await this.store.list(storagePrefix(t.r));
    const seen = this.seen;
    for (const kv of items) {
      const had = seen.get(kv.key);
      if (had?.rev === kv.modRevision) continue;
      if (had) this.allocations.remove(had.svc);
      const svc = JSON.parse(kv.value) as Record<string, any>;
      this.allocations.add(svc);
      seen.set(kv.key, { rev: kv.modRevision, svc });
    }
    if (seen.size > items.length) {
      const live = new Set(items.map((kv) => kv.key));
      for (const [k, had] of seen) {
        if (live.has(k)) continue;
        this.allocations.remove(had.svc);
        seen.delete(k);
      }
    }
    return allocateServiceAddresses(
      cur ? keepServiceAllocations(o, cur) : o,
      this.allocations,
      SERVICE_ALLOC,
    ) as KubeObject;
  }
}
