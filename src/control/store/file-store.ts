import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { MAX_REQUEST_BYTES, StoreError, type KeyValue, type Store, type Watch, type WatchEvent } from './types.js';

/**
 * The embedded default store: a write-ahead log in one directory.
 *
 *   wal.log        records [u32 length][u32 crc32][JSON {rev, op, key, value}]
 *   snapshot.json  every live key at one revision (written on compaction)
 *
 * Every write is appended and fdatasync'ed before it is acknowledged, so
 * kill -9 loses nothing that was acknowledged. On open the log is replayed:
 * - an incomplete or bad-checksum record at the very end is a torn write
 *   (the process died mid-append, before acknowledging it): it is cut off
 *   and *reported* in `recovery`, never silently dropped;
 * - a bad record followed by good ones is corruption: open fails (Corrupt),
 *   because going on would lose acknowledged writes.
 * Watches replay from an in-memory history of recent events; older starting
 * points get Compacted (Kubernetes: 410 Gone, list again).
 */
interface Record {
  rev: number;
  op: 'put' | 'del';
  key: string;
  value?: string;
}

export interface Recovery {
  /** bytes of a torn final record that were cut off, and where */
  tornBytes: number;
  tornAtOffset: number;
  recordsReplayed: number;
}

const HEADER = 8;
const HISTORY = 20_000;

export class FileStore implements Store {
  readonly kind = 'file';
  private readonly data = new Map<string, KeyValue>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<{ prefix: string; onEvent: (e: WatchEvent) => void }>();
  private revision = 0;
  private fd = -1;
  private walBytes = 0;
  recovery: Recovery = { tornBytes: 0, tornAtOffset: 0, recordsReplayed: 0 };

  private constructor(
    private readonly dir: string,
    private readonly compactAtBytes: number,
  ) {}

  static open(dir: string, opts: { compactAtBytes?: number } = {}): FileStore {
    fs.mkdirSync(dir, { recursive: true });
    const s = new FileStore(dir, opts.compactAtBytes ?? 8 << 20);
    s.load();
    return s;
  }

  private get walPath(): string {
    return path.join(this.dir, 'wal.log');
  }
  private get snapshotPath(): string {
    return path.join(this.dir, 'snapshot.json');
  }

  private load(): void {
    if (fs.existsSync(this.snapshotPath)) {
      let snap: { revision: number; items: KeyValue[] };
      try {
        snap = JSON.parse(fs.readFileSync(this.snapshotPath, 'utf8'));
      } catch (cause) {
        throw new StoreError('Corrupt', `${this.snapshotPath} is not valid JSON: refusing to start without it`, {
          cause,
        });
      }
      this.revision = snap.revision;
      for (const kv of snap.items) this.data.set(kv.key, kv);
    }
    const buf = fs.existsSync(this.walPath) ? fs.readFileSync(this.walPath) : Buffer.alloc(0);
    let off = 0;
    let replayed = 0;
    while (off < buf.length) {
      const bad = (why: string) => {
        if (this.validRecordAfter(buf, off + 1)) {
          throw new StoreError(
            'Corrupt',
            `${this.walPath}: ${why} at byte ${off}, with good records after it: refusing to lose acknowledged writes`,
          );
        }
        this.recovery = { tornBytes: buf.length - off, tornAtOffset: off, recordsReplayed: replayed };
      };
      if (buf.length - off < HEADER) {
        bad('incomplete record header');
        break;
      }
      const len = buf.readUInt32LE(off);
      const crc = buf.readUInt32LE(off + 4);
      if (off + HEADER + len > buf.length) {
        bad('incomplete record');
        break;
      }
      const body = buf.subarray(off + HEADER, off + HEADER + len);
      if (zlib.crc32(body) !== crc) {
        bad('checksum mismatch');
        break;
      }
      const rec = JSON.parse(body.toString('utf8')) as Record;
      if (rec.rev > this.revision) this.apply(rec, false);
      replayed++;
      off += HEADER + len;
    }
    if (this.recovery.tornBytes > 0) fs.truncateSync(this.walPath, this.recovery.tornAtOffset);
    this.recovery.recordsReplayed = replayed;
    this.fd = fs.openSync(this.walPath, 'a');
    this.walBytes = fs.fstatSync(this.fd).size;
  }

  /** Is there a well-formed record starting anywhere at or after `from`? (tells torn tail from corruption) */
  private validRecordAfter(buf: Buffer, from: number): boolean {
    for (let o = from; o + HEADER <= buf.length; o++) {
      const len = buf.readUInt32LE(o);
      if (len < 2 || len > buf.length - o - HEADER) continue;
      const body = buf.subarray(o + HEADER, o + HEADER + len);
      if (body[0] === 0x7b && zlib.crc32(body) === buf.readUInt32LE(o + 4)) return true;
    }
    return false;
  }

  private apply(rec: Record, notify: boolean): KeyValue {
    this.revision = rec.rev;
    const prev = this.data.get(rec.key);
    let kv: KeyValue;
    let event: WatchEvent;
    if (rec.op === 'put') {
      kv = {
        key: rec.key,
        value: rec.value ?? '',
        createRevision: prev ? prev.createRevision : rec.rev,
        modRevision: rec.rev,
        version: prev ? prev.version + 1 : 1,
      };
      this.data.set(rec.key, kv);
      event = { type: prev ? 'MODIFIED' : 'ADDED', key: rec.key, value: kv.value, revision: rec.rev };
    } else {
      kv = prev!;
      this.data.delete(rec.key);
      event = { type: 'DELETED', key: rec.key, value: prev?.value ?? '', revision: rec.rev };
    }
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    if (notify) for (const w of this.watchers) if (event.key.startsWith(w.prefix)) w.onEvent(event);
    return kv;
  }

  /** Append, fdatasync, then apply: nothing is acknowledged before it is on disk. */
  private write(rec: Omit<Record, 'rev'>): KeyValue {
    if (this.fd < 0) throw new StoreError('Unavailable', 'store is closed');
    const full: Record = { ...rec, rev: this.revision + 1 };
    const body = Buffer.from(JSON.stringify(full));
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(body.length, 0);
    head.writeUInt32LE(zlib.crc32(body), 4);
    fs.writeSync(this.fd, Buffer.concat([head, body]));
    fs.fdatasyncSync(this.fd);
    this.walBytes += HEADER + body.length;
    const kv = this.apply(full, true);
    if (this.walBytes > this.compactAtBytes) this.compact();
    return kv;
  }

  /** Snapshot every live key, then start an empty log (rename is the commit point). */
  compact(): void {
    const tmp = `${this.snapshotPath}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, JSON.stringify({ revision: this.revision, items: [...this.data.values()] }));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.snapshotPath);
    const dfd = fs.openSync(this.dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
    this.walBytes = 0;
  }

  async get(key: string): Promise<KeyValue | null> {
    return this.data.get(key) ?? null;
  }

  async list(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    const items = [...this.data.values()]
      .filter((kv) => kv.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    return { items, revision: this.revision };
  }

  /** The same limit as etcd's --max-request-bytes, so an object either store takes, both take. */
  private fits(key: string, value: string): void {
    if (Buffer.byteLength(key) + Buffer.byteLength(value) > MAX_REQUEST_BYTES)
      throw new StoreError('TooLarge', 'etcdserver: request is too large');
  }

  async health(): Promise<void> {
    if (this.fd < 0) throw new StoreError('Unavailable', 'store is closed');
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.fits(key, value);
    if (this.data.has(key)) throw new StoreError('AlreadyExists', `${key} already exists`);
    return this.write({ op: 'put', key, value });
  }

  private check(key: string, expectedModRevision?: number): KeyValue {
    const cur = this.data.get(key);
    if (!cur) throw new StoreError('NotFound', `${key} not found`);
    if (expectedModRevision !== undefined && cur.modRevision !== expectedModRevision) {
      throw new StoreError(
        'Conflict',
        `${key} was modified (revision ${cur.modRevision}, you had ${expectedModRevision})`,
      );
    }
    return cur;
  }

  async update(key: string, value: string, expectedModRevision?: number): Promise<KeyValue> {
    this.fits(key, value);
    this.check(key, expectedModRevision);
    return this.write({ op: 'put', key, value });
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const cur = this.check(key, expectedModRevision);
    this.write({ op: 'del', key });
    return cur;
  }

  async watch(prefix: string, afterRevision: number, onEvent: (e: WatchEvent) => void): Promise<Watch> {
    const oldest = this.history.length ? this.history[0].revision : this.revision + 1;
    if (afterRevision < this.revision && afterRevision + 1 < oldest) {
      throw new StoreError(
        'Compacted',
        `revision ${afterRevision} is too old (history starts at ${oldest}): list again`,
      );
    }
    for (const e of this.history) if (e.revision > afterRevision && e.key.startsWith(prefix)) onEvent(e);
    const w = { prefix, onEvent };
    this.watchers.add(w);
    return { close: () => this.watchers.delete(w) };
  }

  async close(): Promise<void> {
    this.watchers.clear();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
