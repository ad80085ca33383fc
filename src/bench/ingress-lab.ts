import fs from 'node:fs';
import path from 'node:path';
import {
  labUp,
  labDown,
  labPods,
  planLab,
  waitFor,
  type LabState,
  netnsEtcDir,
  applyIngressAddon,
} from '../lab/index.js';
import { INGRESS_NAMESPACE, INGRESS_LABEL_SELECTOR, makeSelfSigned } from '../ingress/index.js';
import type { PemPair } from '../ingress/index.js';
import { ApiClient, type KubeObject } from '../control/client/index.js';
import { execaRunner, netnsPids } from '../host/index.js';
import { cmdline } from './ingress-procs.js';
import { BenchError } from './errors.js';

/**
 * The lab of `bench ingress`: 2 nodes with the control plane, the outside
 * (client 172.28.0.100, the cloud load balancer) and the ingress add-on
 * (one controller pod). In namespace `ingbench`:
 *
 *   - `backend`: one pod of the built-in nginx (the C workload) on the node
 *     the controller is not on, behind Service `backend` — type
 *     LoadBalancer, so the outside client can reach it without a proxy
 *     (the "direct" figure), and its ClusterIP is what both proxies send to;
 *   - `nginx-proxy`: a pod on the controller's node whose container only
 *     sleeps; the bench runs Debian's nginx in its network namespace,
 *     behind Service `nginx-proxy` (LoadBalancer, 80 and 443);
 *   - Ingress `bench`: host podwire.bench.test, `/` → backend:80, TLS from
 *     Secret `bench-tls` (the certificate nginx serves too).
 *
 * Every LoadBalancer here and the controller's are externalTrafficPolicy
 * Local: the cloud load balancer sends each straight to the node of its
 * one pod, so the three paths differ only in the proxy (or its absence).
 * The client resolves the three names through /etc/netns/<client>/hosts,
 * which the bench writes and removes (it is in the lab's own directory).
 */
export const BENCH_NS = 'ingbench';
export const HOSTS = {
  podwire: 'podwire.bench.test',
  nginx: 'nginx.bench.test',
  direct: 'backend.bench.test',
} as const;
const BACKEND = { app: 'ingbench-backend' };
const NGINX = { app: 'ingbench-nginx' };

export interface BenchPodInfo {
  name: string;
  node: string;
  ip: string;
  ns: string;
}

export interface IngressBenchLab {
  state: LabState;
  client: ApiClient;
  /** the outside client machine's namespace */
  clientNs: string;
  controller: BenchPodInfo & { pid: number };
  nginxPod: BenchPodInfo;
  backend: BenchPodInfo & { clusterIp: string };
  /** EXTERNAL-IPs: the controller's Service, nginx-proxy's, backend's */
  lb: { podwire: string; nginx: string; direct: string };
  /** the certificate and key of Secret bench-tls (the same files nginx serves) */
  pair: PemPair;
}

const running = (p: KubeObject) => p.status?.phase === 'Running' && !!p.status?.podIP;

async function podInfo(state: LabState, pod: KubeObject): Promise<BenchPodInfo> {
  const node = pod.spec.nodeName as string;
  const rec = (await labPods(state)).find((r) => r.ip === pod.status.podIP && r.node === node);
  if (!rec)
    throw new BenchError('ERR_SETUP', `pod ${pod.metadata.namespace}/${pod.metadata.name} is not on ${node}'s agent`);
  return { name: pod.metadata.name, node, ip: pod.status.podIP, ns: rec.netns };
}

async function runningPod(client: ApiClient, ns: string, name: string): Promise<KubeObject> {
  let pod!: KubeObject;
  await waitFor(
    `pod ${ns}/${name} running`,
    60_000,
    async () => running((pod = await client.get('pods', ns, name))),
    100,
  );
  return pod;
}

async function externalIp(client: ApiClient, ns: string, name: string): Promise<string> {
  let ip = '';
  await waitFor(
    `Service ${ns}/${name}'s EXTERNAL-IP`,
    60_000,
    async () => !!(ip = (await client.get('services', ns, name)).status?.loadBalancer?.ingress?.[0]?.ip ?? ''),
    200,
  );
  return ip;
}

function lbService(name: string, selector: Record<string, string>, ports: number[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: BENCH_NS },
    spec: {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      selector,
      ports: ports.map((p) => ({ name: `p${p}`, port: p, targetPort: p, protocol: 'TCP' })),
    },
  };
}

function benchObjects(controllerNode: string, otherNode: string, pair: PemPair): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BENCH_NS } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'backend', namespace: BENCH_NS, labels: BACKEND },
      spec: { nodeName: otherNode, containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] },
    },
    // busybox without ports: podwire runs a process that only sleeps, so nothing else listens in this namespace
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nginx-proxy', namespace: BENCH_NS, labels: NGINX },
      spec: { nodeName: controllerNode, containers: [{ name: 'sleep', image: 'busybox' }] },
    },
    lbService('backend', BACKEND, [80]),
    lbService('nginx-proxy', NGINX, [80, 443]),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-tls', namespace: BENCH_NS },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(pair.cert).toString('base64'),
        'tls.key': Buffer.from(pair.key).toString('base64'),
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      // TLS configured for the host would make ingress-nginx redirect plain HTTP (308): the bench measures both
      metadata: {
        name: 'bench',
        namespace: BENCH_NS,
        annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' },
      },
      spec: {
        ingressClassName: 'nginx',
        tls: [{ hosts: [HOSTS.podwire], secretName: 'bench-tls' }],
        rules: [
          {
            host: HOSTS.podwire,
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'backend', port: { number: 80 } } } },
              ],
            },
          },
        ],
      },
    },
  ];
}

const hostsFile = (clientNs: string) => path.join(netnsEtcDir(clientNs), 'hosts');

/**
 * The controller's node process in its pod's namespace: `node
 * bin/podwire.js ingress-controller …`, the child of the kubelet's shell
 * shim (whose own argv names it too, further along).
 */
async function controllerPid(ns: string): Promise<number> {
  let pid = 0;
  await waitFor(
    'the ingress controller process',
    10_000,
    async () => {
      pid = (await netnsPids(execaRunner(), ns)).find((p) => cmdline(p)[2] === 'ingress-controller') ?? 0;
      return pid > 0;
    },
    100,
  );
  return pid;
}

async function build(state: LabState, client: ApiClient, log: (m: string) => void): Promise<IngressBenchLab> {
  const addon = await applyIngressAddon(state, { ready: true });
  const ctlPod = (
    await client.list('pods', { namespace: INGRESS_NAMESPACE, labelSelector: INGRESS_LABEL_SELECTOR })
  ).items.find(running);
  if (!ctlPod || !addon.externalIp)
    throw new BenchError('ERR_SETUP', 'the ingress controller has no running pod or no EXTERNAL-IP');
  const ctl = await podInfo(state, ctlPod);
  const other = state.plan.nodes.find((n) => n.name !== ctl.node)!.name;
  const pair = await makeSelfSigned(HOSTS.podwire, [HOSTS.podwire, HOSTS.nginx]);
  for (const o of benchObjects(ctl.node, other, pair)) await client.create(o);
  const backendPod = await podInfo(state, await runningPod(client, BENCH_NS, 'backend'));
  const nginxPod = await podInfo(state, await runningPod(client, BENCH_NS, 'nginx-proxy'));
  const clusterIp = (await client.get('services', BENCH_NS, 'backend')).spec.clusterIP as string;
  const lb = {
    podwire: addon.externalIp,
    nginx: await externalIp(client, BENCH_NS, 'nginx-proxy'),
    direct: await externalIp(client, BENCH_NS, 'backend'),
  };
  const clientNs = state.plan.outside.client.ns;
  fs.writeFileSync(
    hostsFile(clientNs),
    `# podwire bench ingress (removed when it ends)\n127.0.0.1 localhost\n${lb.podwire} ${HOSTS.podwire}\n${lb.nginx} ${HOSTS.nginx}\n${lb.direct} ${HOSTS.direct}\n`,
  );
  const controller = { ...ctl, pid: await controllerPid(ctl.ns) };
  log(
    `  controller ${ctl.ip}@${ctl.node} (pid ${controller.pid}, EXTERNAL-IP ${lb.podwire}); nginx-proxy pod ${nginxPod.ip}@${nginxPod.node} (${lb.nginx}); backend ${backendPod.ip}@${backendPod.node} (ClusterIP ${clusterIp}, EXTERNAL-IP ${lb.direct})`,
  );
  return { state, client, clientNs, controller, nginxPod, backend: { ...backendPod, clusterIp }, lb, pair };
}

/** Brings the lab up, runs `fn` with it, and takes it down — also when anything fails. */
export async function withIngressLab<T>(
  prefix: string,
  log: (m: string) => void,
  fn: (lab: IngressBenchLab) => Promise<T>,
): Promise<T> {
  const clientNs = planLab({ prefix, nodes: 2 }).outside.client.ns;
  fs.rmSync(hostsFile(clientNs), { force: true }); // an earlier run's, if it was killed
  try {
    const state = await labUp({ prefix, nodes: 2, controlPlane: true, outside: true });
    const client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
    try {
      return await fn(await build(state, client, log));
    } finally {
      client.close();
    }
  } finally {
    // ours, in the lab's directory: gone before lab down, which removes the directory only when empty
    fs.rmSync(hostsFile(clientNs), { force: true });
    await labDown({ prefix });
  }
}
