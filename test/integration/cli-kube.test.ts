import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { FileStore } from '../../src/control/store/index.js';
import { ApiServer } from '../../src/control/api/index.js';
import { ApiClient, Informer } from '../../src/control/client/index.js';
import { waitFor } from '../../src/lab/wait.js';

// The real `podwire` CLI (bin/podwire.js, from dist/: build first) against a
// real API server and durable store on a Unix socket in a temp dir — what
// the netns lab serves — with objects made through the API: kubectl's verbs
// with their output and exit codes. No root needed. (kubectl itself cannot
// speak to a Unix socket; the API server tests compare with it over TCP.)
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwkube-'));
const sock = path.join(dir, 'api.sock');
const server = `unix:${sock}`;
let store: FileStore;
let api: ApiServer;
let client: ApiClient;
let kubelet: http.Server;
/** node1's agent's part in deletion: a terminating pod is confirmed stopped (deleted with grace 0) */
let finalizer: Informer;
let kubeletPort = 0;
/** watch streams open on the store: how a test knows the CLI is watching */
let watching = 0;

const podwire = (...args: string[]) =>
  execa(process.execPath, [path.join(repo, 'bin/podwire.js'), '--server', server, ...args], {
    reject: false,
    env: { TZ: 'UTC' },
  });
const spawnPodwire = (...args: string[]): ResultPromise =>
  execa(process.execPath, [path.join(repo, 'bin/podwire.js'), '--server', server, ...args], {
    reject: false,
    buffer: true,
    env: { TZ: 'UTC' },
  });
/** text with its ages ("5s", "3m2s", "2 (5s ago)") and dates made stable; an age and the padding after it keep their width */
const stable = (text: string) =>
  text
    .replace(/\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}/g, '<date>')
    .replace(/\b\d+(?:s|m\d*s?|h\d*m?|d\d*h?)\b( *)/g, (m) => '<age>'.padEnd(m.length));

const pod = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] }], ...extra },
});
const readyStatus = (ip: string, ready = true) => ({
  status: {
    phase: 'Running',
    hostIP: '127.0.0.1',
    podIP: ip,
    podIPs: [{ ip }],
    startTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        lastProbeTime: null,
        lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    ],
    containerStatuses: [
      {
        name: 'web',
        ready,
        restartCount: 0,
        started: true,
        image: 'nginx',
        imageID: '',
        state: { running: { startedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } },
        lastState: {},
      },
    ],
  },
});

beforeAll(async () => {
  store = FileStore.open(path.join(dir, 'store'));
  const watch = store.watch.bind(store);
  store.watch = (async (...a: Parameters<typeof watch>) => {
    const h = await watch(...a);
    watching++;
    let open = true;
    return {
      ...h,
      close: () => {
        if (open) watching--;
        open = false;
        return h.close();
      },
    };
  }) as typeof store.watch;
  api = new ApiServer(store);
  await api.bootstrap();
  await api.listenUnix(sock);
  client = new ApiClient(server);
  // A stand-in for a node agent's log endpoint (/containerLogs/{ns}/{pod}/{container}).
  kubelet = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const [, , ns, name, container] = url.pathname.split('/');
    let lines = [1, 2, 3].map((i) => `${ns}/${name}/${container} line ${i}`);
    if (url.searchParams.get('previous') === 'true') lines = ['the previous run'];
    const tail = url.searchParams.get('tailLines');
    if (tail !== null) lines = lines.slice(-Number(tail));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(lines.map((l) => `${l}\n`).join(''));
    if (url.searchParams.get('follow') !== 'true') return void res.end();
    let n = 0;
    const t = setInterval(() => {
      res.write(`followed ${++n}\n`);
      if (n === 2) {
        clearInterval(t);
        res.end();
      }
    }, 50);
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', () => r()));
  kubeletPort = (kubelet.address() as import('node:net').AddressInfo).port;
  await client.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node1', labels: { 'kubernetes.io/hostname': 'node1' } },
    spec: { podCIDR: '10.244.1.0/24' },
  });
  await client.patch(
    'nodes',
    undefined,
    'node1',
    {
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            lastHeartbeatTime: '2024-05-01T12:00:00Z',
            lastTransitionTime: '2024-05-01T11:00:00Z',
            reason: 'KubeletReady',
            message: 'agent is posting ready status',
          },
        ],
      },
    },
    { status: true },
  );
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } });
  finalizer = new Informer(client, 'pods');
  const confirm = (p: { metadata: { namespace?: string; name: string; uid?: string; deletionTimestamp?: string } }) => {
    if (p.metadata.deletionTimestamp)
      void client
        .delete('pods', p.metadata.namespace, p.metadata.name, { gracePeriodSeconds: 0, uid: p.metadata.uid })
        .catch(() => {});
  };
  finalizer.on({ added: confirm, modified: confirm });
  await finalizer.start();
});

afterAll(async () => {
  finalizer.stop();
  client.close();
  await new Promise<void>((r) => kubelet.close(() => r()));
  await api.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('podwire apply -f with a unix: server', () => {
  it('creates everything, or nothing when one document is wrong', async () => {
    const f = path.join(dir, 'app.yaml');
    fs.writeFileSync(
      f,
      [
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  labels: {app: web}\nspec:\n  nodeName: node1\n  containers:\n  - name: web\n    image: nginx\n    ports: [{containerPort: 80, protocol: TCP}]\n',
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n',
        'apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 1\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers: [{name: db, image: postgres}]\n',
      ].join('---\n'),
    );
    const r = await podwire('apply', '-f', f);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'pod/web-1 created\nservice/web created\ndeployment.apps/web created\nstatefulset.apps/db created',
    );
    const again = await podwire('apply', '-f', f);
    expect([again.exitCode, again.stdout.split('\n')[0]]).toEqual([0, 'pod/web-1 unchanged']);
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      bad,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n  - name: c\n    image: x\n    portz: []\n',
    );
    const b = await podwire('apply', '-f', bad);
    expect(b.exitCode).toBe(1);
    expect(b.stderr).toContain('nothing was applied');
    expect(await client.tryGet('configmaps', 'default', 'fine')).toBeNull();
  });
});

describe('podwire get', () => {
  it('pods as kubectl prints them; -o wide; -A; -l', async () => {
    await client.patch('pods', 'default', 'web-1', readyStatus('10.244.1.2'), { status: true });
    await client.create(pod('client', { app: 'client' }));
    const r = await podwire('get', 'pods');
    expect(r.exitCode).toBe(0);
    expect(stable(r.stdout)).toBe(
      stable(
        'NAME     READY   STATUS    RESTARTS   AGE\nclient   0/1     Pending   0          1s\nweb-1    1/1     Running   0          1s',
      ),
    );
    const wide = await podwire('get', 'pods', '-o', 'wide', '-l', 'app=web');
    expect(stable(wide.stdout)).toBe(
      stable(
        'NAME    READY   STATUS    RESTARTS   AGE   IP           NODE    NOMINATED NODE   READINESS GATES\nweb-1   1/1     Running   0          1s    10.244.1.2   node1   <none>           <none>',
      ),
    );
    const all = await podwire('get', 'pods', '-A', '-l', 'app=web');
    expect(stable(all.stdout)).toBe(
      stable(
        'NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE\ndefault     web-1   1/1     Running   0          1s',
      ),
    );
  });

  it('`all`, services, nodes, several types at once', async () => {
    const all = await podwire('get', 'all');
    const sections = all.stdout.split('\n\n');
    expect(sections.map((s) => s.split('\n')[0].split(/\s+/)[0])).toEqual(['NAME', 'NAME', 'NAME', 'NAME']);
    expect(sections[0]).toMatch(/^pod\/client /m);
    expect(sections[1]).toMatch(/^service\/web\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP\s+\S+$/m);
    expect(sections[2]).toMatch(/^deployment\.apps\/web\s+0\/2\s+0\s+0\s+\S+$/m);
    expect(sections[3]).toMatch(/^statefulset\.apps\/db\s+0\/1\s+\S+$/m);
    const nodes = await podwire('get', 'nodes', '-o', 'wide');
    expect(stable(nodes.stdout)).toBe(
      stable(
        'NAME    STATUS   ROLES    AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME\nnode1   Ready    <none>   1s              127.0.0.1     <none>        <unknown>   <unknown>        <unknown>',
      ),
    );
    const two = await podwire('get', 'svc,deploy', 'web', '-o', 'name');
    expect(two.stdout).toBe('service/web\ndeployment.apps/web');
  });

  it('-o yaml / -o json: one object, or a List', async () => {
    const one = await podwire('get', 'pod', 'web-1', '-o', 'yaml');
    expect(one.stdout).toMatch(/^apiVersion: v1\nkind: Pod\nmetadata:\n {2}creationTimestamp: "/);
    expect(one.stdout).toContain('  podIP: 10.244.1.2\n');
    const list = JSON.parse((await podwire('get', 'pods', '-o', 'json')).stdout);
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' } });
    expect(list.items.map((i: any) => `${i.kind}/${i.metadata.name}`)).toEqual(['Pod/client', 'Pod/web-1']);
  });

  it('missing objects: Error from server (NotFound) and exit 1; nothing at all: No resources found, exit 0', async () => {
    const r = await podwire('get', 'pods', 'web-1', 'nope');
    expect(r.exitCode).toBe(1);
    expect(stable(r.stdout)).toBe(
      stable('NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          1s'),
    );
    expect(r.stderr).toBe('Error from server (NotFound): pods "nope" not found');
    const none = await podwire('get', 'pods', '-n', 'empty');
    expect([none.exitCode, none.stdout, none.stderr]).toEqual([0, '', 'No resources found in empty namespace.']);
    const type = await podwire('get', 'potatoes');
    expect([type.exitCode, type.stderr]).toEqual([1, 'error: the server doesn\'t have a resource type "potatoes"']);
  });

  it('-w prints a row for every change, until interrupted', async () => {
    const before = watching;
    const w = spawnPodwire('get', 'pods', '-l', 'app=client', '-w');
    let out = '';
    w.stdout!.on('data', (c) => (out += c));
    await waitFor('get -w to list and watch', 10_000, () => out.includes('client') && watching > before);
    await client.patch('pods', 'default', 'client', readyStatus('10.244.1.3'), { status: true });
    await waitFor(
      'a row for the change',
      10_000,
      () => out.split('\n').filter((l) => l.startsWith('client')).length === 2,
    );
    w.kill('SIGINT');
    const r = await w;
    expect(r.exitCode).toBe(0);
    const rows = stable(out).trimEnd().split('\n');
    expect(rows).toEqual(
      stable(
        'NAME     READY   STATUS    RESTARTS   AGE\nclient   0/1     Pending   0          1s\nclient   1/1     Running   0          1s',
      ).split('\n'),
    );
  });
});

describe('podwire describe', () => {
  it('a pod, with its events at the end', async () => {
    const p = await client.get('pods', 'default', 'web-1');
    const at = (s: number) => new Date(Date.now() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const [i, [reason, message, ago]] of (
      [
        ['Scheduled', 'Successfully assigned default/web-1 to node1', 30],
        ['Started', 'Started container web', 20],
      ] as const
    ).entries()) {
      await client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `web-1.${i}`, namespace: 'default' },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'default', uid: p.metadata.uid },
        reason,
        message,
        source: { component: i ? 'kubelet' : 'default-scheduler' },
        firstTimestamp: at(ago),
        lastTimestamp: at(ago),
        count: 1,
        type: 'Normal',
      });
    }
    // an event about another object must not show
    await client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'other.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'someone-else' },
      reason: 'Killing',
      message: 'old pod',
      firstTimestamp: at(5),
      lastTimestamp: at(5),
      type: 'Normal',
    });
    const r = await podwire('describe', 'pod', 'web-1');
    expect(r.exitCode, r.stderr).toBe(0);
    const text = r.stdout;
    expect(text).toMatch(
      /^Name:\s+web-1\nNamespace:\s+default\nNode:\s+node1\/127\.0\.0\.1\nStart Time:\s+\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\nLabels:\s+app=web\nAnnotations:\s+<none>\nStatus:\s+Running\nIP:\s+10\.244\.1\.2\nIPs:\n {2}IP: {2}10\.244\.1\.2\nContainers:\n/,
    );
    // one tabwriter block from "Container ID" to "Mounts" (no untabbed line between): one column
    expect(stable(text)).toContain(
      stable(
        'Containers:\n  web:\n    Container ID:   \n    Image:          nginx\n    Image ID:       \n    Port:           80/TCP\n    Host Port:      0/TCP\n    State:          Running\n      Started:      Mon, 01 Jan 2024 00:00:00 +0000\n    Ready:          True\n    Restart Count:  0\n    Environment:    <none>\n    Mounts:         <none>\nConditions:\n  Type           Status\n  Ready          True \nVolumes:         <none>\nQoS Class:       BestEffort\n',
      ),
    );
    expect(stable(text.slice(text.indexOf('Events:')))).toBe(
      stable(
        'Events:\n  Type    Reason     Age   From               Message\n  ----    ------     ----  ----               -------\n  Normal  Scheduled  30s   default-scheduler  Successfully assigned default/web-1 to node1\n  Normal  Started    20s   kubelet            Started container web',
      ),
    );
    expect(text).not.toContain('old pod');
  });

  it('a service with its endpoints; a node; a missing object', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: [{ ip: '10.244.1.2' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
    });
    const svc = await podwire('describe', 'svc/web');
    expect(svc.stdout).toMatch(/\nPort:\s+http {2}80\/TCP\nTargetPort:\s+8080\/TCP\nEndpoints:\s+10\.244\.1\.2:8080\n/);
    expect(svc.stdout).toMatch(/\nSession Affinity:  None\nEvents:            <none>$/);
    const node = await podwire('describe', 'node', 'node1');
    expect(node.stdout).toMatch(
      /\nConditions:\n {2}Type {4}Status {2}LastHeartbeatTime {17}LastTransitionTime {16}Reason {9}Message\n/,
    );
    expect(node.stdout).toMatch(/\nAddresses:\n {2}InternalIP: {2}127\.0\.0\.1\n/);
    expect(node.stdout).toMatch(/\nNon-terminated Pods:\s+\(1 in total\)\n/);
    const missing = await podwire('describe', 'pod', 'nope');
    expect([missing.exitCode, missing.stderr]).toEqual([1, 'Error from server (NotFound): pods "nope" not found']);
  });
});

describe('podwire logs', () => {
  it('through the API server to the node agent: --tail, --previous, -f, deploy/NAME, errors', async () => {
    expect((await podwire('logs', 'web-1')).stdout).toBe(
      'default/web-1/web line 1\ndefault/web-1/web line 2\ndefault/web-1/web line 3',
    );
    expect((await podwire('logs', 'web-1', '--tail', '1')).stdout).toBe('default/web-1/web line 3');
    expect((await podwire('logs', 'web-1', '-p')).stdout).toBe('the previous run');
    const f = await podwire('logs', '-f', 'web-1', '--tail=1');
    expect([f.exitCode, f.stdout]).toEqual([0, 'default/web-1/web line 3\nfollowed 1\nfollowed 2']);
    expect((await podwire('logs', 'deploy/web', '--tail', '1')).stdout).toBe('default/web-1/web line 3');
    const bad = await podwire('logs', 'web-1', '-c', 'nope');
    expect([bad.exitCode, bad.stderr]).toEqual([1, 'error: container nope is not valid for pod web-1']);
    const gone = await podwire('logs', 'nope');
    expect([gone.exitCode, gone.stderr]).toEqual([
      1,
      'error: error from server (NotFound): pods "nope" not found in namespace "default"',
    ]);
  });
});

describe('podwire wait', () => {
  it('--for=condition=Ready: met once the pod becomes ready', async () => {
    await client.create(pod('slow', { app: 'slow' }, { nodeName: 'node1' }));
    await client.patch('pods', 'default', 'slow', readyStatus('10.244.1.9', false), { status: true });
    const before = watching;
    const w = spawnPodwire('wait', '--for=condition=Ready', 'pod/slow', '--timeout=30s');
    await waitFor('wait to watch the pod', 10_000, () => watching > before);
    await client.patch('pods', 'default', 'slow', readyStatus('10.244.1.9', true), { status: true });
    const r = await w;
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([0, 'pod/slow condition met', '']);
    const sel = await podwire('wait', '--for=condition=Ready', 'pods', '-l', 'app in (web,slow)');
    expect([sel.exitCode, sel.stdout]).toEqual([0, 'pod/slow condition met\npod/web-1 condition met']);
    const jp = await podwire('wait', "--for=jsonpath='{.status.phase}'=Running", 'pod/web-1');
    expect([jp.exitCode, jp.stdout]).toEqual([0, 'pod/web-1 condition met']);
  });

  it('times out with kubectl’s message and exit 1', async () => {
    await client.create(pod('never', { app: 'never' }));
    const r = await podwire('wait', '--for=condition=Ready', 'pod/never', '--timeout=1s');
    expect([r.exitCode, r.stdout, r.stderr]).toEqual([
      1,
      '',
      'error: timed out waiting for the condition on pods/never',
    ]);
    const none = await podwire('wait', '--for=condition=Ready', 'pods', '-l', 'app=nothing');
    expect([none.exitCode, none.stderr]).toEqual([1, 'error: no matching resources found']);
  });

  it('--for=delete: met when the object goes away', async () => {
    const before = watching;
    const w = spawnPodwire('wait', '--for=delete', 'pod/slow', '--timeout=30s');
    await waitFor('wait to watch the pod', 10_000, () => watching > before);
    await client.delete('pods', 'default', 'slow');
    const r = await w;
    expect([r.exitCode, r.stdout]).toEqual([0, 'pod/slow condition met']);
  });
});

describe('podwire delete', () => {
  it('prints what it deleted; a missing object is NotFound and exit 1', async () => {
    await client.create(pod('tmp-1', { app: 'tmp' }));
    await client.create(pod('tmp-2', { app: 'tmp' }));
    const one = await podwire('delete', 'pod', 'tmp-1', 'nope');
    expect([one.exitCode, one.stdout, one.stderr]).toEqual([
      1,
      'pod "tmp-1" deleted',
      'Error from server (NotFound): pods "nope" not found',
    ]);
    const sel = await podwire('delete', 'pods', '-l', 'app=tmp');
    expect([sel.exitCode, sel.stdout]).toEqual([0, 'pod "tmp-2" deleted']);
    const again = await podwire('delete', 'pods', '-l', 'app=tmp');
    expect([again.exitCode, again.stdout]).toEqual([0, 'No resources found']);
    const noName = await podwire('delete', 'pods');
    expect([noName.exitCode, noName.stderr]).toEqual([
      1,
      'error: resource(s) were provided, but no name was specified',
    ]);
    const f = path.join(dir, 'app.yaml');
    const byFile = await podwire('delete', '-f', f);
    expect([byFile.exitCode, byFile.stdout]).toEqual([
      0,
      'pod "web-1" deleted\nservice "web" deleted\ndeployment.apps "web" deleted\nstatefulset.apps "db" deleted',
    ]);
    const gone = await podwire('delete', '-f', f);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr.split('\n')[0]).toBe(
      `Error from server (NotFound): error when deleting "${f}": pods "web-1" not found`,
    );
    const all = await podwire('delete', 'pods', '--all');
    expect([all.exitCode, all.stdout]).toEqual([0, 'pod "client" deleted\npod "never" deleted']);
  });
});
