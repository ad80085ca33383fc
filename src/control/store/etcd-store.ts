import { Etcd3, type IKeyValue } from 'etcd3';
import { StoreError, type KeyValue, type Store, type Watch, type WatchEvent } from './types.js';

/**
 * The same store on a real etcd (v3 API, the `etcd3` package): one key per
 * object under a root prefix, create/update/delete as transactions on the
 * key's create/mod revision, watch from a revision with previous values.
 */
export class EtcdStore implements Store {
  readonly kind = 'etcd';
  private readonly client: Etcd3;

  constructor(
    hosts: string | string[],
    private readonly root = '/podwire/',
  ) {
    this.client = new Etcd3({ hosts, dialTimeout: 3000 });
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
      throw new StoreError('Unavailable', `etcd ${what}: ${(cause as Error).message}`, { cause });
    }
  }

  get(key: string): Promise<KeyValue | null> {
    return this.wrap('get', async () => {
      const r = await this.client.get(this.k(key)).exec();
      return r.kvs.length ? this.kv(r.kvs[0]) : null;
    });
  }

  list(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    return this.wrap('list', async () => {
      const r = await this.client.getAll().prefix(this.k(prefix)).sort('Key', 'Ascend').exec();
      return { items: r.kvs.map((x) => this.kv(x)), revision: Number(r.header.revision) };
    });
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.wrap('create', async () => {
      const r = await this.client
        .if(this.k(key), 'Create', '==', 0)
        .then(this.client.put(this.k(key)).value(value))
        .commit();
      if (!r.succeeded) throw new StoreError('AlreadyExists', `${key} already exists`);
      const rev = Number(r.header.revision);
      return { key, value, createRevision: rev, modRevision: rev, version: 1 };
    });
  }

  update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.wrap('update', async () => {
      const cur = await this.get(key);
      if (!cur) throw new StoreError('NotFound', `${key} not found`);
      const expect = expectedModRevision ?? cur.modRevision;
      const r = await this.client
        .if(this.k(key), 'Mod', '==', expect)
        .then(this.client.put(this.k(key)).value(value))
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
