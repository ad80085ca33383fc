import { createRequire } from 'node:module';
import type { Etcd3, IKeyValue } from 'etcd3';
import { MAX_REQUEST_BYTES, StoreError, type KeyValue, type Store, type Watch, type WatchEvent } from './types.js';

/** How long one call may wait for etcd before the request fails with Unavailable (503). */
const CALL_DEADLINE_MS = 4_000;

/**
 * The same store on a real etcd (v3 API, the `etcd3` package): one key per
 * object under a root prefix, create/update/delete as transactions on the
 * key's create/mod revision, watch from a revision with previous values.
 * Every call has a deadline: an etcd that is gone fails fast (the client's
 * circuit breaker), one that hangs fails after CALL_DEADLINE_MS — either way
 * Unavailable, which the API answers 503.
 */
export class EtcdStore implements Store {
  readonly kind = 'etcd';
  private readonly client: Etcd3;

  constructor(
    hosts: string | string[],
    private readonly root = '/podwire/',
  ) {
    // loaded here, not at import: etcd3 brings gRPC and protobufjs (a third of a CLI start), and
    // everything that imports the API package (every podwire command, every agent) would pay for it
    const { Etcd3: Client } = createRequire(import.meta.url)('etcd3') as typeof import('etcd3');
    this.client = new Client({ hosts, dialTimeout: 3000 });
  }

  private k(key: string): string {
    return `${this.root}${key}`;
  }

  private kv(raw: IKeyValue): KeyValue {
    return {
      key: raw.key.toString().slice(this.root.length),
      value: raw.value.toString(),
      createRevision: Number(raw.create_revision),
      modRevision: Number(raw.mod_revision),
      version: Number(raw.version),
    };
  }

  private async wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof StoreError) throw cause;
      const message = (cause as Error).message;
      if (/request is too large/.test(message)) throw new StoreError('TooLarge', 'etcdserver: request is too large');
      throw new StoreError('Unavailable', `etcd ${what}: ${message}`, { cause });
    }
  }

  private static deadline(ms = CALL_DEADLINE_MS) {
    return { deadline: Date.now() + ms };
  }

  private fits(key: string, value: string): void {
    if (Buffer.byteLength(this.k(key)) + Buffer.byteLength(value) > MAX_REQUEST_BYTES)
      throw new StoreError('TooLarge', 'etcdserver: request is too large');
  }

  /** etcd answers a read (of a key that need not exist) within timeoutMs. */
  health(timeoutMs: number): Promise<void> {
    return this.wrap('health', async () => {
      await this.client.get(`${this.root}health`).options(EtcdStore.deadline(timeoutMs)).exec();
    });
  }

  get(key: string): Promise<KeyValue | null> {
    return this.wrap('get', async () => {
      const r = await this.client.get(this.k(key)).options(EtcdStore.deadline()).exec();
      return r.kvs.length ? this.kv(r.kvs[0]) : null;
    });
  }

  list(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    return this.wrap('list', async () => {
      const r = await this.client
        .getAll()
        .prefix(this.k(prefix))
        .sort('Key', 'Ascend')
        .options(EtcdStore.deadline())
        .exec();
      return { items: r.kvs.map((x) => this.kv(x)), revision: Number(r.header.revision) };
    });
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.wrap('create', async () => {
      this.fits(key, value);
      const r = await this.client
        .if(this.k(key), 'Create', '==', 0)
        .then(this.client.put(this.k(key)).value(value))
        .options(EtcdStore.deadline())
        .commit();
      if (!r.succeeded) throw new StoreError('AlreadyExists', `${key} already exists`);
      const rev = Number(r.header.revision);
      return { key, value, createRevision: rev, modRevision: rev, version: 1 };
    });
  }

  update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.wrap('update', async () => {
      this.fits(key, value);
      const cur = await this.get(key);
      if (!cur) throw new StoreError('NotFound', `${key} not found`);
      const expect = expectedModRevision ?? cur.modRevision;
      const r = await this.client
        .if(this.k(key), 'Mod', '==', expect)
        .then(this.client.put(this.k(key)).value(value))
        .options(EtcdStore.deadline())
        .commit();
      if (!r.succeeded) {
        if (!(await this.get(key))) throw new StoreError('NotFound', `${key} not found`);
        throw new StoreError('Conflict', `${key} was modified (you had revision ${expect})`);
      }
      const rev = Number(r.header.revision);
      return { key, value, createRevision: cur.createRevision, modRevision: rev, version: cur.version + 1 };
    });
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.wrap('delete', async () => {
      const cur = await this.get(key);
      if (!cur) throw new StoreError('NotFound', `${key} not found`);
      const expect = expectedModRevision ?? cur.modRevision;
      const r = await this.client
        .if(this.k(key), 'Mod', '==', expect)
        .then(this.client.delete().key(this.k(key)))
        .options(EtcdStore.deadline())
        .commit();
      if (!r.succeeded) {
        if (!(await this.get(key))) throw new StoreError('NotFound', `${key} not found`);
        throw new StoreError('Conflict', `${key} was modified (you had revision ${expect})`);
      }
      return cur;
    });
  }

  async watch(
    prefix: string,
    afterRevision: number,
    onEvent: (e: WatchEvent) => void,
    onError?: (err: StoreError) => void,
  ): Promise<Watch> {
    const watcher = await this.wrap('watch', () =>
      this.client
        .watch()
        .prefix(this.k(prefix))
        .startRevision(String(afterRevision + 1))
        .withPreviousKV()
        .create(),
    );
    let compacted: StoreError | null = null;
    watcher.on('data', (res) => {
      if (Number(res.compact_revision) > 0) {
        compacted = new StoreError(
          'Compacted',
          `revision ${afterRevision} is too old (compacted at ${res.compact_revision}): list again`,
        );
        onError?.(compacted);
      }
    });
    watcher.on('put', (raw) => {
      const kv = this.kv(raw);
      onEvent({
        type: kv.version === 1 ? 'ADDED' : 'MODIFIED',
        key: kv.key,
        value: kv.value,
        revision: kv.modRevision,
      });
    });
    watcher.on('delete', (raw, prev) => {
      onEvent({
        type: 'DELETED',
        key: raw.key.toString().slice(this.root.length),
        value: prev?.value.toString() ?? '',
        revision: Number(raw.mod_revision),
      });
    });
    watcher.on('error', (err) =>
      onError?.(new StoreError('Unavailable', `etcd watch: ${err.message}`, { cause: err })),
    );
    return { close: () => void watcher.cancel() };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
