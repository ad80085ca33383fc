import type { Store, Watch } from '../store/index.js';
import type { PolicyRule, RbacSnapshot, Role, RoleBinding } from './rbac.js';
import { NodeGraph } from './node-graph.js';

/**
 * The objects authentication and authorization read on every request —
 * Roles, ClusterRoles, their bindings, and the uids of ServiceAccounts and
 * Pods (a token is good only while they exist; the Node authorizer's graph
 * of which node's pods use which Secret, ConfigMap or ServiceAccount) — kept in memory and
 * current from the store's watch, as kube-apiserver's authorizer reads
 * informer caches: no store read per request. A watch that fails (history
 * compacted, etcd away) lists again after a pause; until the first list
 * the cache is not `ready`.
 */
export const RBAC_PREFIXES = {
  clusterRoles: 'rbac.authorization.k8s.io/clusterroles/',
  clusterRoleBindings: 'rbac.authorization.k8s.io/clusterrolebindings/',
  roles: 'rbac.authorization.k8s.io/roles/',
  roleBindings: 'rbac.authorization.k8s.io/rolebindings/',
  serviceAccounts: 'core/serviceaccounts/',
  pods: 'core/pods/',
} as const;

type Kind = keyof typeof RBAC_PREFIXES;

/** relisting after a failed watch waits 1 s, doubling to 10 s while the store stays away */
const RELIST_MS = 1_000;
const RELIST_MAX_MS = 10_000;

/** An in-memory RbacSnapshot from plain objects (tests, and the cache's own maps). */
export class RbacIndex implements RbacSnapshot {
  readonly clusterRoles = new Map<string, Role>();
  readonly aggregated = new Map<Role, PolicyRule[]>();
  private readonly crbs = new Map<string, RoleBinding>();
  private readonly nsRoles = new Map<string, Map<string, Role>>();
  private readonly nsBindings = new Map<string, Map<string, RoleBinding>>();

  get clusterRoleBindings(): Iterable<RoleBinding> {
    return this.crbs.values();
  }
  roles(ns: string) {
    return this.nsRoles.get(ns);
  }
  roleBindings(ns: string): Iterable<RoleBinding> {
    return this.nsBindings.get(ns)?.values() ?? [];
  }

  static of(objects: Record<string, any>[]): RbacIndex {
    const i = new RbacIndex();
    for (const o of objects) i.put(o);
    return i;
  }

  put(o: Record<string, any>): void {
    const m = o.metadata ?? {};
    switch (o.kind) {
      case 'ClusterRole':
        this.clusterRoles.set(m.name, o as Role);
        this.aggregated.clear();
        break;
      case 'ClusterRoleBinding':
        this.crbs.set(m.name, o as RoleBinding);
        break;
      case 'Role':
        inner(this.nsRoles, m.namespace).set(m.name, o as Role);
        break;
      case 'RoleBinding':
        inner(this.nsBindings, m.namespace).set(m.name, o as RoleBinding);
        break;
    }
  }

  remove(o: Record<string, any>): void {
    const m = o.metadata ?? {};
    switch (o.kind) {
      case 'ClusterRole':
        this.clusterRoles.delete(m.name);
        this.aggregated.clear();
        break;
      case 'ClusterRoleBinding':
        this.crbs.delete(m.name);
        break;
      case 'Role':
        this.nsRoles.get(m.namespace)?.delete(m.name);
        break;
      case 'RoleBinding':
        this.nsBindings.get(m.namespace)?.delete(m.name);
        break;
    }
  }

  clear(kind: 'ClusterRole' | 'ClusterRoleBinding' | 'Role' | 'RoleBinding'): void {
    if (kind === 'ClusterRole') {
      this.clusterRoles.clear();
      this.aggregated.clear();
    } else if (kind === 'ClusterRoleBinding') this.crbs.clear();
    else if (kind === 'Role') this.nsRoles.clear();
    else this.nsBindings.clear();
  }
}

function inner<V>(m: Map<string, Map<string, V>>, k: string): Map<string, V> {
  let v = m.get(k);
  if (!v) m.set(k, (v = new Map()));
  return v;
}

const KIND_OF: Record<Kind, string> = {
  clusterRoles: 'ClusterRole',
  clusterRoleBindings: 'ClusterRoleBinding',
  roles: 'Role',
  roleBindings: 'RoleBinding',
  serviceAccounts: 'ServiceAccount',
  pods: 'Pod',
};

export class RbacCache {
  readonly index = new RbacIndex();
  /** pods' nodes and what they use: the Node authorizer's */
  readonly nodeGraph = new NodeGraph();
  /** `ns/name` → uid */
  private readonly saUids = new Map<string, string>();
  private readonly podUids = new Map<string, string>();
  private readonly watches = new Map<Kind, Watch>();
  /** the revision each key was last seen at (deleted ones too): an older event never undoes a newer one */
  private readonly seen = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<Kind, number>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: (m: string) => void = () => {},
  ) {}

  /** List everything and follow the watches; resolves once all are listed. */
  async start(): Promise<void> {
    await Promise.all((Object.keys(RBAC_PREFIXES) as Kind[]).map((k) => this.sync(k)));
  }

  serviceAccountUid(namespace: string, name: string): string | undefined {
    return this.saUids.get(`${namespace}/${name}`);
  }
  podUid(namespace: string, name: string): string | undefined {
    return this.podUids.get(`${namespace}/${name}`);
  }

  /**
   * A write this API server made, applied at once (Registry writes through
   * `writeThrough`): with etcd the watch event comes a moment later, and a
   * RoleBinding just created should count for the very next request.
   */
  observe(type: 'ADDED' | 'MODIFIED' | 'DELETED', key: string, value: string, revision: number): void {
    const kind = (Object.keys(RBAC_PREFIXES) as Kind[]).find((k) => key.startsWith(RBAC_PREFIXES[k]));
    if (kind) this.event(kind, type, key, value, revision);
  }

  private event(kind: Kind, type: 'ADDED' | 'MODIFIED' | 'DELETED', key: string, value: string, revision: number) {
    const last = this.seen.get(key);
    if (last !== undefined && last >= revision) return;
    if (type === 'DELETED' && kind === 'pods')
      this.seen.delete(key); // pods come and go: keep no tombstones
    else this.seen.set(key, revision);
    this.apply(kind, type, value);
  }

  private apply(kind: Kind, type: 'ADDED' | 'MODIFIED' | 'DELETED', value: string): void {
    let o: Record<string, any>;
    try {
      o = JSON.parse(value);
    } catch {
      return;
    }
    const m = o.metadata ?? {};
    if (kind === 'serviceAccounts' || kind === 'pods') {
      const map = kind === 'pods' ? this.podUids : this.saUids;
      if (type === 'DELETED') map.delete(`${m.namespace}/${m.name}`);
      else map.set(`${m.namespace}/${m.name}`, m.uid);
      if (kind === 'pods') {
        if (type === 'DELETED') this.nodeGraph.removePod(o);
        else this.nodeGraph.setPod(o);
      }
      return;
    }
    if (type === 'DELETED') this.index.remove(o);
    else this.index.put(o);
  }

  private async sync(kind: Kind): Promise<void> {
    if (this.closed) return;
    const prefix = RBAC_PREFIXES[kind];
    const { items, revision } = await this.store.list(prefix);
    if (kind === 'serviceAccounts') this.saUids.clear();
    else if (kind === 'pods') {
      this.podUids.clear();
      this.nodeGraph.clear();
    } else this.index.clear(KIND_OF[kind] as 'Role');
    for (const kv of items) {
      this.seen.set(kv.key, kv.modRevision);
      this.apply(kind, 'ADDED', kv.value);
    }
    const again = (why: string) => {
      this.watches.get(kind)?.close();
      this.watches.delete(kind);
      if (this.closed) return;
      const n = this.failures.get(kind) ?? 0;
      this.failures.set(kind, n + 1);
      if (n % 10 === 0)
        this.log(`auth cache: ${KIND_OF[kind]} watch ended (${why}); listing again${n ? ` (${n} tries so far)` : ''}`);
      const t = setTimeout(
        () => {
          this.timers.delete(t);
          this.sync(kind).catch((e) => again((e as Error).message));
        },
        Math.min(RELIST_MS * 2 ** n, RELIST_MAX_MS),
      );
      t.unref?.();
      this.timers.add(t);
    };
    const w = await this.store.watch(
      prefix,
      revision,
      (e) => this.event(kind, e.type, e.key, e.value, e.revision),
      (err) => again(err.message),
    );
    if (this.closed) w.close();
    else this.watches.set(kind, w);
    this.failures.delete(kind); // listed and watching again
  }

  close(): void {
    this.closed = true;
    for (const w of this.watches.values()) w.close();
    for (const t of this.timers) clearTimeout(t);
  }
}

/**
 * The store as the registry sees it, telling `cache` of every write it
 * makes (after the store has taken it), so the cache is current before the
 * write is answered whatever the store's watch latency.
 */
export function writeThrough(store: Store, cache: RbacCache): Store {
  return {
    get kind() {
      return store.kind;
    },
    get: (key) => store.get(key),
    list: (prefix) => store.list(prefix),
    watch: (prefix, after, onEvent, onError) => store.watch(prefix, after, onEvent, onError),
    health: (ms) => store.health(ms),
    close: () => store.close(),
    async create(key, value) {
      const kv = await store.create(key, value);
      cache.observe('ADDED', key, kv.value, kv.modRevision);
      return kv;
    },
    async update(key, value, rev) {
      const kv = await store.update(key, value, rev);
      cache.observe('MODIFIED', key, kv.value, kv.modRevision);
      return kv;
    },
    async delete(key, rev) {
      const kv = await store.delete(key, rev);
      // the deleted value comes back with its last revision; the delete is newer than that
      // (and older than anything written after it, whose watch event then still counts)
      cache.observe('DELETED', key, kv.value, kv.modRevision + 0.5);
      return kv;
    },
  };
}
