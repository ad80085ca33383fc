import type { ResourceType } from '../api/resources.js';
import { ApiClient, resourceOf, type KubeObject, type ListOptions, type WatchHandle } from './api-client.js';

export interface InformerHandlers<T extends KubeObject> {
  added?(obj: T): void;
  modified?(obj: T, old: T): void;
  deleted?(obj: T): void;
}

export const objectKey = (o: { metadata: { namespace?: string; name: string } }) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;

/**
 * A local, always-current copy of one kind of object (client-go's
 * informer): list, then watch from the list's resourceVersion. When the
 * stream ends (API server restarted, history compacted: 410) it lists
 * again, reports the difference as events, and watches on. Handlers see
 * every change exactly once per state, and never throw into the stream.
 */
export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private watch: WatchHandle | null = null;
  private stopped = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | null = null;
  private synced = false;
  private readonly waiters: (() => void)[] = [];
  private readonly handlers: InformerHandlers<T>[] = [];
  readonly resource: ResourceType;
  /** why the last (re)list failed, for status pages */
  lastError: string | null = null;

  constructor(
    private readonly client: ApiClient,
    resource: string | ResourceType,
    private readonly opts: ListOptions = {},
    private readonly onError: (msg: string) => void = () => {},
  ) {
    this.resource = resourceOf(resource);
  }

  on(h: InformerHandlers<T>): this {
    this.handlers.push(h);
    return this;
  }

  /** Resolves once the first list is in the cache. */
  start(): Promise<void> {
    void this.relist();
    return this.hasSynced();
  }

  hasSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
    if (this.timer) clearTimeout(this.timer);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  private emit(kind: 'added' | 'modified' | 'deleted', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'added') h.added?.(obj);
        else if (kind === 'modified') h.modified?.(obj, old!);
        else h.deleted?.(obj);
      } catch (err) {
        this.onError(`${this.resource.plural} handler failed on ${objectKey(obj)}: ${(err as Error).stack ?? err}`);
      }
    }
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    let items: T[];
    let rv: string;
    try {
      ({ items, resourceVersion: rv } = await this.client.list<T>(this.resource, this.opts));
    } catch (err) {
      this.lastError = (err as Error).message;
      this.onError(`list ${this.resource.plural}: ${(err as Error).message} (retrying)`);
      return this.retry();
    }
    this.lastError = null;
    const seen = new Set<string>();
    for (const o of items) {
      const k = objectKey(o);
      seen.add(k);
      const old = this.cache.get(k);
      this.cache.set(k, o);
      if (!old) this.emit('added', o);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('modified', o, old);
    }
    for (const [k, o] of [...this.cache]) {
      if (!seen.has(k)) {
        this.cache.delete(k);
        this.emit('deleted', o);
      }
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.waiters.splice(0)) w();
    }
    this.retryMs = 100;
    this.startWatch(rv);
  }

  private retry(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.relist(), this.retryMs);
    this.timer.unref?.();
    this.retryMs = Math.min(this.retryMs * 2, 2000);
  }

  private startWatch(rv: string): void {
    if (this.stopped) return;
    let expired = false;
    this.watch = this.client.watch<T>(
      this.resource,
      { ...this.opts, resourceVersion: rv },
      (e) => {
        if (e.type === 'ERROR') {
          expired = true; // 410: our history is gone; list again
          return;
        }
        if (e.type === 'BOOKMARK') return;
        const k = objectKey(e.object);
        const old = this.cache.get(k);
        if (e.type === 'DELETED') {
          if (old) {
            this.cache.delete(k);
            this.emit('deleted', e.object);
          }
          return;
        }
        this.cache.set(k, e.object);
        if (old) this.emit('modified', e.object, old);
        else this.emit('added', e.object);
      },
      (err) => {
        if (this.stopped) return;
        if (err && !expired) this.onError(`watch ${this.resource.plural}: ${err.message} (listing again)`);
        this.retry();
      },
    );
  }
}
