import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { execa } from 'execa';
import {
  labUp,
  restartAgent,
  restartApiServer,
  waitFor,
  readLabState,
  type LabState,
  adminKubeconfigPath,
} from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { listNetns, execaRunner } from '../../src/host/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// A 3-node netns lab with its control plane: the API server and controllers
// in the lab's own namespace, agents registering Nodes and running the pods
// the scheduler binds to them, as processes in the pods' namespaces.
const prefix = testPrefix('cp');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
let state: LabState;
let client: ApiClient;

const docs = (file: string) =>
  parseAllDocuments(fs.readFileSync(path.join(root, file), 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean) as KubeObject[];
const ready = (p: KubeObject | null) =>
  p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
const pods = async (selector?: string) =>
  (await client.list('pods', { namespace: 'default', labelSelector: selector })).items;
const podIn = (p: KubeObject) =>
  p.metadata.namespace === 'default'
    ? `${prefix}-pod-${p.metadata.name}`
    : `${prefix}-pod-${p.metadata.name}.${p.metadata.namespace}`;

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 3, stateRoot: STATE_ROOT, controlPlane: true, nodeGraceSeconds: 4 });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
}, 120_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
});

describe('control plane in the netns lab', () => {
  it('registers every node, allocates node N 10.244.N.0/24, and agents take their peers from Node objects', async () => {
    const nodes = (await client.list('nodes')).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    expect(nodes.map((n) => [n.metadata.name, n.spec.podCIDR, n.status.addresses[0].address])).toEqual([
      ['node1', '10.244.1.0/24', '172.28.0.11'],
      ['node2', '10.244.2.0/24', '172.28.0.12'],
      ['node3', '10.244.3.0/24', '172.28.0.13'],
    ]);
    for (const n of nodes) expect(ready(n)).toBe(true);
  });

  it('runs the seed’s multi-container pod: the sidecar reaches nginx on localhost:80', async () => {
    for (const d of docs('examples/003-multi-container-pod.yaml')) await client.create(d);
    await waitFor('multi-container-pod to be Ready', 30_000, async () =>
      ready(await client.tryGet('pods', 'default', 'multi-container-pod')),
    );
    const p = await client.get('pods', 'default', 'multi-container-pod');
    const node = state.plan.nodes.find((n) => n.name === p.spec.nodeName)!;
    expect(p.status.podIP.startsWith(node.podCidr.replace('0/24', ''))).toBe(true);
    expect(p.status.containerStatuses.map((c: { name: string; ready: boolean }) => [c.name, c.ready])).toEqual([
      ['nginx', true],
      ['sidecar', true],
    ]);
    // logs through the API server, proxied to the node's agent
    await waitFor('the sidecar to fetch the page', 20_000, async () =>
      (await client.text('/api/v1/namespaces/default/pods/multi-container-pod/log?container=sidecar')).includes(
        'nginx on pod default/multi-container-pod',
      ),
    );
    const nginxLog = await client.text('/api/v1/namespaces/default/pods/multi-container-pod/log?container=nginx');
    // localhost is 127.0.0.1 and ::1 in the pod's own /etc/hosts (as the kubelet writes it): either is the loopback
    expect(nginxLog).toMatch(/(127\.0\.0\.1|\[::1\]):\d+ "GET \/ HTTP\/1\.1" 200/);
  });

  it('brings up the demo app: deployments spread over nodes, a StatefulSet in order, endpoints of ready pods', async () => {
    for (const d of docs('examples/demo/three-tier.yaml')) await client.create(d);
    await waitFor('all demo pods Ready', 60_000, async () => {
      const ps = await pods();
      return ps.length === 1 + 3 + 2 + 2 + 1 && ps.every(ready);
    });
    const fe = await pods('tier=frontend');
    expect(new Set(fe.map((p) => p.spec.nodeName)).size).toBe(3);
    const db = (await pods('tier=database')).map((p) => [p.metadata.name, p.spec.hostname, p.spec.subdomain]);
    expect(db.sort()).toEqual([
      ['database-0', 'database-0', 'database'],
      ['database-1', 'database-1', 'database'],
    ]);
    await waitFor(
      'backend endpoints',
      10_000,
      async () =>
        ((await client.tryGet('endpoints', 'default', 'backend'))?.subsets?.[0]?.addresses ?? []).length === 2,
    );
    // pod → pod across nodes, by IP: the frontend answers with its own name
    const far = fe.find((p) => p.spec.nodeName === 'node3')!;
    const r = await inNs(`${prefix}-pod-client`, [
      'curl',
      '-s',
      '--max-time',
      '5',
      `http://${far.status.podIP}:3000/hostname`,
    ]);
    expect(r.stdout).toBe(far.metadata.name);
    const ip = await inNs(`${prefix}-pod-client`, [
      'curl',
      '-s',
      '--max-time',
      '5',
      `http://${far.status.podIP}:3000/clientip`,
    ]);
    expect(String(ip.stdout).split(':')[0]).toBe((await client.get('pods', 'default', 'client')).status.podIP);
  });

  it('reports a port clash between two containers in the pod’s status', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'clash' },
      spec: {
        containers: [
          { name: 'a', image: 'nginx', ports: [{ containerPort: 80 }] },
          { name: 'b', image: 'nginx', ports: [{ containerPort: 80 }] },
        ],
      },
    });
    await waitFor(
      'clash status',
      20_000,
      async () =>
        (await client.get('pods', 'default', 'clash')).status?.containerStatuses?.[1]?.state?.waiting?.reason ===
        'PortConflict',
    );
    const p = await client.get('pods', 'default', 'clash');
    expect(p.status.containerStatuses[1].state.waiting.message).toMatch(
      /port 80\/TCP is already declared by container "a"/,
    );
    expect(ready(p)).toBe(false);
    // deleted gracefully: Terminating until its agent has stopped it and confirms
    expect((await client.delete('pods', 'default', 'clash')).metadata.deletionTimestamp).toBeTruthy();
    await waitFor(
      'the agent to stop the pod and confirm',
      15_000,
      async () => (await client.tryGet('pods', 'default', 'clash')) === null,
    );
  });

  it('a crashed agent is restarted: pods adopted, none duplicated or lost, processes untouched', async () => {
    const before = (await pods()).filter((p) => p.spec.nodeName === 'node2');
    const pidsBefore = await nsPids(before);
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node2', crash: true });
    await waitFor('node2 pods still ready', 20_000, async () =>
      (await pods()).filter((p) => p.spec.nodeName === 'node2').every(ready),
    );
    const after = (await pods()).filter((p) => p.spec.nodeName === 'node2');
    expect(after.map((p) => [p.metadata.uid, p.status.podIP]).sort()).toEqual(
      before.map((p) => [p.metadata.uid, p.status.podIP]).sort(),
    );
    expect(await nsPids(after)).toEqual(pidsBefore);
    const ns = (await listNetns(execaRunner(), `${prefix}-pod`)).length;
    expect(ns).toBe((await pods()).length);
  });

  it('survives an API server kill -9: objects kept, agents and controllers reconverge', async () => {
    const names = (await pods()).map((p) => p.metadata.name).sort();
    await restartApiServer({ prefix, stateRoot: STATE_ROOT, crash: true });
    expect((await pods()).map((p) => p.metadata.name).sort()).toEqual(names);
    // new work after the restart flows through every informer again
    await client.patch('deployments', 'default', 'backend', { spec: { replicas: 3 } });
    await waitFor(
      'the third backend pod Ready',
      30_000,
      async () => (await pods('tier=backend')).filter(ready).length === 3,
    );
    await waitFor(
      'backend endpoints to have 3 addresses',
      10_000,
      async () => ((await client.get('endpoints', 'default', 'backend')).subsets?.[0]?.addresses ?? []).length === 3,
    );
  });

  it('a node whose agent stops turns NotReady and its pods leave the endpoints', async () => {
    const st = readLabState(prefix, STATE_ROOT)!;
    const pid = st.agents.node3;
    process.kill(pid, 'SIGKILL');
    await waitFor('node3 NotReady', 20_000, async () => !ready(await client.get('nodes', undefined, 'node3')));
    const fe3 = (await pods('tier=frontend')).filter((p) => p.spec.nodeName === 'node3').map((p) => p.status.podIP);
    await waitFor('frontend endpoints without node3', 10_000, async () => {
      const ep = await client.get('endpoints', 'default', 'frontend');
      const addrs = (ep.subsets ?? []).flatMap((s: { addresses?: { ip: string }[] }) =>
        (s.addresses ?? []).map((a) => a.ip),
      );
      return addrs.length > 0 && fe3.every((ip) => !addrs.includes(ip));
    });
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node3' });
    await waitFor(
      'node3 Ready again and its pods back',
      30_000,
      async () => ready(await client.get('nodes', undefined, 'node3')) && (await pods('tier=frontend')).every(ready),
    );
  });

  it('real kubectl, run inside the control-plane namespace, lists what podwire lists', async () => {
    const cp = state.plan.controlPlane;
    const r = await execa(
      'ip',
      [
        'netns',
        'exec',
        cp.ns,
        'kubectl',
        '--kubeconfig',
        adminKubeconfigPath(state.plan),
        'get',
        'pods,svc,endpoints',
        '-o',
        'wide',
        '--no-headers',
      ],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const kubectlNames = r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(/\s+/)[0])
      .sort();
    const ours = [
      ...(await pods()).map((p) => `pod/${p.metadata.name}`),
      ...(await client.list('services', { namespace: 'default' })).items.map((x) => `service/${x.metadata.name}`),
      ...(await client.list('endpoints', { namespace: 'default' })).items.map((x) => `endpoints/${x.metadata.name}`),
    ].sort();
    expect(kubectlNames).toEqual(ours);
    // and the wide pod rows carry the same IPs and nodes
    for (const p of await pods())
      expect(r.stdout).toMatch(
        new RegExp(`pod/${p.metadata.name}\\s.*\\s${p.status.podIP.replace(/\./g, '\\.')}\\s+${p.spec.nodeName}\\s`),
      );
    // kubectl apply (client-side: GET, then strategic-merge PATCH) scales the frontend
    const scaled = path.join(STATE_ROOT, `${prefix}-frontend.yaml`);
    fs.writeFileSync(
      scaled,
      fs.readFileSync(path.join(root, 'examples/demo/three-tier.yaml'), 'utf8').replace('replicas: 3', 'replicas: 4'),
    );
    const ap = await execa(
      'ip',
      ['netns', 'exec', cp.ns, 'kubectl', '--kubeconfig', adminKubeconfigPath(state.plan), 'apply', '-f', scaled],
      { reject: false },
    );
    fs.rmSync(scaled, { force: true });
    expect(ap.exitCode, ap.stderr).toBe(0);
    expect(ap.stdout).toContain('deployment.apps/frontend configured');
    await waitFor(
      '4 frontend pods Ready',
      30_000,
      async () => (await pods('tier=frontend')).filter(ready).length === 4,
    );
    // kubectl scale (the scale subresource) and kubectl set image (a strategic merge patch: containers merged by name)
    const k = (...args: string[]) =>
      execa('ip', ['netns', 'exec', cp.ns, 'kubectl', '--kubeconfig', adminKubeconfigPath(state.plan), ...args], {
        reject: false,
      });
    const sc = await k('scale', 'deploy/backend', '--replicas=2');
    expect([sc.exitCode, sc.stdout, sc.stderr]).toEqual([0, 'deployment.apps/backend scaled', '']);
    const si = await k('set', 'image', 'deploy/frontend', 'web=registry.k8s.io/e2e-test-images/agnhost:2.48');
    expect([si.exitCode, si.stdout, si.stderr]).toEqual([0, 'deployment.apps/frontend image updated', '']);
    const web = (await client.get('deployments', 'default', 'frontend')).spec.template.spec.containers[0];
    expect(web).toMatchObject({
      image: 'registry.k8s.io/e2e-test-images/agnhost:2.48',
      ports: [{ containerPort: 3000, name: 'http' }],
      readinessProbe: { httpGet: { path: '/healthz' } },
    });
    const ro = await k('rollout', 'status', 'deploy/frontend', '--timeout=60s');
    expect(ro.exitCode, ro.stderr).toBe(0);
    expect(ro.stdout).toContain('successfully rolled out');
  });
});

/** The container processes of these pods (the PIDs in their namespaces). */
async function nsPids(ps: KubeObject[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of ps) {
    const r = await execa('ip', ['netns', 'pids', podIn(p)], { reject: false });
    out[p.metadata.name] = r.stdout.trim().split('\n').sort().join(',');
  }
  return out;
}
