import fs from 'node:fs';
import { labUp, labDown, labPods, waitFor, type LabState } from '../lab/index.js';
import { ApiClient, type KubeObject } from '../control/client/index.js';
import { callAgent, agentSocketPath } from '../agent/index.js';
import type { PolicyStatus } from '../agent/index.js';
import { iperfGbps } from './measure.js';
import { eachLimited, percentile } from './services-objects.js';
import { conditionOf, visit, type Condition, type Visit } from './netpol-condition.js';
import {
  HTTP_PORT,
  IPERF_PORT,
  NETBENCH_NS,
  blockingPolicy,
  clientPod,
  mixSummary,
  netbenchNamespaces,
  netpolMix,
  policyName,
  probePod,
  serverPod,
} from './netpol-mix.js';
import { describeWork, verdictWork, type VerdictWork } from './netpol-work.js';
import { timeChange, type ProbeTiming } from './netpol-change.js';
import { BenchError } from './errors.js';

/**
 * podwire's side of `bench netpol`: a 2-node lab with its control plane;
 * client (node1) → server (node2) measured with no NetworkPolicy and with
 * `count` of them in the namespace (netpol-mix.ts, written through the
 * API server, later deleted through it), `visits` times each in the order
 * 0, N, N, 0 (so a drift in the shared machine's other load falls on both
 * alike); after the second N visit, with the `count` in place, a blocking
 * policy created and deleted `changes` times, timed on the wire to a
 * probe pod on every node.
 */
export interface PodwireNetpolOptions {
  prefix: string;
  count: number;
  samples: number;
  seconds: number;
  rounds: number;
  /** visits to each condition, taking turns: 0, count, 0, count, … */
  visits: number;
  changes: number;
  connectBin: string;
  probeBin: string;
  dir: string;
  log: (m: string) => void;
}

export interface PodwireNetpolResult {
  none: Condition;
  many: Condition;
  work: VerdictWork;
  /** seconds from the first API write to every agent holding all `count` (first visit) */
  applyS: number;
  /** seconds from the first API delete to every agent holding none (first time) */
  deleteS: number;
  /** the agents' compile of the whole set with `count` policies (GET /policy compileMs), per agent */
  compileMs: number[];
  /** compileMs each agent reported after each timed change */
  changeCompileMs: number[];
  changes: ProbeTiming[];
  /** the allowing policies' counters on the agents that judged: the verdicts really ran */
  allowedIngress: number;
  allowedEgress: number;
}

const WRITERS = 16;
const since = (t0: number) => (performance.now() - t0) / 1000;

async function policyStatus(state: LabState, node: string): Promise<PolicyStatus> {
  const n = state.plan.nodes.find((x) => x.name === node)!;
  return (await callAgent(agentSocketPath(n.stateDir), 'GET', '/policy', undefined, 30_000)).body as PolicyStatus;
}

/** Until every agent's set holds exactly `count` policies of netbench. */
async function untilEveryAgentHas(state: LabState, count: number, deadlineMs: number): Promise<PolicyStatus[]> {
  let got: PolicyStatus[] = [];
  await waitFor(
    `${count} NetworkPolicies on every agent`,
    deadlineMs,
    async () => {
      got = await Promise.all(state.plan.nodes.map((n) => policyStatus(state, n.name)));
      return got.every(
        (s) => s.generation > 0 && s.policies.filter((p) => p.name.startsWith(`${NETBENCH_NS}/`)).length === count,
      );
    },
    100,
  );
  return got;
}

async function podUp(
  client: ApiClient,
  state: LabState,
  obj: KubeObject,
): Promise<{ ip: string; ns: string; node: string }> {
  await client.create(obj);
  const { namespace, name } = obj.metadata;
  let pod!: KubeObject;
  await waitFor(
    `pod ${namespace}/${name} running`,
    60_000,
    async () => {
      pod = await client.get('pods', namespace, name);
      return pod.status?.phase === 'Running' && !!pod.status?.podIP;
    },
    100,
  );
  const rec = (await labPods(state)).find((p) => p.ip === pod.status.podIP && p.node === obj.spec.nodeName);
  if (!rec) throw new BenchError('ERR_SETUP', `pod ${namespace}/${name} is not on ${obj.spec.nodeName}'s agent`);
  return { ip: pod.status.podIP, ns: rec.netns, node: obj.spec.nodeName };
}

/** What one verdict of the measured connection walks (the API server's objects, compiled as the agents do), checked against node2's agent. */
async function checkWork(
  client: ApiClient,
  status: PolicyStatus[],
  clientIp: string,
  serverIp: string,
  log: (m: string) => void,
): Promise<VerdictWork> {
  const [pods, namespaces, policies] = await Promise.all([
    client.list('pods'),
    client.list('namespaces'),
    client.list('networkpolicies'),
  ]);
  const work = verdictWork(policies.items, pods.items, namespaces.items, clientIp, serverIp, HTTP_PORT);
  log(`  ${describeWork(work, HTTP_PORT)}`);
  const onNode2 = status[1].isolatedHere.find((p) => p.pod === `${NETBENCH_NS}/server`);
  if (onNode2?.ingress.length !== work.ingress.policies)
    throw new BenchError(
      'ERR_SETUP',
      `node2's agent isolates the server by ${onNode2?.ingress.length ?? 0} policies, the model by ${work.ingress.policies}`,
    );
  return work;
}

/** CPU seconds a process has used (utime + stime). */
function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/**
 * Before a visit: until the API server and the agents have worked off
 * what the last writes queued (each under 10% of a core for a second,
 * 20 s at most), so a visit does not pay for the one before.
 */
async function untilQuiet(state: LabState, log: (m: string) => void): Promise<void> {
  const pids = [state.apiserver, ...Object.values(state.agents)].filter((p): p is number => !!p);
  const t0 = performance.now();
  for (let busy = Infinity; busy > 0.1 && performance.now() - t0 < 20_000;) {
    const c0 = pids.map(cpuSeconds);
    await new Promise((res) => setTimeout(res, 1000));
    busy = Math.max(...pids.map((p, i) => cpuSeconds(p) - c0[i]));
  }
  const s = since(t0);
  if (s > 1.5) log(`  (the API server and agents settled after ${s.toFixed(1)} s)`);
}

/** The allowing policies' verdict counters on the agents that judge them (node2: the server's ingress, node1: the client's egress). */
async function allowedCounts(
  state: LabState,
  count: number,
  log: (m: string) => void,
): Promise<{ ingress: number; egress: number }> {
  const counter = async (node: string, policy: string) =>
    (await policyStatus(state, node)).policies.find((p) => p.name === `${NETBENCH_NS}/${policy}`);
  const ingress = (await counter('node2', policyName(count - 2)))?.ingressAllowed ?? 0;
  const egress = (await counter('node1', policyName(count - 1)))?.egressAllowed ?? 0;
  log(`  verdicts counted for the allowing policies so far: ${ingress} ingress on node2, ${egress} egress on node1`);
  return { ingress, egress };
}

/**
 * With the mix in place: a policy blocking a probe pod on each node
 * created, then deleted, `changes` times, each timed on the wire from the
 * client (netpol-change.ts); and the compile time each agent reported.
 */
async function timeChanges(
  o: PodwireNetpolOptions,
  state: LabState,
  client: ApiClient,
  clientNs: string,
  probes: { ip: string; node: string }[],
): Promise<{ changes: ProbeTiming[]; changeCompileMs: number[] }> {
  const targets = probes.map((p) => ({ ip: p.ip, port: HTTP_PORT, node: p.node }));
  const changes: ProbeTiming[] = [];
  const changeCompileMs: number[] = [];
  const block = blockingPolicy();
  for (let k = 0; k < o.changes; k++) {
    changes.push(await timeChange(o.probeBin, clientNs, targets, 'blocked', () => client.create(block)));
    changeCompileMs.push(...(await untilEveryAgentHas(state, o.count, 10_000)).map((x) => x.compileMs));
    changes.push(
      await timeChange(o.probeBin, clientNs, targets, 'open', () =>
        client.delete('networkpolicies', block.metadata.namespace, block.metadata.name),
      ),
    );
    changeCompileMs.push(...(await untilEveryAgentHas(state, o.count, 10_000)).map((x) => x.compileMs));
  }
  for (const w of ['blocked', 'open'] as const) {
    const mine = changes.filter((c) => c.want === w);
    const m = mine.map((c) => c.ms).sort((a, b) => a - b);
    const perNode = targets
      .map(
        (t, i) =>
          `${t.node} p50 ${percentile(
            mine.map((c) => c.perTargetMs[i]).sort((a, b) => a - b),
            0.5,
          ).toFixed(0)} ms`,
      )
      .join(', ');
    o.log(
      `  a policy ${w === 'blocked' ? 'created (blocks the probe pods)' : 'deleted (lets them in)'} with ${o.count} in place: enforced on every node after p50 ${percentile(m, 0.5).toFixed(0)} ms, max ${m[m.length - 1].toFixed(0)} ms (${m.length} changes; ${perNode})`,
    );
  }
  return { changes, changeCompileMs };
}

export async function podwireNetpol(o: PodwireNetpolOptions): Promise<PodwireNetpolResult> {
  try {
    const state = await labUp({ prefix: o.prefix, nodes: 2, controlPlane: true });
    const client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
    try {
      return await run(o, state, client);
    } finally {
      client.close();
    }
  } finally {
    await labDown({ prefix: o.prefix });
  }
}

async function run(o: PodwireNetpolOptions, state: LabState, client: ApiClient): Promise<PodwireNetpolResult> {
  const { log } = o;
  for (const ns of netbenchNamespaces()) await client.create(ns);
  const cl = await podUp(client, state, clientPod('node1'));
  const srv = await podUp(client, state, serverPod('node2'));
  const probes = [
    await podUp(client, state, probePod('probe-1', 'node1')),
    await podUp(client, state, probePod('probe-2', 'node2')),
  ];
  log(
    `  client ${cl.ip}@node1 → server ${srv.ip}@node2 (nginx :${HTTP_PORT}, iperf3 :${IPERF_PORT}); probe pods ${probes.map((p) => `${p.ip}@${p.node}`).join(' ')}`,
  );
  await untilEveryAgentHas(state, 0, 30_000);

  const pair = { clientNs: cl.ns, serverNs: srv.ns, serverIp: srv.ip, controlIp: probes[1].ip };
  // warm-up, not counted: the agents' hot paths optimised, the first flows made
  await iperfGbps(srv.ns, cl.ns, srv.ip, 2 * o.seconds, IPERF_PORT);

  const mix = netpolMix(o.count, `${cl.ip.split('.').slice(0, 3).join('.')}.0/24`);
  const s = mixSummary(mix);
  log(
    `  the mix: ${o.count} NetworkPolicies, ${s.ingressRules} ingress + ${s.egressRules} egress rules; peers: ${s.podSelectorPeers} podSelector, ${s.namespaceSelectorPeers} namespaceSelector (${s.andPeers} ANDed with a podSelector), ${s.ipBlocks} ipBlock (${s.ipBlocksWithExcept} with except); ports: ${s.portsByNumber} by number, ${s.portsByName} by name, ${s.portRanges} ranges, ${s.protocolOnly} protocol only`,
  );
  const none: Visit[] = [];
  const many: Visit[] = [];
  let applyS = NaN;
  let deleteS = NaN;
  let compileMs: number[] = [];
  let work!: VerdictWork;
  let changes: ProbeTiming[] = [];
  let changeCompileMs: number[] = [];
  let allowed = { ingress: 0, egress: 0 };
  let applied = false;
  // 0, N, N, 0, …: a drift in the machine's other load over the run falls on both conditions alike
  const schedule = Array.from({ length: 2 * o.visits }, (_, i) => i % 4 === 1 || i % 4 === 2);
  for (const [i, withPolicies] of schedule.entries()) {
    if (withPolicies && !applied) {
      const t0 = performance.now();
      await eachLimited(mix, WRITERS, async (np) => void (await client.create(np)));
      const writeS = since(t0);
      const after = await untilEveryAgentHas(state, o.count, 300_000);
      if (Number.isNaN(applyS)) {
        applyS = since(t0);
        compileMs = after.map((x) => x.compileMs);
        log(
          `  ${o.count} written through the API server in ${writeS.toFixed(1)} s; every agent enforcing all after ${applyS.toFixed(1)} s; the agents' last compile of the whole set: ${compileMs.map((m) => `${m.toFixed(1)} ms`).join(', ')}`,
        );
        work = await checkWork(client, after, cl.ip, srv.ip, log);
      }
      applied = true;
    }
    if (!withPolicies && applied) {
      if (!changes.length) {
        allowed = await allowedCounts(state, o.count, log);
        ({ changes, changeCompileMs } = await timeChanges(o, state, client, cl.ns, probes));
      }
      const t1 = performance.now();
      await eachLimited(
        mix,
        WRITERS,
        async (np) => void (await client.delete('networkpolicies', NETBENCH_NS, np.metadata.name)),
      );
      await untilEveryAgentHas(state, 0, 300_000);
      if (Number.isNaN(deleteS)) {
        deleteS = since(t1);
        log(`  all ${o.count} deleted; every agent enforcing none after ${deleteS.toFixed(1)} s`);
      }
      applied = false;
    }
    const list = withPolicies ? many : none;
    await untilQuiet(state, log);
    list.push(await visit(pair, o, `${withPolicies ? o.count : 0} NetworkPolicies, visit ${list.length + 1}`, log));
    if (i === schedule.length - 1 && !changes.length) {
      allowed = await allowedCounts(state, o.count, log);
      ({ changes, changeCompileMs } = await timeChanges(o, state, client, cl.ns, probes));
    }
  }
  const allowedIngress = allowed.ingress;
  const allowedEgress = allowed.egress;
  return {
    none: conditionOf(none),
    many: conditionOf(many),
    work,
    applyS,
    deleteS,
    compileMs,
    changeCompileMs,
    changes,
    allowedIngress,
    allowedEgress,
  };
}
