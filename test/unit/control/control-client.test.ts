import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStore } from '../../../src/control/store/index.js';
import { ApiServer } from '../../../src/control/api/index.js';
import { ApiClient, ApiClientError, Informer } from '../../../src/control/client/index.js';
import { waitFor } from '../../../src/lab/wait.js';

// The client, the informer and the server's subresources, over a Unix
// socket (what agents in lab namespaces use) and a real durable store.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwcl-'));
const sock = path.join(dir, 'api.sock');
let store: FileStore;
let api: ApiServer;
let client: ApiClient;

async function startServer() {
  store = FileStore.open(path.join(dir, 'store'));
  api = new ApiServer(store);
  await api.bootstrap();
  await api.listenUnix(sock);
}
async function stopServer() {
  await api.close();
  await store.close();
}

const pod = (name: string, nodeName?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'web', image: 'nginx' }] },
});

beforeAll(async () => {
  await startServer();
  client = new ApiClient(`unix:${sock}`);
});
afterAll(async () => {
  client.close();
  await stopServer();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ApiClient', () => {
  it('creates, gets, lists with label and field selectors, deletes', async () => {
    const created = await client.create(pod('a', 'node1'));
    expect(created.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(created.metadata.generation).toBe(1);
    await client.create(pod('b', 'node2'));
    expect((await client.get('pods', 'default', 'a')).spec.nodeName).toBe('node1');
    expect(
      (await client.list('pods', { namespace: 'default', fieldSelector: 'spec.nodeName=node2' })).items.map(
        (p) => p.metadata.name,
      ),
    ).toEqual(['b']);
    expect(
      (await client.list('pods', { fieldSelector: 'spec.nodeName!=node2' })).items.map((p) => p.metadata.name),
    ).toEqual(['a']);
    expect((await client.list('pods', { labelSelector: 'app=db' })).items).toEqual([]);
    await expect(client.list('pods', { fieldSelector: 'spec.containers=x' })).rejects.toThrow(
      /field label not supported: spec.containers/,
    );
    await client.delete('pods', 'default', 'a', { gracePeriodSeconds: 0 });
    await client.delete('pods', 'default', 'b', { gracePeriodSeconds: 0 });
    expect(await client.tryGet('pods', 'default', 'a')).toBeNull();
  });

  it('keeps status apart: spec writes never change it, /status writes change only it', async () => {
    const p = await client.create(pod('s'));
    const st = await client.patch(
      'pods',
      'default',
      's',
      { status: { phase: 'Running', podIP: '10.244.1.5' }, spec: { nodeName: 'evil' } },
      { status: true },
    );
    expect(st.status.phase).toBe('Running');
    expect(st.spec.nodeName).toBeUndefined();
    // a full PUT from a client that does not know the status keeps it
    const put = await client.update({
      ...p,
      metadata: { ...p.metadata, resourceVersion: st.metadata.resourceVersion, labels: { app: 'x' } },
      status: { phase: 'Failed' },
    });
    expect(put.status.phase).toBe('Running');
    expect(put.metadata.labels).toEqual({ app: 'x' });
    expect(put.metadata.generation).toBe(1); // metadata only: same generation
    // stale resourceVersion → Conflict
    await expect(
      client.updateStatus({ ...put, metadata: { ...put.metadata, resourceVersion: p.metadata.resourceVersion } }),
    ).rejects.toMatchObject({ status: 409 });
    await client.delete('pods', 'default', 's', { gracePeriodSeconds: 0 });
  });

  it('binds a pod once (pods/binding), then refuses', async () => {
    await client.create(pod('bind-me'));
    await client.request('POST', '/api/v1/namespaces/default/pods/bind-me/binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'bind-me' },
      target: { kind: 'Node', name: 'node3' },
    });
    expect((await client.get('pods', 'default', 'bind-me')).spec.nodeName).toBe('node3');
    const again = client.request('POST', '/api/v1/namespaces/default/pods/bind-me/binding', {
      target: { name: 'node1' },
    });
    await expect(again).rejects.toBeInstanceOf(ApiClientError);
    await expect(again).rejects.toMatchObject({ status: 409 });
    await client.delete('pods', 'default', 'bind-me', { gracePeriodSeconds: 0 });
  });

  it('answers pods/log with kubectl’s error when the container is ambiguous', async () => {
    await client.create({
      ...pod('two'),
      spec: {
        nodeName: 'node1',
        containers: [
          { name: 'a', image: 'nginx' },
          { name: 'b', image: 'busybox' },
        ],
      },
    });
    await expect(client.text('/api/v1/namespaces/default/pods/two/log')).rejects.toThrow(
      'a container name must be specified for pod two, choose one of: [a b]',
    );
    await expect(client.text('/api/v1/namespaces/default/pods/two/log?container=a')).rejects.toThrow(
      /node node1 has no InternalIP/,
    );
    await client.delete('pods', 'default', 'two', { gracePeriodSeconds: 0 });
  });

  it('allocates cluster IPs and node ports on Service create, keeps them on update, refuses a taken one', async () => {
    const svc = (name: string, spec: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec },
    });
    const a = await client.create(svc('sa', {}));
    expect(a.spec.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    expect(a.spec.type).toBe('ClusterIP');
    const np = await client.create(svc('sb', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    expect(np.spec.ports[0].nodePort).toBe(30080);
    await expect(client.create(svc('sc', { clusterIP: a.spec.clusterIP }))).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining('already allocated'),
    });
    await expect(
      client.create(svc('sd', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })),
    ).rejects.toMatchObject({ status: 422 });
    // an update without the allocated fields (an apply of the original manifest) keeps them
    const cur = await client.get('services', 'default', 'sa');
    const upd = await client.update({
      ...svc('sa', {}),
      metadata: { name: 'sa', namespace: 'default', resourceVersion: cur.metadata.resourceVersion },
    });
    expect(upd.spec.clusterIP).toBe(a.spec.clusterIP);
    for (const n of ['sa', 'sb']) await client.delete('services', 'default', n);
  });

  it('deletes a bound pod gracefully: Terminating until its node confirms with grace 0 (uid precondition)', async () => {
    const p = await client.create(pod('grace', 'node1'));
    const res = await client.delete('pods', 'default', 'grace');
    expect(res.metadata.deletionTimestamp).toBeTruthy();
    expect(res.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await client.get('pods', 'default', 'grace')).metadata.deletionTimestamp).toBe(
      res.metadata.deletionTimestamp,
    );
    // again: still terminating, same deadline
    expect((await client.delete('pods', 'default', 'grace')).metadata.deletionTimestamp).toBe(
      res.metadata.deletionTimestamp,
    );
    await expect(
      client.delete('pods', 'default', 'grace', { gracePeriodSeconds: 0, uid: 'not-this-one' }),
    ).rejects.toMatchObject({ status: 409, message: expect.stringContaining('Precondition failed') });
    await client.delete('pods', 'default', 'grace', { gracePeriodSeconds: 0, uid: p.metadata.uid });
    expect(await client.tryGet('pods', 'default', 'grace')).toBeNull();
    // an unbound pod has nothing to stop: gone at once
    await client.create(pod('unbound'));
    expect((await client.delete('pods', 'default', 'unbound')).kind).toBe('Status');
    expect(await client.tryGet('pods', 'default', 'unbound')).toBeNull();
  });

  it('reports an unreachable server clearly', async () => {
    const c = new ApiClient(`unix:${path.join(dir, 'nobody.sock')}`);
    await expect(c.list('pods')).rejects.toThrow(/cannot reach the API server at unix:.*nobody.sock/);
    c.close();
  });
});

describe('Informer', () => {
  it('lists, follows the watch, and re-lists across an API server restart', async () => {
    const events: string[] = [];
    const inf = new Informer(client, 'pods', { fieldSelector: 'spec.nodeName=node1' });
    inf.on({
      added: (o) => events.push(`added ${o.metadata.name}`),
      modified: (o) => events.push(`modified ${o.metadata.name} ${o.status?.phase}`),
      deleted: (o) => events.push(`deleted ${o.metadata.name}`),
    });
    await client.create(pod('i1', 'node1'));
    await client.create(pod('other', 'node2'));
    await inf.start();
    expect(events).toEqual(['added i1']);
    await client.create(pod('i2', 'node1'));
    await client.patch('pods', 'default', 'i1', { status: { phase: 'Running' } }, { status: true });
    await waitFor('watch events', 5000, () => events.length === 3);
    expect(events).toEqual(['added i1', 'added i2', 'modified i1 Running']);

    // Restart the server; change things while it is down (through the store directly: nobody is serving).
    await stopServer();
    await startServer();
    await client.delete('pods', 'default', 'i2', { gracePeriodSeconds: 0 });
    await client.create(pod('i3', 'node1'));
    await waitFor(
      'informer to catch up after the restart',
      10_000,
      () => inf.list().length === 2 && !!inf.get('default', 'i3'),
    );
    expect(events.slice(3).sort()).toEqual(['added i3', 'deleted i2']);
    inf.stop();
    for (const n of ['i1', 'i3', 'other']) await client.delete('pods', 'default', n, { gracePeriodSeconds: 0 });
  });
});
