import fs from 'node:fs';
import { labUp, labDown, labPods, waitFor, type LabState } from '../lab/index.js';
import { ApiClient, type KubeObject } from '../control/client/index.js';
import { callAgent, agentSocketPath } from '../agent/index.js';
import { connectLatency, iperfDirectAndVip, type ConnectLatency } from './measure.js';
import {
  BENCH_NS,
  SERVICE_PORT,
  benchService,
  benchServiceName,
  benchSlice,
  describeLatency,
  eachLimited,
  percentile,
  type BenchPod,
} from './services-objects.js';
import { BenchError } from './errors.js';

/**
 * podwire's side of `bench services`: a 2-node lab with its control plane,
 * a Deployment of 4 backends, a client pod on node1 and an iperf3 pod on
 * node2; then `count` Services written through the API server and timed
 * until every agent's table has them, one-Service edits timed to every
 * agent, connect latency at `count` and (after deleting the rest) at
 * `small` Services, and iperf3 through a ClusterIP against the pod IP.
 */
export interface PodwireServicesOptions {
  prefix: string;
  count: number;
  small: number;
  samples: number;
  seconds: number;
  changes: number;
  bin: string;
  dir: string;
  log: (m: string) => void;
}

export interface PodwireServicesResult {
  topology: {
    client: BenchPod;
    backends: BenchPod[];
    iperf: BenchPod;
    services: KubeObject[];
    iperfService: KubeObject;
    iperfSlice: KubeObject;
  };
  apiWriteS: number;
  programS: number;
  changeMs: number[];
  /** the same edits: ms until the API server answered the PATCH */
  changeApiMs: number[];
  agentApplyMs: number[];
  deleteS: number;
  latencyLarge: ConnectLatency;
  latencySmall: ConnectLatency;
  /** the agents' internal pipeline errors during the latency runs (a stage threw: its batch was dropped) */
  pipelineErrors: number;
  vipGbps: number;
  directGbps: number;
  apiserverMiB: number;
  agentMiB: number;
}

const IPERF_PORT = 5299;
const WRITERS = 16;
const since = (t0: number) => (performance.now() - t0) / 1000;

interface TableCounts {
  services: number;
  usableBackends: number;
}

async function tableOf(state: LabState, node: string): Promise<TableCounts> {
  const n = state.plan.nodes.find((x) => x.name === node)!;
  const r = await callAgent(agentSocketPath(n.stateDir), 'GET', `/lb/service?name=${BENCH_NS}/-`, undefined, 30_000);
  return r.body.table as TableCounts;
}

async function internalErrors(state: LabState): Promise<number> {
  let n = 0;
  for (const node of state.plan.nodes)
    n += (await callAgent(agentSocketPath(node.stateDir), 'GET', '/status')).body.internalErrors as number;
  return n;
}

/** Resolves with each node's seconds since t0 when its table satisfies `done`. */
async function untilEveryAgent(
  state: LabState,
  t0: number,
  what: string,
  done: (t: TableCounts) => boolean,
): Promise<Record<string, number>> {
  const at: Record<string, number> = {};
  await waitFor(
    what,
    900_000,
    async () => {
      for (const n of state.plan.nodes)
        if (at[n.name] === undefined && done(await tableOf(state, n.name))) at[n.name] = since(t0);
      return Object.keys(at).length === state.plan.nodes.length;
    },
    200,
  );
  return at;
}

function rssMiB(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
  } catch {
    return 0;
  }
}

async function podOn(
  client: ApiClient,
  state: LabState,
  name: string,
  node: string,
): Promise<BenchPod & { ns: string }> {
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: BENCH_NS },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
  });
  let pod!: KubeObject;
  await waitFor(
    `pod ${name} running`,
    60_000,
    async () => {
      pod = await client.get('pods', BENCH_NS, name);
      return pod.status?.phase === 'Running' && !!pod.status?.podIP;
    },
    100,
  );
  const rec = (await labPods(state)).find((p) => p.name === name && p.node === node);
  if (!rec) throw new BenchError('ERR_SETUP', `pod ${name} is not on ${node}'s agent`);
  return { name, ip: pod.status.podIP, node, ns: rec.netns };
}

export async function podwireServices(o: PodwireServicesOptions): Promise<PodwireServicesResult> {
  const { log } = o;
  try {
    const state = await labUp({ prefix: o.prefix, nodes: 2, controlPlane: true });
    const client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
    try {
      return await run(o, state, client, log);
    } finally {
      client.close();
    }
  } finally {
    await labDown({ prefix: o.prefix });
  }
}

async function run(
  o: PodwireServicesOptions,
  state: LabState,
  client: ApiClient,
  log: (m: string) => void,
): Promise<PodwireServicesResult> {
  // Backends: a Deployment's 4 pods (podwire's built-in nginx answers on :80).
  await client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'svcbench', namespace: BENCH_NS },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'svcbench-backend' } },
      template: {
        metadata: { labels: { app: 'svcbench-backend' } },
        spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] },
      },
    },
  });
  await waitFor(
    '4 backends Ready',
    120_000,
    async () => ((await client.get('deployments', BENCH_NS, 'svcbench')).status?.readyReplicas ?? 0) === 4,
    200,
  );
  const backends: BenchPod[] = (
    await client.list('pods', { namespace: BENCH_NS, labelSelector: 'app=svcbench-backend' })
  ).items
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP, node: p.spec.nodeName }))
    .sort((a, b) => (a.ip < b.ip ? -1 : 1));
  const cl = await podOn(client, state, 'svc-client', 'node1');
  const srv = await podOn(client, state, 'svc-iperf', 'node2');
  log(
    `  backends ${backends.map((b) => `${b.ip}@${b.node}`).join(' ')}; client ${cl.ip}@node1; iperf3 server ${srv.ip}@node2`,
  );

  // 6. ClusterIP vs pod IP, before the big table (throughput does not depend on it)
  const iperfService = await client.create(benchService('svc-iperf', IPERF_PORT, IPERF_PORT));
  const iperfSlice = benchSlice('svc-iperf', [srv], IPERF_PORT);
  await client.create(iperfSlice);
  const iperfVip = iperfService.spec.clusterIP as string;
  await waitFor('svc-iperf on node1', 30_000, async () => {
    const r = await callAgent(
      agentSocketPath(state.plan.nodes[0].stateDir),
      'GET',
      `/lb/service?name=${BENCH_NS}/svc-iperf`,
    );
    return r.body.services?.[0]?.frontends?.[0]?.backends?.length === 1;
  });
  const { direct: directGbps, vip: vipGbps } = await iperfDirectAndVip(
    srv.ns,
    cl.ns,
    srv.ip,
    iperfVip,
    o.seconds,
    IPERF_PORT,
  );
  log(
    `  iperf3 client → server on node2: pod IP ${directGbps.toFixed(2)} Gbit/s, ClusterIP ${vipGbps.toFixed(2)} Gbit/s`,
  );

  // 3. count Services (+ their slices) through the API server, until every agent has them
  const base = await tableOf(state, 'node1');
  const names = Array.from({ length: o.count }, (_, i) => benchServiceName(i));
  log(`  writing ${o.count} Services + ${o.count} EndpointSlices through the API server (${WRITERS} at a time)`);
  const t0 = performance.now();
  await eachLimited(names, WRITERS, async (name, i) => {
    await client.create(benchService(name));
    await client.create(benchSlice(name, backends));
    if ((i + 1) % 2000 === 0) log(`    ${i + 1} written after ${since(t0).toFixed(1)} s`);
  });
  const apiWriteS = since(t0);
  const programmed = await untilEveryAgent(
    state,
    t0,
    `${o.count} Services on every agent`,
    (t) => t.services >= base.services + o.count && t.usableBackends >= base.usableBackends + 4 * o.count,
  );
  const programS = Math.max(...Object.values(programmed));
  log(
    `  API writes done after ${apiWriteS.toFixed(1)} s; every agent programmed after ${programS.toFixed(1)} s (${Object.entries(
      programmed,
    )
      .map(([n, s]) => `${n} ${s.toFixed(1)} s`)
      .join(', ')})`,
  );
  const apiserverMiB = rssMiB(state.apiserver);
  const agentMiB = Math.max(...Object.values(state.agents).map(rssMiB));

  // 3b. one change at count: a Service's port 80 → 81 and back, timed until every agent shows it
  await untilQuiet(state.apiserver, log);
  const changeMs: number[] = [];
  const changeApiMs: number[] = [];
  for (let k = 0; k < o.changes; k++) {
    const name = names[o.small + Math.floor(((k + 0.5) * (o.count - o.small)) / o.changes)];
    for (const port of [SERVICE_PORT + 1, SERVICE_PORT]) {
      const c = await timeOneChange(state, client, name, port);
      changeMs.push(c.agentsMs);
      changeApiMs.push(c.apiMs);
    }
  }
  const agentApplyMs: number[] = [];
  for (const n of state.plan.nodes) {
    const r = await callAgent(agentSocketPath(n.stateDir), 'GET', `/lb/service?name=${BENCH_NS}/-`);
    agentApplyMs.push(...(r.body.applyMs as number[]).slice(-2 * o.changes));
  }
  const sorted = [...changeMs].sort((a, b) => a - b);
  const apiSorted = [...changeApiMs].sort((a, b) => a - b);
  log(
    `  one Service edited at ${o.count}: every agent has it after p50 ${percentile(sorted, 0.5).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms (${changeMs.length} edits; the API server answered the PATCH after p50 ${percentile(apiSorted, 0.5).toFixed(1)} ms, max ${apiSorted[apiSorted.length - 1].toFixed(1)} ms); the agents' own apply time max ${Math.max(...agentApplyMs).toFixed(2)} ms`,
  );

  // 1. connect latency at count, then at small
  const services = (await client.list('services', { namespace: BENCH_NS })).items
    .filter((s) => /^bench-\d+$/.test(s.metadata.name))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const vips = services.map((s) => s.spec.clusterIP as string);
  const errorsBefore = await internalErrors(state);
  const latencyLarge = await connectLatency(o.bin, cl.ns, vips, SERVICE_PORT, o.samples, o.dir);
  log(`  connect() through ${vips.length} ClusterIPs: ${describeLatency(latencyLarge)}`);

  const t1 = performance.now();
  await eachLimited(names.slice(o.small), WRITERS, async (name) => {
    await client.delete('endpointslices', BENCH_NS, `${name}-bench`);
    await client.delete('services', BENCH_NS, name);
  });
  await untilEveryAgent(
    state,
    t1,
    `${o.small} Services left on every agent`,
    (t) => t.services <= base.services + o.small,
  );
  const deleteS = since(t1);
  log(`  ${o.count - o.small} Services deleted, every agent down to ${o.small} after ${deleteS.toFixed(1)} s`);
  const latencySmall = await connectLatency(o.bin, cl.ns, vips.slice(0, o.small), SERVICE_PORT, o.samples, o.dir);
  log(`  connect() through ${o.small} ClusterIPs: ${describeLatency(latencySmall)}`);
  const pipelineErrors = (await internalErrors(state)) - errorsBefore;
  if (pipelineErrors)
    log(
      `  the agents counted ${pipelineErrors} internal pipeline errors meanwhile (each drops its batch of frames; see agent.log)`,
    );

  return {
    topology: { client: cl, backends, iperf: srv, services, iperfService, iperfSlice },
    apiWriteS,
    programS,
    changeMs,
    changeApiMs,
    agentApplyMs,
    deleteS,
    latencyLarge,
    latencySmall,
    pipelineErrors,
    vipGbps,
    directGbps,
    apiserverMiB,
    agentMiB,
  };
}

/**
 * Patch one Service's port, then poll every agent for that one Service
 * until the new port shows. Returns ms from the write to the API server's
 * answer, and to the last agent.
 */
async function timeOneChange(
  state: LabState,
  client: ApiClient,
  name: string,
  port: number,
): Promise<{ apiMs: number; agentsMs: number }> {
  const want = `:${port}/TCP`;
  const t0 = performance.now();
  let apiMs = NaN;
  const write = client
    .patch('services', BENCH_NS, name, { spec: { ports: [{ port, targetPort: 80, protocol: 'TCP' }] } })
    .then(() => (apiMs = performance.now() - t0));
  const seen = await Promise.all(
    state.plan.nodes.map(async (n) => {
      for (;;) {
        const r = await callAgent(agentSocketPath(n.stateDir), 'GET', `/lb/service?name=${BENCH_NS}/${name}`);
        if ((r.body.services?.[0]?.frontends?.[0]?.frontend as string | undefined)?.endsWith(want))
          return performance.now() - t0;
        if (performance.now() - t0 > 30_000)
          throw new BenchError('ERR_SETUP', `${n.name} did not apply ${name} port ${port} in 30 s`);
        await new Promise((res) => setTimeout(res, 2));
      }
    }),
  );
  await write;
  return { apiMs, agentsMs: Math.max(...seen) };
}

/** CPU seconds a process has used (utime + stime). */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
}

/** Until the API server (and its controllers) has worked off what the writes queued: under 10% of a core for a second. */
async function untilQuiet(pid: number | undefined, log: (m: string) => void): Promise<void> {
  if (!pid) return;
  const t0 = performance.now();
  for (let busy = Infinity; busy > 0.1 && performance.now() - t0 < 120_000;) {
    const c0 = cpuSeconds(pid);
    await new Promise((res) => setTimeout(res, 1000));
    busy = cpuSeconds(pid) - c0;
  }
  log(`  (the API server settled ${since(t0).toFixed(1)} s after the last agent had everything)`);
}
