import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { FileStore, EtcdStore, StoreError, type Store, type WatchEvent } from '../../src/control/store/index.js';
import { waitFor } from '../../src/lab/index.js';

// One suite, two backends: the embedded file store and a real etcd
// (Debian's etcd-server, started here on loopback, ended by its PID).

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pwstore-'));
let etcd: ResultPromise | null = null;
let etcdPort = 0;

async function startEtcd(dataDir: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    etcdPort = 23000 + Math.floor(Math.random() * 10000);
    const peer = etcdPort + 1;
    const proc = execa(
      'etcd',
      [
        '--name',
        'pwtest',
        '--data-dir',
        dataDir,
        '--listen-client-urls',
        `http://127.0.0.1:${etcdPort}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${etcdPort}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `pwtest=http://127.0.0.1:${peer}`,
      ],
      { reject: false, all: true },
    );
    let log = '';
    proc.all!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await waitFor(
        'etcd to serve',
        20_000,
        async () => {
          if (proc.exitCode !== null) throw new Error(`etcd exited: ${log.slice(-500)}`);
          const s = new EtcdStore(`http://127.0.0.1:${etcdPort}`);
          try {
            await s.list('');
            return true;
          } catch {
            return false;
          } finally {
            await s.close();
          }
        },
        200,
      );
      etcd = proc;
      return;
    } catch (err) {
      proc.kill('SIGKILL');
      await proc;
      if (!/address already in use/.test(log)) throw err;
    }
  }
  throw new Error('could not find a free port for etcd');
}

async function stopEtcd(): Promise<void> {
  if (!etcd) return;
  etcd.kill('SIGTERM');
  await etcd;
  etcd = null;
}

beforeAll(async () => {
  await startEtcd(path.join(root, 'etcd'));
}, 60_000);
afterAll(async () => {
  await stopEtcd();
  fs.rmSync(root, { recursive: true, force: true });
});

let seq = 0;
const backends: [string, () => Store, () => Promise<Store>][] = [
  [
    'file',
    () => FileStore.open(path.join(root, `file-${++seq}`)),
    async () => FileStore.open(path.join(root, `file-${seq}`)),
  ],
  [
    'etcd',
    () => new EtcdStore(`http://127.0.0.1:${etcdPort}`, `/pwtest-${++seq}/`),
    async () => {
      await stopEtcd();
      await startEtcd(path.join(root, 'etcd'));
      return new EtcdStore(`http://127.0.0.1:${etcdPort}`, `/pwtest-${seq}/`);
    },
  ],
];

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return (e as StoreError).code;
  }
  return 'no error';
};

describe.each(backends)('%s store', (_name, make, reopen) => {
  it('creates, gets and lists with revisions; a duplicate create is AlreadyExists and changes nothing', async () => {
    const s = make();
    const a = await s.create('pods/default/a', '{"n":1}');
    const b = await s.create('pods/default/b', '{"n":2}');
    expect(b.modRevision).toBeGreaterThan(a.modRevision);
    expect(a).toMatchObject({ version: 1, createRevision: a.modRevision });
    expect(await codeOf(s.create('pods/default/a', '{"n":9}'))).toBe('AlreadyExists');
    expect((await s.get('pods/default/a'))!.value).toBe('{"n":1}');
    const l = await s.list('pods/');
    expect(l.items.map((i) => i.key)).toEqual(['pods/default/a', 'pods/default/b']);
    expect(l.revision).toBeGreaterThanOrEqual(b.modRevision);
    expect(await s.get('pods/default/none')).toBeNull();
    await s.close();
  });

  it("keeps etcd's request limit (1.5 MiB: TooLarge, the API's 413) and answers its health check", async () => {
    const s = make();
    await s.health(2_000);
    const big = JSON.stringify({ v: 'x'.repeat(1.5 * 1024 * 1024) });
    expect(await codeOf(s.create('pods/default/big', big))).toBe('TooLarge');
    await s.create('pods/default/small', '{}');
    expect(await codeOf(s.update('pods/default/small', big))).toBe('TooLarge');
    expect((await s.get('pods/default/small'))!.value).toBe('{}');
    await s.close();
  });

  it('updates with optimistic concurrency: a stale revision is Conflict, a missing key NotFound', async () => {
    const s = make();
    const a = await s.create('svc/x', 'v1');
    const a2 = await s.update('svc/x', 'v2', a.modRevision);
    expect(a2).toMatchObject({ value: 'v2', version: 2, createRevision: a.createRevision });
    expect(await codeOf(s.update('svc/x', 'v3', a.modRevision))).toBe('Conflict');
    expect((await s.get('svc/x'))!.value).toBe('v2');
    expect(await codeOf(s.update('svc/missing', 'v'))).toBe('NotFound');
    expect(await codeOf(s.delete('svc/x', a.modRevision))).toBe('Conflict');
    expect((await s.delete('svc/x')).value).toBe('v2');
    expect(await codeOf(s.delete('svc/x'))).toBe('NotFound');
    await s.close();
  });

  it('watches from a revision: every later change under the prefix, in order, then live ones', async () => {
    const s = make();
    await s.create('w/a', '1');
    const { revision } = await s.list('w/');
    await s.update('w/a', '2');
    await s.create('other/z', 'x');
    const events: WatchEvent[] = [];
    const w = await s.watch('w/', revision, (e) => events.push(e));
    await s.create('w/b', '3');
    await s.delete('w/a');
    await waitFor('3 events', 5_000, () => events.length >= 3, 20);
    expect(events.map((e) => [e.type, e.key, e.value])).toEqual([
      ['MODIFIED', 'w/a', '2'],
      ['ADDED', 'w/b', '3'],
      ['DELETED', 'w/a', '2'],
    ]);
    expect(events.map((e) => e.revision)).toEqual([...events.map((e) => e.revision)].sort((x, y) => x - y));
    w.close();
    await s.close();
  });

  it('keeps everything across a restart, and revisions go on from where they were', async () => {
    const s = make();
    for (let i = 0; i < 20; i++) await s.create(`r/${i}`, `v${i}`);
    const before = await s.list('r/');
    await s.close();
    const t = await reopen();
    const after = await t.list('r/');
    expect(after.items).toEqual(before.items);
    const next = await t.create('r/x', 'y');
    expect(next.modRevision).toBeGreaterThan(before.revision);
    await t.close();
  });
});

describe('file store durability', () => {
  it('kill -9 loses nothing that was acknowledged', async () => {
    const dir = path.join(root, 'kill9');
    const script = `import('${path.resolve('dist/control/store/index.js')}').then(async ({ FileStore }) => {
      const s = FileStore.open(${JSON.stringify(dir)});
      for (let i = 0; ; i++) { await s.create('k/' + i, 'value-' + i); process.stdout.write('acked ' + i + '\\n'); }
    })`;
    const child = execa(process.execPath, ['-e', script], { reject: false });
    let acked = -1;
    child.stdout!.on('data', (d: Buffer) => {
      const m = [...d.toString().matchAll(/acked (\d+)/g)].pop();
      if (m) acked = Number(m[1]);
    });
    await waitFor('some writes', 10_000, () => acked >= 200, 5);
    child.kill('SIGKILL');
    await child;
    const s = FileStore.open(dir);
    const { items } = await s.list('k/');
    expect(items.length).toBeGreaterThanOrEqual(acked + 1); // everything acknowledged (maybe one more, written but not yet acked)
    for (let i = 0; i <= acked; i++) expect((await s.get(`k/${i}`))?.value).toBe(`value-${i}`);
    await s.close();
  });

  it('reports a torn final write instead of dropping it silently, and keeps working', async () => {
    const dir = path.join(root, 'torn');
    const s = FileStore.open(dir);
    await s.create('t/a', 'A');
    await s.create('t/b', 'B');
    await s.close();
    const wal = path.join(dir, 'wal.log');
    const good = fs.statSync(wal).size;
    fs.appendFileSync(wal, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 0x7b, 0x22])); // a record cut off mid-write
    const t = FileStore.open(dir);
    expect(t.recovery).toMatchObject({ tornBytes: 10, tornAtOffset: good, recordsReplayed: 2 });
    expect((await t.list('t/')).items.map((i) => i.value)).toEqual(['A', 'B']);
    await t.create('t/c', 'C');
    await t.close();
    const u = FileStore.open(dir);
    expect(u.recovery.tornBytes).toBe(0);
    expect((await u.list('t/')).items).toHaveLength(3);
    await u.close();
  });

  it('refuses to open when a record in the middle is damaged (acknowledged writes would be lost)', async () => {
    const dir = path.join(root, 'corrupt');
    const s = FileStore.open(dir);
    for (let i = 0; i < 3; i++) await s.create(`c/${i}`, `v${i}`);
    await s.close();
    const wal = path.join(dir, 'wal.log');
    const buf = fs.readFileSync(wal);
    buf[12] ^= 0xff; // inside the first record's JSON
    fs.writeFileSync(wal, buf);
    expect(() => FileStore.open(dir)).toThrow(StoreError);
    try {
      FileStore.open(dir);
    } catch (e) {
      expect((e as StoreError).code).toBe('Corrupt');
      expect((e as Error).message).toMatch(/refusing to lose acknowledged writes/);
    }
  });

  it('compacts into a snapshot and still reopens with everything', async () => {
    const dir = path.join(root, 'compact');
    const s = FileStore.open(dir, { compactAtBytes: 2000 });
    for (let i = 0; i < 100; i++) await s.create(`p/${i}`, 'x'.repeat(50));
    for (let i = 0; i < 50; i++) await s.delete(`p/${i}`);
    const before = await s.list('p/');
    await s.close();
    expect(fs.existsSync(path.join(dir, 'snapshot.json'))).toBe(true);
    expect(fs.statSync(path.join(dir, 'wal.log')).size).toBeLessThan(2000 + 200);
    const t = FileStore.open(dir, { compactAtBytes: 2000 });
    expect((await t.list('p/')).items).toEqual(before.items);
    await t.close();
  });
});
