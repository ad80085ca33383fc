import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStore } from '../../src/control/store/index.js';
import { ApiServer } from '../../src/control/api/index.js';
import { ApiClient, Informer, type KubeObject } from '../../src/control/client/index.js';
import { startControllers } from '../../src/control/controllers/index.js';
import { waitFor } from '../../src/lab/wait.js';

// The controllers against a real API server (file store, Unix socket),
// through the real client. The test plays the agents: it registers three
// nodes, heartbeats them, and reports pods Running and Ready once they are
// bound — then stops one node's heartbeat. No root needed.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwctl-'));
const GRACE_MS = 1500;
let store: FileStore;
let api: ApiServer;
let client: ApiClient;
let controllers: { stop(): void };
const logs: string[] = [];
const timers: NodeJS.Timeout[] = [];
const beating = new Set(['node1', 'node2', 'node3']);
const nowIso = () => new Date().toISOString();

async function registerNode(name: string, ip: string): Promise<void> {
  await client.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'test agent',
          lastHeartbeatTime: nowIso(),
          lastTransitionTime: nowIso(),
        },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  });
}

/** The agents' heartbeat: read the node, post Ready=True with a fresh lastHeartbeatTime. */
async function heartbeat(name: string): Promise<void> {
  const n = await client.get('nodes', undefined, name);
  const others = (n.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'Ready');
  const was = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  const ready = {
    type: 'Ready',
    status: 'True',
    reason: 'KubeletReady',
    message: 'test agent',
    lastHeartbeatTime: nowIso(),
    lastTransitionTime: was?.status === 'True' ? was.lastTransitionTime : nowIso(),
  };
  await client.updateStatus({ ...n, status: { ...n.status, conditions: [...others, ready] } });
}

/**
 * The agents' pod status: a bound pod on a live node becomes Running with an
 * IP from its node's podCIDR, and Ready; a terminating one is deleted.
 */
const nextHost = new Map<string, number>();
async function runBoundPods(): Promise<void> {
  const nodes = new Map((await client.list('nodes')).items.map((n) => [n.metadata.name, n]));
  for (const p of (await client.list('pods')).items) {
    const nodeName = p.spec?.nodeName;
    // a live node's agent confirms a terminating pod is stopped (its final delete, grace 0)
    if (nodeName && beating.has(nodeName) && p.metadata.deletionTimestamp) {
      await client
        .delete('pods', p.metadata.namespace, p.metadata.name, { gracePeriodSeconds: 0, uid: p.metadata.uid })
        .catch(() => {});
      continue;
    }
    if (!nodeName || !beating.has(nodeName) || p.status?.phase === 'Running') continue;
    const cidr: string | undefined = nodes.get(nodeName)?.spec?.podCIDR;
    if (!cidr) continue;
    const host = (nextHost.get(nodeName) ?? 10) + 1;
    nextHost.set(nodeName, host);
    const ip = cidr.replace(/\.0\/24$/, `.${host}`);
    const t = nowIso();
    const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
    await client
      .updateStatus({
        ...p,
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          hostIP: nodes.get(nodeName)!.status.addresses[0].address,
          startTime: t,
          conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map(cond),
        },
      })
      .catch(() => {}); // a Conflict: next round
  }
}

function every(ms: number, fn: () => Promise<void>): void {
  let busy = false;
  const t = setInterval(() => {
    if (busy) return;
    busy = true;
    fn()
      .catch(() => {})
      .finally(() => (busy = false));
  }, ms);
  timers.push(t);
}

const podsOf = async (selector: string) =>
  (await client.list('pods', { namespace: 'default', labelSelector: selector })).items;
const ready = (p: KubeObject) =>
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  store = FileStore.open(path.join(dir, 'store'));
  api = new ApiServer(store);
  await api.bootstrap();
  client = new ApiClient(await api.listenUnix(path.join(dir, 'api.sock')));
  controllers = await startControllers(client, {
    clusterCidr: '10.244.0.0/16',
    nodeCidrMaskSize: 24,
    nodeMonitorGracePeriodMs: GRACE_MS,
    podGcOrphanQuarantineMs: 500,
    log: (m) => logs.push(m),
  });
  every(300, async () => {
    for (const n of beating) await heartbeat(n).catch(() => {});
  });
  every(100, runBoundPods);
});

afterAll(async () => {
  if (process.env.PODWIRE_TEST_LOGS) {
    const events = (await client.list('events')).items.map(
      (e) =>
        `${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name} x${e.count} (${e.source.component}): ${e.message}`,
    );
    console.log([...logs, ...events].join('\n'));
  }
  for (const t of timers) clearInterval(t);
  controllers?.stop();
  client?.close();
  await api?.close();
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('controllers against a real API server', () => {
  it('gives node N the podCIDR 10.244.N.0/24', async () => {
    await registerNode('node2', '172.18.0.3');
    await registerNode('node1', '172.18.0.2');
    await registerNode('node3', '172.18.0.4');
    await waitFor('podCIDRs on all nodes', 10_000, async () =>
      (await client.list('nodes')).items.every((n) => n.spec?.podCIDR),
    );
    const cidrs = Object.fromEntries(
      (await client.list('nodes')).items.map((n) => [n.metadata.name, [n.spec.podCIDR, n.spec.podCIDRs]]),
    );
    expect(cidrs).toEqual({
      node1: ['10.244.1.0/24', ['10.244.1.0/24']],
      node2: ['10.244.2.0/24', ['10.244.2.0/24']],
      node3: ['10.244.3.0/24', ['10.244.3.0/24']],
    });
  });

  it('runs a Deployment of 6 spread 2/2/2, reports it ready, and serves it through Endpoints and EndpointSlices', async () => {
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 6,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 8080 }] }] },
        },
      },
    });
    await waitFor(
      '6 pods bound',
      10_000,
      async () => (await podsOf('app=web')).filter((p) => p.spec?.nodeName).length === 6,
    );
    const pods = await podsOf('app=web');
    const perNode: Record<string, number> = {};
    for (const p of pods) perNode[p.spec.nodeName] = (perNode[p.spec.nodeName] ?? 0) + 1;
    expect(perNode).toEqual({ node1: 2, node2: 2, node3: 2 });
    expect(pods[0].metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);

    await waitFor(
      'Deployment readyReplicas 6',
      10_000,
      async () => (await client.get('deployments', 'default', 'web')).status?.readyReplicas === 6,
    );
    const d = await client.get('deployments', 'default', 'web');
    expect(d.status).toMatchObject({
      observedGeneration: 1,
      replicas: 6,
      updatedReplicas: 6,
      readyReplicas: 6,
      availableReplicas: 6,
      unavailableReplicas: 0,
    });
    expect(d.status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);

    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await waitFor(
      'Endpoints with 6 addresses',
      10_000,
      async () => ((await client.tryGet('endpoints', 'default', 'web'))?.subsets?.[0]?.addresses ?? []).length === 6,
    );
    const ep = await client.get('endpoints', 'default', 'web');
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets[0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(ep.subsets[0].addresses.map((a: any) => a.ip).sort()).toEqual(
      (await podsOf('app=web')).map((p) => p.status.podIP).sort(),
    );
    for (const a of ep.subsets[0].addresses) expect(a.ip.startsWith(`10.244.${a.nodeName.slice(4)}.`)).toBe(true);

    await waitFor('an EndpointSlice with 6 ready endpoints', 10_000, async () => {
      const slices = (
        await client.list('endpointslices', { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' })
      ).items;
      return slices.length === 1 && (slices[0].endpoints ?? []).filter((e: any) => e.conditions.ready).length === 6;
    });
    const [slice] = (
      await client.list('endpointslices', { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' })
    ).items;
    expect(slice.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);

    // A pod whose (opaque) status makes no sense is skipped, not fatal.
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'odd', namespace: 'default', labels: { app: 'web' } },
      spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'x' }] },
    });
    await client.patch('pods', 'default', 'odd', { status: { phase: 'Running', podIP: 12345 } }, { status: true });
    await waitFor('the odd pod to be reported', 10_000, () =>
      logs.some((l) => l.includes('skipping Pod default/odd: status.podIP is not a string')),
    );
    expect((await client.get('endpoints', 'default', 'web')).subsets[0].addresses).toHaveLength(6);
    await client.delete('pods', 'default', 'odd');

    const events = (await client.list('events', { namespace: 'default', fieldSelector: 'reason=Scheduled' })).items;
    expect(events.map((e) => e.message)).toContain(
      `Successfully assigned default/${pods[0].metadata.name} to ${pods[0].spec.nodeName}`,
    );
  });

  it('marks a silent node Ready=Unknown and moves its pods to notReadyAddresses', async () => {
    beating.delete('node3');
    const started = Date.now();
    await waitFor('node3 Ready=Unknown', 10_000, async () => {
      const c = (await client.get('nodes', undefined, 'node3')).status.conditions.find((x: any) => x.type === 'Ready');
      return c.status === 'Unknown';
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(GRACE_MS - 400); // (the last beat may predate the stop by one interval)
    const node3 = await client.get('nodes', undefined, 'node3');
    const ready = node3.status.conditions.find((x: any) => x.type === 'Ready');
    await waitFor('node3 tainted unreachable', 5_000, async () =>
      ((await client.get('nodes', undefined, 'node3')).spec.taints ?? []).some((t: any) => t.effect === 'NoExecute'),
    );
    const taints = (await client.get('nodes', undefined, 'node3')).spec.taints;
    expect(taints.map((t: any) => `${t.key}:${t.effect}`).sort()).toEqual([
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    expect(taints.every((t: any) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(t.timeAdded))).toBe(true);
    expect(ready).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });

    await waitFor('node3 pods in notReadyAddresses', 10_000, async () => {
      const s = (await client.get('endpoints', 'default', 'web')).subsets ?? [];
      return s.length === 1 && s[0].addresses?.length === 4 && s[0].notReadyAddresses?.length === 2;
    });
    const s = (await client.get('endpoints', 'default', 'web')).subsets[0];
    expect(s.notReadyAddresses.map((a: any) => a.nodeName)).toEqual(['node3', 'node3']);
    expect(s.addresses.every((a: any) => a.nodeName !== 'node3')).toBe(true);
    const [slice] = (
      await client.list('endpointslices', { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' })
    ).items;
    expect(slice.endpoints.filter((e: any) => !e.conditions.ready).map((e: any) => e.nodeName)).toEqual([
      'node3',
      'node3',
    ]);
  });

  it('rolls the Deployment to a new image (around the dead node)', async () => {
    // a merge patch, as `kubectl set image` patches: the controllers write this Deployment's status meanwhile
    // (node3's pods are being tainted out), so a get-then-PUT here could meet a 409 Conflict
    const d = await client.get('deployments', 'default', 'web');
    await client.patch('deployments', 'default', 'web', {
      spec: { template: { spec: { containers: [{ ...d.spec.template.spec.containers[0], image: 'nginx:1.26' }] } } },
    });
    // Old pods on the dead node3 stay Terminating (no agent confirms they stopped), as in Kubernetes; they do not count.
    const active = async () => (await podsOf('app=web')).filter((p) => !p.metadata.deletionTimestamp);
    await waitFor('rollout complete', 30_000, async () => {
      const cur = await client.get('deployments', 'default', 'web');
      const pods = await active();
      return (
        cur.status?.observedGeneration === 2 &&
        cur.status?.updatedReplicas === 6 &&
        cur.status?.readyReplicas === 6 &&
        cur.status?.replicas === 6 &&
        pods.length === 6 &&
        pods.every((p) => p.spec.containers[0].image === 'nginx:1.26' && ready(p))
      );
    });
    const pods = await active();
    expect(pods.every((p) => p.spec.nodeName !== 'node3')).toBe(true); // not scheduled to a node that is not Ready
    // old pods on live nodes go once their agent confirms (the loop above plays it); on the dead node3 they stay Terminating
    await waitFor('old pods gone from live nodes', 10_000, async () =>
      (await podsOf('app=web')).filter((p) => p.metadata.deletionTimestamp).every((p) => p.spec.nodeName === 'node3'),
    );
    expect(new Set(pods.map((p) => p.metadata.labels?.['pod-template-hash'])).size).toBe(1);
    const cur = await client.get('deployments', 'default', 'web');
    expect(cur.status.conditions.find((c: any) => c.type === 'Progressing').reason).toBe('NewReplicaSetAvailable');
  });

  it('creates a StatefulSet’s pods in order: web-0, web-1, web-2', async () => {
    const order: string[] = [];
    const watch = new Informer(client, 'pods', { namespace: 'default', labelSelector: 'app=nginx' });
    watch.on({ added: (p) => order.push(p.metadata.name) });
    await watch.start();
    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'nginx', namespace: 'default' },
      spec: { clusterIP: 'None', selector: { app: 'nginx' }, ports: [{ name: 'web', port: 80 }] },
    });
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 3,
        serviceName: 'nginx',
        selector: { matchLabels: { app: 'nginx' } },
        template: {
          metadata: { labels: { app: 'nginx' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] },
        },
      },
    });
    await waitFor(
      'StatefulSet ready',
      20_000,
      async () => (await client.get('statefulsets', 'default', 'web')).status?.readyReplicas === 3,
    );
    watch.stop();
    expect(order).toEqual(['web-0', 'web-1', 'web-2']);
    const sts = await client.get('statefulsets', 'default', 'web');
    expect(sts.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
    expect(sts.status.currentRevision).toBe(sts.status.updateRevision);
    await waitFor(
      'headless Endpoints with hostnames',
      10_000,
      async () => ((await client.tryGet('endpoints', 'default', 'nginx'))?.subsets?.[0]?.addresses ?? []).length === 3,
    );
    const ep = await client.get('endpoints', 'default', 'nginx');
    expect(ep.subsets[0].addresses.map((a: any) => a.hostname).sort()).toEqual(['web-0', 'web-1', 'web-2']);
  });

  it('garbage-collects the ReplicaSets and pods of a deleted Deployment', async () => {
    const uid = (await client.get('deployments', 'default', 'web')).metadata.uid;
    const rss = (await client.list('replicasets', { namespace: 'default' })).items.filter((rs) =>
      (rs.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid),
    );
    expect(rss.length).toBe(2); // one per template the rollout used
    const rsUids = new Set(rss.map((rs) => rs.metadata.uid));
    expect((await podsOf('app=web')).length).toBeGreaterThan(0);
    await client.delete('deployments', 'default', 'web');
    // Deployment → ReplicaSets → pods; gone, except pods on the dead node3: Terminating until an agent there confirms
    await waitFor('the Deployment’s ReplicaSets and pods to be gone', 15_000, async () => {
      const leftRs = (await client.list('replicasets', { namespace: 'default' })).items.filter((rs) =>
        rsUids.has(rs.metadata.uid),
      );
      const leftPods = (await client.list('pods', { namespace: 'default' })).items.filter(
        (p) =>
          (p.metadata.ownerReferences ?? []).some((r: any) => rsUids.has(r.uid)) &&
          !(p.spec.nodeName === 'node3' && p.metadata.deletionTimestamp),
      );
      return leftRs.length === 0 && leftPods.length === 0;
    });
    expect((await podsOf('app=nginx')).length).toBe(3); // the StatefulSet's stay
  });

  it('evicts a pod from a lost node after its tolerationSeconds, replaces it elsewhere, and untaints the node when it is back', async () => {
    // a pod created without them gets the DefaultTolerationSeconds tolerations (300 s); these tolerate unreachable only 5 s
    const unreachable5s = {
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 5,
    };
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'tol', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'tol' } },
        template: {
          metadata: { labels: { app: 'tol' } },
          spec: { tolerations: [unreachable5s], containers: [{ name: 'c', image: 'nginx:1.25' }] },
        },
      },
    });
    const active = async () => (await podsOf('app=tol')).filter((p) => !p.metadata.deletionTimestamp);
    await waitFor('tol: one ready pod on node1 and one on node2', 10_000, async () => {
      const pods = await active();
      return (
        pods.length === 2 &&
        pods.every(ready) &&
        pods
          .map((p) => p.spec.nodeName)
          .sort()
          .join() === 'node1,node2'
      );
    });
    const victim = (await active()).find((p) => p.spec.nodeName === 'node2')!;
    expect(victim.spec.tolerations).toEqual([
      unreachable5s,
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);

    beating.delete('node2');
    await waitFor('node2 tainted unreachable:NoExecute', 5_000, async () =>
      ((await client.get('nodes', undefined, 'node2')).spec.taints ?? []).some(
        (t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
      ),
    );
    const tainted = (await client.get('nodes', undefined, 'node2')).spec.taints.find(
      (t: any) => t.effect === 'NoExecute',
    );
    const timeAddedMs = Date.parse(tainted.timeAdded);
    await waitFor(
      'the pod on node2 evicted (Terminating)',
      10_000,
      async () => !!(await client.tryGet('pods', 'default', victim.metadata.name))?.metadata.deletionTimestamp,
    );
    const evictedAfterMs = Date.now() - timeAddedMs;
    expect(evictedAfterMs).toBeGreaterThanOrEqual(5_000); // not before its 5 s (timeAdded has whole seconds: the controller keeps the milliseconds)
    expect(evictedAfterMs).toBeLessThan(8_000);
    const ev = (await client.list('events', { namespace: 'default' })).items.find(
      (e) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === victim.metadata.name,
    );
    expect(ev?.message).toBe(`Marking for deletion Pod default/${victim.metadata.name}`);
    const evicted = await client.get('pods', 'default', victim.metadata.name);
    expect(evicted.status.conditions.find((c: any) => c.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
    });
    // the pod on the still-live node1 tolerates nothing it has not met: it stays
    await waitFor('a replacement, ready, on node1 (node2 and node3 are lost)', 10_000, async () => {
      const pods = await active();
      return pods.length === 2 && pods.every(ready) && pods.every((p) => p.spec.nodeName === 'node1');
    });
    // the evicted pod stays Terminating (no kubelet confirms) until an operator declares node2 out of service
    expect((await client.get('pods', 'default', victim.metadata.name)).spec.nodeName).toBe('node2');
    const n2 = await client.get('nodes', undefined, 'node2');
    const oos = { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' };
    await client.patch('nodes', undefined, 'node2', {
      metadata: { resourceVersion: n2.metadata.resourceVersion },
      spec: { taints: [...n2.spec.taints, oos] },
    });
    await waitFor(
      'PodGC force-deletes the Terminating pod',
      5_000,
      async () => !(await client.tryGet('pods', 'default', victim.metadata.name)),
    );
    const n2b = await client.get('nodes', undefined, 'node2');
    await client.patch('nodes', undefined, 'node2', {
      metadata: { resourceVersion: n2b.metadata.resourceVersion },
      spec: { taints: n2b.spec.taints.filter((t: any) => t.key !== oos.key) },
    });

    beating.add('node2');
    await waitFor('node2 untainted once Ready again', 5_000, async () => {
      const n = await client.get('nodes', undefined, 'node2');
      return (
        n.status.conditions.find((c: any) => c.type === 'Ready').status === 'True' && !(n.spec.taints ?? []).length
      );
    });
  });

  it('garbage-collects the pods of a deleted Node', async () => {
    expect((await client.list('pods')).items.some((p) => p.spec.nodeName === 'node3')).toBe(true);
    await client.delete('nodes', undefined, 'node3');
    await waitFor('node3’s pods gone', 5_000, async () =>
      (await client.list('pods')).items.every((p) => p.spec.nodeName !== 'node3'),
    );
  });
});
