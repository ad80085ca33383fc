import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore, StoreError, type Store } from '../../../../src/control/store/index.js';
import { RbacCache, writeThrough } from '../../../../src/control/auth/index.js';
import { waitFor } from '../../../../src/lab/index.js';

// The auth cache over a real file store: current from the server's own writes at once, and
// listed again when its watch fails (here a watch that misses events, then reports an error).
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwrbaccache-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const binding = (name: string) =>
  JSON.stringify({
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [],
  });
const names = (c: RbacCache) => [...c.index.clusterRoleBindings].map((b) => b.metadata.name).sort();

describe('RbacCache', () => {
  it('sees the server’s own writes at once; a failed watch is followed by a fresh list', async () => {
    const store = FileStore.open(path.join(dir, 'store'));
    const errs: ((e: StoreError) => void)[] = [];
    // a watch that loses every event (as a broken stream would) but can report its end
    const deaf: Store = Object.assign(Object.create(store) as Store, {
      watch: async (_p: string, _a: number, _on: unknown, onError?: (e: StoreError) => void) => {
        if (onError) errs.push(onError);
        return { close() {} };
      },
      list: (p: string) => store.list(p),
      get: (k: string) => store.get(k),
    });
    const cache = new RbacCache(deaf);
    await cache.start();
    const w = writeThrough(store, cache);
    await w.create('rbac.authorization.k8s.io/clusterrolebindings/a', binding('a'));
    expect(names(cache)).toEqual(['a']); // through the server: at once
    await store.create('rbac.authorization.k8s.io/clusterrolebindings/b', binding('b'));
    expect(names(cache)).toEqual(['a']); // behind its back, and the watch lost it
    await w.delete('rbac.authorization.k8s.io/clusterrolebindings/a');
    expect(names(cache)).toEqual([]);
    for (const e of errs.splice(0)) e(new StoreError('Unavailable', 'stream broke'));
    await waitFor('the relist', 5_000, () => names(cache).join() === 'b');
    cache.close();
    await store.close();
  });
});
