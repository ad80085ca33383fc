import fs from 'node:fs';
import path from 'node:path';
import { execaRunner, cmd } from '../host/index.js';
import { labPods } from './pods.js';
import { restartAgent, isOurAgent, readLabState, type LabState } from './lab.js';
import { waitFor } from './wait.js';
import { SERVICE_SCENARIOS } from './service-faults.js';
import { DNS_SCENARIOS } from './dns-faults.js';
import { POLICY_SCENARIOS } from './policy-faults.js';
import { INGRESS_SCENARIOS } from './ingress-faults.js';
import { LabError } from './errors.js';
import { holdNode, releaseNode, withProcessLock } from './supervision.js';

/**
 * Stop a node's agent and keep it down: held first, so the lab's supervisor
 * leaves it alone until `lab fix` (which releases it and starts the agent).
 */
async function stopAgentHeld(state: LabState, node: string, signal: NodeJS.Signals): Promise<void> {
  const pid = state.agents[node];
  if (!pid) throw new LabError('ERR_NO_SUCH_NODE', `no node "${node}" in lab ${state.plan.prefix}`);
  await withProcessLock(state.plan.stateDir, async () => {
    const now = readLabState(state.plan.prefix, path.dirname(state.plan.stateDir))?.agents[node] ?? pid;
    if (!isOurAgent(now, state.plan.prefix)) throw new LabError('ERR_FAULT', `${node}'s agent is already down`);
    holdNode(state.plan.stateDir, node);
    process.kill(now, signal);
    await waitFor(`${node}'s agent to stop`, 10_000, () => !isOurAgent(now, state.plan.prefix));
  });
}

async function startAgentReleased(state: LabState, node: string): Promise<void> {
  releaseNode(state.plan.stateDir, node);
  await restartAgent({ prefix: state.plan.prefix, stateRoot: path.dirname(state.plan.stateDir), node });
}

/**
 * Fault injection for workshops: `podwire lab break <scenario>` makes one
 * of the faults a learner should find with trace / observe / capture, and
 * `podwire lab fix` undoes it. What is broken is recorded in the lab's state
 * directory, so `lab fix` with no arguments mends everything.
 */
export interface Scenario {
  name: string;
  summary: string;
  /** which podwire command finds it, and what it shows */
  findWith: string;
  target: 'node' | 'pod' | 'service' | 'deployment' | 'configmap' | 'namespace' | 'ingress';
  /** the target when none is given (the cluster DNS faults: kube-system's objects) */
  defaultTarget?: string;
  break(state: LabState, target: string): Promise<void>;
  fix(state: LabState, target: string): Promise<void>;
}

async function podNs(state: LabState, pod: string): Promise<{ netns: string; gateway: string }> {
  const p = (await labPods(state)).find((x) => x.name === pod);
  if (!p) throw new LabError('ERR_NO_SUCH_POD', `pod "${pod}" not found`);
  return { netns: p.netns, gateway: p.ip.replace(/\.\d+$/, '.1') };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'agent-down',
    summary: 'stop a node’s agent: nothing forwards its pods’ packets, and peers stop reaching it',
    findWith:
      'podwire trace <pod> <pod on that node> → DROPPED at the sender’s agent: peer-unreachable; podwire observe --verdict DROPPED',
    target: 'node',
    async break(state, node) {
      await stopAgentHeld(state, node, 'SIGTERM');
    },
    async fix(state, node) {
      await startAgentReleased(state, node);
    },
  },
  {
    name: 'node-down',
    summary:
      'lose a node as a machine is lost (its agent killed -9 and kept down): NotReady, tainted, its pods evicted and replaced',
    findWith:
      'podwire get nodes → NotReady after 10 s; podwire describe node <node> → Taints: node.kubernetes.io/unreachable:NoExecute, Conditions Unknown "Kubelet stopped posting node status."; podwire get pods -o wide → its pods Terminating after their tolerationSeconds (300 s by default; lab up --eviction-seconds sets it), replacements Running on other nodes; podwire get events → TaintManagerEviction',
    target: 'node',
    async break(state, node) {
      await stopAgentHeld(state, node, 'SIGKILL');
    },
    async fix(state, node) {
      await startAgentReleased(state, node);
    },
  },
  {
    name: 'mtu-mismatch',
    summary: 'raise a pod’s MTU to 1500, above the path’s 1450 (1500 − 50 bytes of VXLAN)',
    findWith:
      'podwire trace <pod> <pod on another node> → DROPPED: mtu-exceeded, and the pod gets ICMP frag-needed (mtu 1450)',
    target: 'pod',
    async break(state, pod) {
      const { netns } = await podNs(state, pod);
      await execaRunner().run(cmd.linkSet(netns, 'eth0', 'mtu', '1500'));
    },
    async fix(state, pod) {
      const { netns } = await podNs(state, pod);
      await execaRunner().run(cmd.linkSet(netns, 'eth0', 'mtu', '1450'));
    },
  },
  {
    name: 'route-removed',
    summary: 'delete a pod’s default route: it can reach its own /24 only',
    findWith:
      'podwire trace <pod> <pod on another node> → LOST at the source pod: no route (podwire exec <pod> -- ip route)',
    target: 'pod',
    async break(state, pod) {
      const { netns } = await podNs(state, pod);
      await execaRunner().run(cmd.routeDelete(netns, 'default'));
    },
    async fix(state, pod) {
      const { netns, gateway } = await podNs(state, pod);
      await execaRunner().run(cmd.routeReplace(netns, 'default', 'via', gateway, 'dev', 'eth0'));
    },
  },
];

SCENARIOS.push(...SERVICE_SCENARIOS, ...DNS_SCENARIOS, ...POLICY_SCENARIOS, ...INGRESS_SCENARIOS);

/** `lab break --help`'s list: names and targets in columns as wide as the longest (names grow: ingress-tls-secret-missing). */
export function scenarioHelpLines(scenarios: readonly Scenario[] = SCENARIOS): string[] {
  const nameWidth = Math.max(...scenarios.map((s) => s.name.length));
  const targetWidth = Math.max(...scenarios.map((s) => s.target.length)) + 2;
  return scenarios.map((s) => `  ${s.name.padEnd(nameWidth)}  ${`<${s.target}>`.padEnd(targetWidth)}  ${s.summary}`);
}

const brokenFile = (state: LabState) => path.join(state.plan.stateDir, 'broken.json');

export function brokenNow(state: LabState): { scenario: string; target: string }[] {
  try {
    return JSON.parse(fs.readFileSync(brokenFile(state), 'utf8'));
  } catch {
    return [];
  }
}

export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s)
    throw new LabError(
      'ERR_NO_SUCH_SCENARIO',
      `no scenario "${name}" (have: ${SCENARIOS.map((x) => x.name).join(', ')})`,
    );
  return s;
}

export async function breakLab(state: LabState, name: string, target: string): Promise<Scenario> {
  const s = findScenario(name);
  const broken = brokenNow(state);
  if (broken.some((b) => b.scenario === name && b.target === target))
    throw new LabError('ERR_FAULT', `${name} is already broken on ${target} (podwire lab fix)`);
  await s.break(state, target);
  fs.writeFileSync(brokenFile(state), JSON.stringify([...broken, { scenario: name, target }], null, 2));
  return s;
}

/** Fix one scenario (or all when name is undefined); returns what was fixed. */
export async function fixLab(
  state: LabState,
  name?: string,
  target?: string,
): Promise<{ scenario: string; target: string }[]> {
  const broken = brokenNow(state);
  const todo = broken.filter((b) => (!name || b.scenario === name) && (!target || b.target === target));
  for (const b of todo) await findScenario(b.scenario).fix(state, b.target);
  fs.writeFileSync(
    brokenFile(state),
    JSON.stringify(
      broken.filter((b) => !todo.includes(b)),
      null,
      2,
    ),
  );
  return todo;
}
