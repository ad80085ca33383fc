import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { FileStore } from '../../src/control/store/index.js';
import { ApiServer } from '../../src/control/api/index.js';
import { waitFor } from '../../src/lab/index.js';

// The API server over the durable file store, spoken to with plain HTTP and
// with the real kubectl. (Serves Namespace, ConfigMap and Secret so far: the
// kinds whose whole schema it validates.)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwapi-'));
let store: FileStore;
let api: ApiServer;
let url = '';

async function start() {
  store = FileStore.open(path.join(dir, 'store'));
  api = new ApiServer(store);
  await api.bootstrap();
  url = (await api.listen(0)).url;
}
async function stop() {
  await api.close();
  await store.close();
}
const call = async (method: string, p: string, body?: unknown, contentType = 'application/json') => {
  const r = await fetch(`${url}${p}`, {
    method,
    headers: { 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as any, warning: r.headers.get('warning') };
};
const cm = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels: { app: 'web' } },
  data: { color: 'blue' },
  ...extra,
});

beforeAll(start);
afterAll(async () => {
  await stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('API server (Kubernetes REST conventions)', () => {
  it('serves discovery for exactly the kinds it validates', async () => {
    expect((await call('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = (await call('GET', '/api/v1')).body;
    expect(core.resources.map((r: any) => r.name).sort()).toEqual([
      'configmaps',
      'endpoints',
      'events',
      'namespaces',
      'namespaces/status',
      'nodes',
      'nodes/status',
      'pods',
      'pods/ephemeralcontainers',
      'pods/status',
      'secrets',
      'serviceaccounts',
      'serviceaccounts/token',
      'services',
      'services/status',
    ]);
    expect((await call('GET', '/apis/apps/v1')).body.resources.map((r: any) => r.name).sort()).toEqual([
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ]);
    expect((await call('GET', '/apis')).body.groups.map((g: any) => g.name).sort()).toEqual([
      'apps',
      'authentication.k8s.io',
      'authorization.k8s.io',
      'discovery.k8s.io',
      'gateway.networking.k8s.io',
      'metrics.k8s.io',
      'networking.k8s.io',
      'rbac.authorization.k8s.io',
    ]);
    expect((await call('GET', '/apis/networking.k8s.io/v1')).body.resources.map((r: any) => r.name).sort()).toEqual([
      'ingressclasses',
      'ingresses',
      'ingresses/status',
      'networkpolicies',
    ]);
    expect((await call('GET', '/api/v1/namespaces')).body.items.map((n: any) => n.metadata.name)).toEqual([
      'default',
      'kube-public',
      'kube-system',
    ]);
  });

  it('creates, gets, lists by label selector; a duplicate is 409 AlreadyExists and changes nothing', async () => {
    const c = await call('POST', '/api/v1/namespaces/default/configmaps', cm('web'));
    expect(c.status).toBe(201);
    expect(c.body.metadata).toMatchObject({ name: 'web', namespace: 'default' });
    expect(c.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(c.body.metadata.resourceVersion)).toBeGreaterThan(0);
    await call(
      'POST',
      '/api/v1/namespaces/default/configmaps',
      cm('db', { metadata: { name: 'db', labels: { app: 'db' } } }),
    );
    const dup = await call('POST', '/api/v1/namespaces/default/configmaps', cm('web', { data: { color: 'red' } }));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'configmaps "web" already exists',
      code: 409,
    });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/web')).body.data).toEqual({ color: 'blue' });
    const byLabel = await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=app%3Dweb');
    expect(byLabel.body.items.map((i: any) => i.metadata.name)).toEqual(['web']);
    expect((await call('GET', '/api/v1/configmaps')).body.items).toHaveLength(2); // all namespaces
    expect((await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=app%20in%20(')).status).toBe(400);
  });

  it('rejects bad input with field-level reasons and stores nothing', async () => {
    const unknown = await call('POST', '/api/v1/namespaces/default/configmaps', cm('x', { spec: {} }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe('strict decoding error: unknown field "spec"');
    const bad = await call(
      'POST',
      '/api/v1/namespaces/default/configmaps',
      cm('Bad_Name', { metadata: { name: 'Bad_Name', labels: { app: 'has space' } } }),
    );
    expect(bad.status).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    expect(bad.body.details.causes.map((c: any) => c.field)).toEqual(['metadata.name', 'metadata.labels']);
    expect((await call('POST', '/api/v1/namespaces/nowhere/configmaps', cm('y'))).body).toMatchObject({
      code: 404,
      message: 'namespaces "nowhere" not found',
    });
    expect(
      (
        await call('POST', '/api/v1/namespaces/default/configmaps', {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'z' },
        })
      ).status,
    ).toBe(400);
    const notJson = await fetch(`${url}/api/v1/namespaces/default/configmaps`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect((await call('GET', '/api/v1/configmaps')).body.items.map((i: any) => i.metadata.name).sort()).toEqual([
      'db',
      'web',
    ]);
    const ignored = await call(
      'POST',
      '/api/v1/namespaces/default/configmaps?fieldValidation=Warn',
      cm('lenient', { spec: {} }),
    );
    expect(ignored.status).toBe(201);
    expect(ignored.body.spec).toBeUndefined();
    expect(ignored.warning).toContain('unknown field \\"spec\\"'.replace(/\\/g, '').replace(/"/g, "'"));
  });

  it('updates with optimistic concurrency: a stale resourceVersion is 409 Conflict', async () => {
    const cur = (await call('GET', '/api/v1/namespaces/default/configmaps/web')).body;
    const ok = await call('PUT', '/api/v1/namespaces/default/configmaps/web', { ...cur, data: { color: 'green' } });
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.uid).toBe(cur.metadata.uid);
    const stale = await call('PUT', '/api/v1/namespaces/default/configmaps/web', { ...cur, data: { color: 'red' } });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toMatch(/the object has been modified/);
    const patched = await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/web',
      { data: { size: 'L' } },
      'application/merge-patch+json',
    );
    expect(patched.body.data).toEqual({ color: 'green', size: 'L' });
    // JSON patch (what kubectl rollout undo sends): a list of operations, else 400
    expect(
      (await call('PATCH', '/api/v1/namespaces/default/configmaps/web', { data: {} }, 'application/json-patch+json'))
        .status,
    ).toBe(400);
    const jp = await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/web',
      [{ op: 'replace', path: '/data/size', value: 'XL' }],
      'application/json-patch+json',
    );
    expect([jp.status, jp.body.data]).toEqual([200, { color: 'green', size: 'XL' }]);
    expect(
      (await call('PATCH', '/api/v1/namespaces/default/configmaps/web', { data: {} }, 'application/apply-patch+yaml'))
        .status,
    ).toBe(415);
  });

  it('watches from a resourceVersion: every later change, in order', async () => {
    const rv = (await call('GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
    const ctrl = new AbortController();
    const res = await fetch(`${url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, {
      signal: ctrl.signal,
    });
    const events: any[] = [];
    const reading = (async () => {
      const dec = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += dec.decode(chunk);
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buf.slice(0, nl)));
            buf = buf.slice(nl + 1);
          }
        }
      } catch {
        /* aborted */
      }
    })();
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('w1'));
    await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/w1',
      { data: { a: 'b' } },
      'application/merge-patch+json',
    );
    await call('DELETE', '/api/v1/namespaces/default/configmaps/w1');
    await waitFor('3 watch events', 5_000, () => events.length >= 3, 20);
    ctrl.abort();
    await reading;
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'w1'],
      ['MODIFIED', 'w1'],
      ['DELETED', 'w1'],
    ]);
    expect(Number(events[1].object.metadata.resourceVersion)).toBeGreaterThan(
      Number(events[0].object.metadata.resourceVersion),
    );
  });

  it('keeps every object across an API server restart', async () => {
    const before = (await call('GET', '/api/v1/configmaps')).body.items.map((i: any) => [
      i.metadata.name,
      i.metadata.uid,
      i.metadata.resourceVersion,
    ]);
    await stop();
    await start();
    const after = (await call('GET', '/api/v1/configmaps')).body.items.map((i: any) => [
      i.metadata.name,
      i.metadata.uid,
      i.metadata.resourceVersion,
    ]);
    expect(after).toEqual(before);
  });

  it('real kubectl: create -f, get, a clear strict-validation error, delete', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pwkube-'));
    // kubectl before 1.27 validates client-side from OpenAPI v2, which podwire
    // does not serve; --validate=false there (the server still checks strictly).
    const v = JSON.parse((await execa('kubectl', ['version', '--client', '-o', 'json'])).stdout).clientVersion;
    const old = Number(v.major) === 1 && parseInt(v.minor, 10) < 27;
    const k = (...args: string[]) =>
      execa(
        'kubectl',
        ['--server', url, '--cache-dir', cache, ...(old && args[0] === 'create' ? ['--validate=false'] : []), ...args],
        { reject: false },
      );
    const manifest = path.join(dir, 'cm.yaml');
    fs.writeFileSync(
      manifest,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-kubectl\n  labels:\n    tier: demo\ndata:\n  key: value\n',
    );
    const created = await k('create', '-f', manifest);
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout).toBe('configmap/from-kubectl created');
    const got = await k('get', 'configmaps', '-l', 'tier=demo', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(got.stdout).toBe('from-kubectl');
    fs.writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\n  lables: {}\n');
    const bad = await k('create', '-f', manifest);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('strict decoding error: unknown field "metadata.lables"');
    const del = await k('delete', 'configmap', 'from-kubectl');
    expect(del.stdout).toBe('configmap "from-kubectl" deleted');
    expect((await k('get', 'configmap', 'from-kubectl')).stderr).toContain('configmaps "from-kubectl" not found');
    fs.rmSync(cache, { recursive: true, force: true });
  });
});

describe('API server limits and semantics (what kube-apiserver refuses, and how)', () => {
  const post = (body: string, p = '/api/v1/namespaces/default/configmaps') =>
    fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

  it('a body over 3 MiB is 413, an object over 1.5 MiB is 413, nesting 5,000 deep is 400 on every write', async () => {
    const big = await post(JSON.stringify(cm('big', { data: { a: 'x'.repeat(4 << 20) } })));
    expect([big.status, big.body.reason, big.body.message]).toEqual([
      413,
      'RequestEntityTooLarge',
      'Request entity too large: limit is 3145728',
    ]);
    // under the body limit, over etcd's 1.5 MiB (and with no per-field limit of its own: a Pod's env value)
    const fat = await post(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'fat' },
        spec: {
          containers: [{ name: 'c', image: 'nginx', env: [{ name: 'A', value: 'x'.repeat(1.6 * 1024 * 1024) }] }],
        },
      }),
      '/api/v1/namespaces/default/pods',
    );
    expect([fat.status, fat.body.message]).toEqual([413, 'Request entity too large: etcdserver: request is too large']);
    // a ConfigMap's own limit is 1 MiB of data: 422 as ValidateConfigMap words it
    const mib = await post(JSON.stringify(cm('mib', { data: { a: 'x'.repeat(1.1 * 1024 * 1024) } })));
    expect([mib.status, mib.body.message]).toEqual([
      422,
      'ConfigMap "mib" is invalid: []: Too long: must have at most 1048576 bytes',
    ]);
    const nested = await post(
      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep","labels":${deep(5000)}}}`,
    );
    expect([nested.status, nested.body.message]).toEqual([
      400,
      "the request body nests more than 100 levels deep (podwire's limit; no kind it serves needs it)",
    ]);
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('shallow'));
    for (const [ct, body] of [
      ['application/merge-patch+json', `{"data":${deep(5000)}}`],
      ['application/strategic-merge-patch+json', `{"metadata":{"annotations":${deep(5000)}}}`],
      ['application/json-patch+json', `[{"op":"add","path":"/data/x","value":${deep(5000)}}]`],
    ]) {
      const r = await fetch(`${url}/api/v1/namespaces/default/configmaps/shallow`, {
        method: 'PATCH',
        headers: { 'content-type': ct },
        body,
      });
      expect([ct, r.status]).toEqual([ct, 400]);
    }
    // a body within the limit that makes the object deeper than it: refused before validation walks it
    const grown = await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/shallow',
      [{ op: 'add', path: '/metadata/labels/x', value: JSON.parse(deep(98)) }], // 100 levels; the result 101
      'application/json-patch+json',
    );
    expect(grown.body.message).toMatch(/^the patched object nests more than 100 levels deep/);
    expect(grown.status).toBe(400);
    expect(await (await fetch(`${url}/readyz`)).text()).toBe('ok'); // still serving
  });

  it('deletecollection: DELETE on a collection with label or field selectors answers the deleted objects', async () => {
    for (const [name, app] of [
      ['dc1', 'gone'],
      ['dc2', 'gone'],
      ['dc3', 'kept'],
    ])
      await call('POST', '/api/v1/namespaces/default/configmaps', cm(name, { metadata: { name, labels: { app } } }));
    const byLabel = await call('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=app%3Dgone');
    expect([byLabel.status, byLabel.body.kind]).toEqual([200, 'ConfigMapList']);
    expect(byLabel.body.items.map((i: any) => i.metadata.name)).toEqual(['dc1', 'dc2']);
    const byField = await call('DELETE', '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Ddc3');
    expect(byField.body.items.map((i: any) => i.metadata.name)).toEqual(['dc3']);
    expect((await call('DELETE', '/api/v1/namespaces')).status).toBe(405); // as upstream: namespaces have none
    const core = (await call('GET', '/api/v1')).body.resources;
    expect(core.find((r: any) => r.name === 'configmaps').verbs).toContain('deletecollection');
    expect(core.find((r: any) => r.name === 'namespaces').verbs).not.toContain('deletecollection');
  });

  it("Secrets: stringData becomes data and is never kept; bad base64 400 as Kubernetes' decoder; a type's keys 422", async () => {
    const created = await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      data: { user: 'YWRtaW4=' },
      stringData: { password: 'hunter2' },
    });
    expect(created.status).toBe(201);
    expect(created.body.stringData).toBeUndefined();
    expect(created.body.data).toEqual({ user: 'YWRtaW4=', password: 'aHVudGVyMg==' });
    const patched = await call(
      'PATCH',
      '/api/v1/namespaces/default/secrets/db',
      { stringData: { password: 'swordfish' } },
      'application/merge-patch+json',
    );
    expect([patched.body.stringData, patched.body.data.password]).toEqual([undefined, 'c3dvcmRmaXNo']);
    expect((await call('GET', '/api/v1/namespaces/default/secrets/db')).body.stringData).toBeUndefined();
    const bad = await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bad' },
      data: { password: 'admin' },
    });
    expect([bad.status, bad.body.message]).toEqual([
      400,
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 4',
    ]);
    const tls = await call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls' },
      type: 'kubernetes.io/tls',
      stringData: { 'tls.crt': 'cert' },
    });
    expect([tls.status, tls.body.message]).toEqual([422, 'Secret "tls" is invalid: data[tls.key]: Required value']);
    const retype = await call(
      'PATCH',
      '/api/v1/namespaces/default/secrets/db',
      { type: 'kubernetes.io/basic-auth' },
      'application/merge-patch+json',
    );
    expect([retype.status, retype.body.message]).toEqual([
      422,
      'Secret "db" is invalid: type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    ]);
  });

  it('real kubectl: delete -l and --all, delete --raw on a collection, and the 413 in its words', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pwkube-'));
    const k = (...args: string[]) =>
      execa('kubectl', ['--server', url, '--cache-dir', cache, ...args], { reject: false });
    for (const n of ['k1', 'k2', 'k3'])
      expect((await k('create', 'configmap', n, '--from-literal=a=b')).exitCode).toBe(0);
    await k('label', 'configmap', 'k1', 'k2', 'app=x');
    expect((await k('delete', 'configmaps', '-l', 'app=x')).stdout).toBe(
      'configmap "k1" deleted\nconfigmap "k2" deleted',
    );
    // server-side dry runs write nothing: delete, and apply
    expect((await k('delete', 'configmap', 'k3', '--dry-run=server')).stdout).toBe(
      'configmap "k3" deleted (server dry run)',
    );
    expect((await k('get', 'configmap', 'k3')).exitCode).toBe(0);
    const m = path.join(dir, 'dry.yaml');
    fs.writeFileSync(m, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n');
    expect((await k('apply', '-f', m, '--dry-run=server')).stdout).toBe('configmap/dry created (server dry run)');
    expect((await k('get', 'configmap', 'dry')).exitCode).toBe(1);
    await k('label', 'configmap', 'k3', 'app=raw');
    const raw = await k('delete', '--raw', '/api/v1/namespaces/default/configmaps?labelSelector=app%3Draw');
    expect(raw.exitCode, raw.stderr).toBe(0);
    expect(JSON.parse(raw.stdout).items.map((i: any) => i.metadata.name)).toEqual(['k3']);
    await k('create', 'namespace', 'sweep');
    for (const n of ['s1', 's2']) await k('-n', 'sweep', 'create', 'configmap', n);
    expect((await k('-n', 'sweep', 'delete', 'configmaps', '--all')).stdout).toBe(
      'configmap "s1" deleted\nconfigmap "s2" deleted',
    );
    const f = path.join(dir, 'big.json');
    fs.writeFileSync(f, JSON.stringify(cm('huge', { data: { a: 'x'.repeat(4 << 20) } })));
    const big = await k('create', '-f', f);
    expect(big.stderr).toContain(
      `Error from server (RequestEntityTooLarge): error when creating "${f}": Request entity too large: limit is 3145728`,
    );
    fs.rmSync(cache, { recursive: true, force: true });
  });
});

describe('podwire apply (all or nothing)', () => {
  const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const podwire = (...args: string[]) =>
    execa(process.execPath, [path.join(repo, 'bin/podwire.js'), ...args, '--server', url], { reject: false });

  it('applies seed manifests unchanged; applying again changes nothing', async () => {
    const files = ['003-multi-container-pod.yaml', '003-multi-tier-services.yaml'].map((f) =>
      path.join(repo, 'examples', f),
    );
    // every seed manifest applies unchanged (all of examples/: Pods, Services, NetworkPolicies, Ingress, Gateway API),
    // once the namespaces they name exist (the articles never create them; Kubernetes would refuse them too)
    const { parseAllDocuments } = await import('yaml');
    const namespaces = new Set<string>();
    for (const f of fs.readdirSync(path.join(repo, 'examples')).filter((x) => x.endsWith('.yaml'))) {
      for (const d of parseAllDocuments(fs.readFileSync(path.join(repo, 'examples', f), 'utf8'))) {
        const ns = (d.toJS() as any)?.metadata?.namespace;
        if (ns) namespaces.add(ns);
      }
    }
    for (const ns of namespaces)
      await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const all = await podwire('apply', '-f', path.join(repo, 'examples'));
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout.split('\n').length).toBeGreaterThanOrEqual(24);
    const first = await podwire('apply', '-f', ...files);
    expect(first.exitCode, first.stderr).toBe(0);
    // (another article's file defines a different "database" Service, applied just before)
    expect(first.stdout.split('\n')).toEqual([
      'pod/multi-container-pod unchanged',
      'service/frontend unchanged',
      'service/backend unchanged',
      'service/database configured',
    ]);
    const again = await podwire('apply', '-f', ...files);
    expect(again.stdout.split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
    const pod = (await call('GET', '/api/v1/namespaces/default/pods/multi-container-pod')).body;
    expect(pod.spec.containers.map((c: any) => c.name)).toEqual(['nginx', 'sidecar']);
  });

  it('creates a namespace and what lives in it from one file, and reports "configured" on change', async () => {
    const f = path.join(dir, 'shop.yaml');
    const doc = (color: string) =>
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theme\n  namespace: shop\ndata:\n  color: ${color}\n`;
    fs.writeFileSync(f, doc('red'));
    expect((await podwire('apply', '-f', f)).stdout).toBe('namespace/shop created\nconfigmap/theme created');
    fs.writeFileSync(f, doc('blue'));
    expect((await podwire('apply', '-f', f)).stdout).toBe('namespace/shop unchanged\nconfigmap/theme configured');
  });

  it('applies nothing when any document is wrong, and says which and why', async () => {
    const f = path.join(dir, 'mixed.yaml');
    fs.writeFileSync(
      f,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good-one\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bad-one\nspec:\n  containers:\n  - name: c\n    image: nginx\n    portz: []\n',
    );
    const r = await podwire('apply', '-f', f);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      `error: ${f}: document 2 (pod/bad-one): strict decoding error: unknown field "spec.containers[0].portz"`,
    );
    expect(r.stderr).toContain('nothing was applied');
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/good-one')).status).toBe(404);
    fs.writeFileSync(f, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n');
    const broken = await podwire('apply', '-f', f);
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`error: ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: `));
    fs.writeFileSync(f, 'apiVersion: v1\nkind: Potato\nmetadata:\n  name: x\n');
    expect((await podwire('apply', '-f', f)).stderr).toContain('no matches for kind "Potato" in version "v1"');
  });

  it('documents that conflict with each other apply nothing; a write that still fails is rolled back', async () => {
    const f = path.join(dir, 'clash.yaml');
    const svc = (name: string, ip: string, ns = 'default') =>
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  clusterIP: ${ip}\n  ports:\n  - port: 80\n`;
    // the case: each passes a dry run alone; together the second is refused
    fs.writeFileSync(f, [svc('one', '10.96.7.7'), svc('two', '10.96.7.7'), svc('three', '10.96.7.8')].join('---\n'));
    const clash = await podwire('apply', '-f', f);
    expect(clash.exitCode).toBe(1);
    expect(clash.stderr).toContain(
      `error: ${f}: document 2 (service/two): spec.clusterIPs: Invalid value: ["10.96.7.7"]: failed to allocate IP 10.96.7.7: provided IP is already allocated (asked for by ${f}: document 1 (service/one))`,
    );
    expect(clash.stderr).toContain('nothing was applied');
    for (const n of ['one', 'two', 'three'])
      expect((await call('GET', `/api/v1/namespaces/default/services/${n}`)).status).toBe(404);
    // a namespace made by this apply hides what its objects will meet (no dry run can be made in it):
    // the Service's IP is taken by one outside the file — the namespace and the ConfigMap are undone
    await call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'holder' },
      spec: { clusterIP: '10.96.7.9', ports: [{ port: 80 }] },
    });
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('before', { data: { v: 'old' } }));
    fs.writeFileSync(
      f,
      [
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\ndata:\n  v: new\n',
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: fresh\n',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n  namespace: fresh\n',
        svc('late', '10.96.7.9', 'fresh'),
      ].join('---\n'),
    );
    const late = await podwire('apply', '-f', f);
    expect(late.exitCode).toBe(1);
    expect(late.stderr).toContain(`${f}: document 4 (service/late): Service "late" is invalid`);
    expect(late.stderr).toContain(
      'rolled back: configmap/inside deleted, namespace/fresh deleted, configmap/before restored',
    );
    expect(late.stderr).toContain('nothing was applied');
    expect((await call('GET', '/api/v1/namespaces/fresh')).status).toBe(404);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/before')).body.data).toEqual({ v: 'old' });
  });
});
