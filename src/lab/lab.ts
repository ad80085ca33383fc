import fs from 'node:fs';
import path from 'node:path';
import {
  execaRunner,
  listNetns,
  deleteNetnsWithPrefix,
  netnsPids,
  startDaemon,
  processRunning,
  withNetns,
  type CommandRunner,
  packagePath,
} from '../host/index.js';
import { LabError } from './errors.js';
import { callAgent } from '../agent/index.js';
import { agentSocketPath } from '../agent/index.js';
import {
  planLab,
  topologyCommands,
  controlPlaneCommands,
  peersDocument,
  checkOutsideFits,
  labResolvConf,
  type LabPlan,
  type LabNode,
} from './plan.js';
import { ApiClient } from '../control/client/index.js';
import { waitFor } from './wait.js';
import { withProcessLock } from './supervision.js';
import {
  ensureLabPki,
  apiServerTlsArgs,
  agentKubeletTlsArgs,
  writeAdminKubeconfig,
  labPki,
  ensureNodeKubeconfig,
} from './credentials.js';
import {
  startOutside,
  waitForOutside,
  outsideStatus,
  removeClientResolvConf,
  type OutsideState,
  type OutsideStatus,
} from './outside.js';

export interface LabState {
  plan: LabPlan;
  agents: Record<string, number>;
  /** the API server + controllers process (labs with a control plane) */
  apiserver?: number;
  nodeGraceSeconds?: number;
  /** `lab up --eviction-seconds`: the API server's default not-ready/unreachable toleration (unset: 300) */
  evictionSeconds?: number;
  store?: 'file' | 'etcd';
  /** etcd's PID when store is etcd */
  etcd?: number;
  /** the supervisor (`lab supervise`), which restarts what dies: `podwire lab up` starts it */
  supervisor?: number;
  /** the outside machines' processes (www; the cloud load balancer with a control plane), when the lab has them */
  outside?: OutsideState;
  createdAt: string;
}

/** bin/podwire.js, two levels above src/lab or dist/lab */
export const CLI_ENTRY = packagePath('bin', 'podwire.js');

const stateFile = (plan: LabPlan) => path.join(plan.stateDir, 'lab.json');

export function readLabState(prefix: string, stateRoot?: string): LabState | null {
  const plan = planLab({ prefix, nodes: 1, stateRoot });
  try {
    return JSON.parse(fs.readFileSync(stateFile(plan), 'utf8')) as LabState;
  } catch {
    return null;
  }
}

export function isOurAgent(
  pid: number,
  prefix: string,
  role: 'agent' | 'apiserver' | 'www' | 'cloudlb' | 'supervise' = 'agent',
): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(role) && argv.includes(prefix);
  } catch {
    return false;
  }
}

/** Alive and not a zombie: where PID 1 does not reap (some containers' init), an ended orphan stays a zombie. */
function processAlive(pid: number): boolean {
  return processRunning(pid);
}

export interface LabUpOptions {
  prefix?: string;
  /** start the supervisor, which restarts agents, the API server and etcd when they die (the CLI's `lab up` does) */
  supervise?: boolean;
  nodes: number;
  stateRoot?: string;
  log?: (msg: string) => void;
  runner?: CommandRunner;
  /**
   * Run the API server and controllers (in the lab's `<prefix>-cp`
   * namespace) and have agents take pods and peers from it. Without it
   * (dataplane-only tests): a peers file, and pods only by `podwire pod add`.
   */
  controlPlane?: boolean;
  /** seconds without a heartbeat before a node turns NotReady (default 10) */
  nodeGraceSeconds?: number;
  /**
   * the tolerationSeconds every pod gets for node.kubernetes.io/not-ready and
   * unreachable NoExecute (kube-apiserver's --default-*-toleration-seconds;
   * default 300): how long after its node is lost a pod is evicted and replaced
   */
  evictionSeconds?: number;
  /** the API server's store: the embedded file store (default) or a real etcd in the control-plane namespace */
  store?: 'file' | 'etcd';
  /**
   * The world outside the cluster: a client machine, a www server and (with
   * the control plane) the cloud load balancer. `podwire lab up` builds it
   * unless --no-outside; left out here by default (dataplane tests do without).
   */
  outside?: boolean;
}

/** Build the lab and start one agent per node; idempotent (a healthy lab is left as is, a broken one rebuilt). */
export async function labUp(opts: LabUpOptions): Promise<LabState> {
  const log = opts.log ?? (() => {});
  const runner = opts.runner ?? execaRunner();
  const plan = planLab(opts);
  const existing = readLabState(plan.prefix, opts.stateRoot);
  const withCp = opts.controlPlane ?? false;
  const withOutside = opts.outside ?? false;
  if (withOutside) checkOutsideFits(plan);
  if (
    existing &&
    existing.plan.nodes.length === plan.nodes.length &&
    !!existing.apiserver === withCp &&
    !!existing.outside === withOutside &&
    (existing.evictionSeconds ?? 300) === (opts.evictionSeconds ?? 300) &&
    (await labHealthy(existing))
  ) {
    log(`lab ${plan.prefix} is already up with ${plan.nodes.length} nodes`);
    return existing;
  }
  if (existing || (await listNetns(runner, plan.prefix)).length > 0) {
    log(`cleaning up what an earlier lab ${plan.prefix} left behind`);
    await labDown({ prefix: plan.prefix, stateRoot: opts.stateRoot, runner });
  }
  fs.mkdirSync(plan.stateDir, { recursive: true });
  fs.writeFileSync(plan.resolvConf, labResolvConf(plan));
  log(`building underlay ${plan.underlayNs} and ${plan.nodes.length} node namespaces`);
  try {
    for (const argv of topologyCommands(plan)) await runner.run(argv);
    const state: LabState = { plan, agents: {}, createdAt: new Date().toISOString() };
    if (withCp) {
      for (const argv of controlPlaneCommands(plan)) await runner.run(argv);
      log(
        `starting the API server and controllers in ${plan.controlPlane.ns} (${plan.controlPlane.ip}:${plan.controlPlane.port})`,
      );
      state.nodeGraceSeconds = opts.nodeGraceSeconds ?? 10;
      if (opts.evictionSeconds !== undefined) state.evictionSeconds = opts.evictionSeconds;
      state.store = opts.store ?? 'file';
      // the CA, the API server's serving certificate, admin, one per node, the ServiceAccount keys
      await ensureLabPki(plan);
      log(`admin kubeconfig: ${writeAdminKubeconfig(plan)}`);
      if (state.store === 'etcd') {
        log(`starting etcd in ${plan.controlPlane.ns} (127.0.0.1:2379 there)`);
        state.etcd = startEtcd(plan);
      }
      state.apiserver = startApiServer(plan, state);
      fs.writeFileSync(stateFile(plan), JSON.stringify(state, null, 2));
      await waitForApiServer(plan, state.apiserver, state.etcd);
    } else {
      fs.writeFileSync(plan.peersFile, JSON.stringify(peersDocument(plan), null, 2));
    }
    if (withOutside) {
      state.outside = await startOutside(plan, runner, CLI_ENTRY, withCp, log);
      fs.writeFileSync(stateFile(plan), JSON.stringify(state, null, 2));
    }
    const agents = state.agents;
    for (const node of plan.nodes) agents[node.name] = startAgent(plan, node, withCp);
    fs.writeFileSync(stateFile(plan), JSON.stringify(state, null, 2));
    for (const node of plan.nodes) {
      log(`waiting for agent on ${node.name} (pid ${agents[node.name]})`);
      await waitFor(`agent ${node.name} to answer`, 30_000, async () => {
        if (!processAlive(agents[node.name])) {
          throw new LabError(
            'ERR_AGENT_EXITED',
            `agent on ${node.name} exited; see ${path.join(node.stateDir, 'agent.log')}:\n${tail(path.join(node.stateDir, 'agent.log'))}`,
          );
        }
        const r = await callAgent(agentSocketPath(node.stateDir), 'GET', '/status', undefined, 2000).catch(() => null);
        return r?.status === 200;
      });
    }
    // Ready when every agent knows every peer's underlay MAC.
    await waitFor('agents to resolve their peers', 15_000, async () => {
      for (const node of plan.nodes) {
        const r = await callAgent(agentSocketPath(node.stateDir), 'GET', '/status', undefined, 2000);
        if ((r.body.underlayNeighbors ?? []).length < plan.nodes.length - 1) return false;
      }
      return true;
    });
    if (withCp) await waitForNodesReady(plan);
    if (state.outside) await waitForOutside(plan, state.outside);
    if (opts.supervise) {
      // on the machine, not in a lab namespace: it runs `ip netns`/nsenter as the lab commands do
      state.supervisor = startDaemon([process.execPath, CLI_ENTRY, '--lab', plan.prefix, 'lab', 'supervise'], {
        logFile: path.join(plan.stateDir, 'supervisor.log'),
        env: { ...process.env, PODWIRE_STATE_ROOT: path.dirname(plan.stateDir) },
      });
      fs.writeFileSync(stateFile(plan), JSON.stringify(state, null, 2));
      log(
        `supervisor: pid ${state.supervisor} restarts agents, the API server and etcd when they die (lab status shows it)`,
      );
    }
    log(`lab ${plan.prefix} up: ${plan.nodes.map((n) => `${n.name} ${n.ip} pods ${n.podCidr}`).join('; ')}`);
    return state;
  } catch (err) {
    log(`lab up failed, tearing down: ${(err as Error).message}`);
    await labDown({ prefix: plan.prefix, stateRoot: opts.stateRoot, runner });
    throw err;
  }
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Extra Node flags for agents, e.g. PODWIRE_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile. */
function agentNodeArgs(): string[] {
  return (process.env.PODWIRE_AGENT_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/** The lab's API server answers on its Unix socket. */
async function waitForApiServer(plan: LabPlan, pid: number, etcdPid?: number): Promise<void> {
  const client = new ApiClient(`unix:${plan.controlPlane.socket}`);
  try {
    await waitFor('the API server to answer', 30_000, async () => {
      if (etcdPid && !processAlive(etcdPid))
        throw new LabError(
          'ERR_ETCD_EXITED',
          `etcd exited:\n${tail(path.join(plan.controlPlane.stateDir, 'etcd.log'))}`,
        );
      if (!processAlive(pid))
        throw new LabError(
          'ERR_APISERVER_EXITED',
          `the API server exited:\n${tail(path.join(plan.controlPlane.stateDir, 'apiserver.log'))}`,
        );
      return (await client.tryGet('namespaces', undefined, 'default').catch(() => null)) !== null;
    });
  } finally {
    client.close();
  }
}

/** Every node registered, Ready, with the podCIDR the plan expects (node N: 10.244.N.0/24). */
async function waitForNodesReady(plan: LabPlan): Promise<void> {
  const client = new ApiClient(`unix:${plan.controlPlane.socket}`);
  try {
    await waitFor('nodes to register and turn Ready', 60_000, async () => {
      const { items } = await client.list('nodes');
      return plan.nodes.every((n) => {
        const o = items.find((i) => i.metadata.name === n.name);
        const ready = o?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
        return ready && o?.spec?.podCIDR === n.podCidr;
      });
    });
  } finally {
    client.close();
  }
}

/** Start a process in the control plane's namespace, detached, its output in <cp state>/<log>. */
function spawnInControlPlane(plan: LabPlan, log: string, argv: string[], what: string): number {
  const cp = plan.controlPlane;
  try {
    return startDaemon(withNetns(cp.ns, argv), { logFile: path.join(cp.stateDir, log) });
  } catch (cause) {
    throw new LabError('ERR_START_FAILED', `could not start ${what}`, { cause });
  }
}

/** Debian's etcd-server, on the control plane's own loopback (nothing outside the lab can reach it). */
function startEtcd(plan: LabPlan): number {
  const dataDir = path.join(plan.controlPlane.stateDir, 'etcd');
  return spawnInControlPlane(
    plan,
    'etcd.log',
    [
      'etcd',
      '--name',
      `${plan.prefix}-etcd`,
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      'http://127.0.0.1:2379',
      '--advertise-client-urls',
      'http://127.0.0.1:2379',
      '--listen-peer-urls',
      'http://127.0.0.1:2380',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2380',
      '--initial-cluster',
      `${plan.prefix}-etcd=http://127.0.0.1:2380`,
    ],
    'etcd (is etcd-server installed?)',
  );
}

/** The API server as the lab's state says (restarts keep its grace period, store and eviction time). */
function startApiServer(
  plan: LabPlan,
  state: Pick<LabState, 'nodeGraceSeconds' | 'store' | 'evictionSeconds'>,
): number {
  const cp = plan.controlPlane;
  const store = state.store ?? 'file';
  return spawnInControlPlane(
    plan,
    'apiserver.log',
    [
      process.execPath,
      CLI_ENTRY,
      'apiserver',
      '--prefix',
      plan.prefix,
      '--store',
      store === 'etcd' ? 'etcd://127.0.0.1:2379' : path.join(cp.stateDir, 'store'),
      '--host',
      cp.ip,
      '--port',
      String(cp.port),
      '--socket',
      cp.socket,
      '--node-monitor-grace-period',
      String(state.nodeGraceSeconds ?? 10),
      ...evictionArgs(state.evictionSeconds),
      // HTTPS with the lab CA: client certificates and ServiceAccount tokens, RBAC
      ...apiServerTlsArgs(plan),
    ],
    'the API server',
  );
}

/** `lab up --eviction-seconds N`: both DefaultTolerationSeconds flags (pure; nothing when unset). */
export function evictionArgs(seconds: number | undefined): string[] {
  if (seconds === undefined) return [];
  return [
    '--default-not-ready-toleration-seconds',
    String(seconds),
    '--default-unreachable-toleration-seconds',
    String(seconds),
  ];
}

/**
 * Stop the lab's API server (SIGTERM, or SIGKILL with `crash`) and start it
 * again on the same store: every object is still there, and agents and
 * controllers reconnect (their informers list again).
 */
export async function restartApiServer(opts: {
  prefix?: string;
  stateRoot?: string;
  crash?: boolean;
  /** the caller holds the lab's process lock (the supervisor) */
  locked?: boolean;
}): Promise<number> {
  const state = readLabState(opts.prefix ?? 'pwlab', opts.stateRoot);
  if (!state?.apiserver)
    throw new LabError('ERR_LAB_NOT_UP', `no lab "${opts.prefix ?? 'pwlab'}" with a control plane is up`);
  if (!opts.locked) return withProcessLock(state.plan.stateDir, () => restartApiServer({ ...opts, locked: true }));
  const old = state.apiserver;
  if (isOurAgent(old, state.plan.prefix, 'apiserver')) {
    process.kill(old, opts.crash ? 'SIGKILL' : 'SIGTERM');
    await waitFor(`old API server ${old} to exit`, 10_000, () => !processAlive(old));
  }
  state.apiserver = startApiServer(state.plan, state);
  fs.writeFileSync(stateFile(state.plan), JSON.stringify(state, null, 2));
  await waitForApiServer(state.plan, state.apiserver, state.etcd);
  return state.apiserver;
}

/** Start the lab's etcd again (after it died) on its data directory; the API server reconnects by itself. */
export async function restartEtcd(opts: { prefix?: string; stateRoot?: string; locked?: boolean }): Promise<number> {
  const state = readLabState(opts.prefix ?? 'pwlab', opts.stateRoot);
  if (!state?.etcd) throw new LabError('ERR_LAB_NOT_UP', `no lab "${opts.prefix ?? 'pwlab'}" with etcd is up`);
  if (!opts.locked) return withProcessLock(state.plan.stateDir, () => restartEtcd({ ...opts, locked: true }));
  const old = state.etcd;
  if (processAlive(old)) {
    process.kill(old, 'SIGTERM');
    await waitFor(`old etcd ${old} to exit`, 10_000, () => !processAlive(old));
  }
  state.etcd = startEtcd(state.plan);
  fs.writeFileSync(stateFile(state.plan), JSON.stringify(state, null, 2));
  const etcd = state.etcd;
  await waitFor('etcd to answer', 30_000, async () => {
    if (!processAlive(etcd))
      throw new LabError(
        'ERR_START_FAILED',
        `etcd exited:\n${tail(path.join(state.plan.controlPlane.stateDir, 'etcd.log'))}`,
      );
    const r = await execaRunner()
      .run(withNetns(state.plan.controlPlane.ns, ['curl', '-fsS', '--max-time', '2', 'http://127.0.0.1:2379/health']), {
        allowFailure: true,
      })
      .catch(() => null);
    return r?.exitCode === 0;
  });
  return etcd;
}

function startAgent(plan: LabPlan, node: LabNode, withApi: boolean, opts: { takeover?: boolean } = {}): number {
  // nsenter enters only the node's network namespace. (`ip netns exec` would
  // also give the agent a private mount namespace, and the pod namespaces it
  // creates with `ip netns add` would then be invisible to everyone else.)
  const argv = withNetns(node.ns, [
    process.execPath,
    ...agentNodeArgs(),
    CLI_ENTRY,
    'agent',
    '--node',
    node.name,
    '--prefix',
    plan.prefix,
    '--state-dir',
    node.stateDir,
    ...(opts.takeover ? ['--takeover'] : []),
    // the node's resolver: the outside's DNS (labs made before there was one: the agent's default)
    ...(plan.resolvConf ? ['--resolv-conf', plan.resolvConf] : []),
    ...(withApi
      ? // HTTPS to the API server as system:node:<name> (Node authorizer, RBAC, NodeRestriction, as a
        // kubelet); the lab CA, which pods get with their ServiceAccount token
        [
          '--kubeconfig',
          ensureNodeKubeconfig(plan, node.name),
          '--cluster-ca-file',
          labPki(plan).ca.certFile,
          ...agentKubeletTlsArgs(plan, node.name),
        ]
      : ['--pod-cidr', node.podCidr, '--peers', plan.peersFile]),
  ]);
  try {
    return startDaemon(argv, { logFile: path.join(node.stateDir, 'agent.log') });
  } catch (cause) {
    throw new LabError('ERR_START_FAILED', `could not start the agent for ${node.name}`, { cause });
  }
}

/**
 * Stop one node's agent (SIGTERM, or SIGKILL with `crash`) and start a new
 * one. Pods keep running meanwhile (their namespaces are not the agent's
 * process), and the new agent adopts them.
 */
export async function restartAgent(opts: {
  prefix?: string;
  stateRoot?: string;
  node: string;
  crash?: boolean;
  /** the caller holds the lab's process lock (the supervisor, a fault) */
  locked?: boolean;
}): Promise<number> {
  const state = readLabState(opts.prefix ?? 'pwlab', opts.stateRoot);
  if (!state) throw new LabError('ERR_LAB_NOT_UP', `no lab "${opts.prefix ?? 'pwlab'}" is up`);
  const node = state.plan.nodes.find((n) => n.name === opts.node);
  if (!node) throw new LabError('ERR_NO_SUCH_NODE', `no node "${opts.node}" in lab ${state.plan.prefix}`);
  // the supervisor must not start a second agent on this node meanwhile
  if (!opts.locked) return withProcessLock(state.plan.stateDir, () => restartAgent({ ...opts, locked: true }));
  const old = state.agents[node.name];
  const running = !!old && isOurAgent(old, state.plan.prefix);
  if (running && opts.crash) {
    process.kill(old, 'SIGKILL');
    await waitFor(`old agent ${old} to exit`, 10_000, () => !processAlive(old));
  }
  // A running agent is not stopped first: its successor takes the node over from it (src/agent/handover.ts),
  // so established flows see no gap; the old agent exits once it has let go.
  const takeover = running && !opts.crash;
  const pid = startAgent(state.plan, node, !!state.apiserver, { takeover });
  state.agents[node.name] = pid;
  fs.writeFileSync(stateFile(state.plan), JSON.stringify(state, null, 2));
  await waitFor(`agent ${node.name} to answer`, 30_000, async () => {
    if (!processAlive(pid))
      throw new LabError(
        'ERR_AGENT_EXITED',
        `agent on ${node.name} exited:\n${tail(path.join(node.stateDir, 'agent.log'))}`,
      );
    const r = await callAgent(agentSocketPath(node.stateDir), 'GET', '/status', undefined, 2000).catch(() => null);
    return (
      r?.status === 200 && r.body.pid === pid && (r.body.underlayNeighbors ?? []).length >= state.plan.nodes.length - 1
    );
  });
  if (takeover) await waitFor(`old agent ${old} to exit after the handover`, 10_000, () => !processAlive(old));
  return pid;
}

async function labHealthy(state: LabState): Promise<boolean> {
  if (state.apiserver && !isOurAgent(state.apiserver, state.plan.prefix, 'apiserver')) return false;
  if (state.outside && !isOurAgent(state.outside.www, state.plan.prefix, 'www')) return false;
  if (state.outside?.cloudLb && !isOurAgent(state.outside.cloudLb, state.plan.prefix, 'cloudlb')) return false;
  for (const node of state.plan.nodes) {
    const pid = state.agents[node.name];
    if (!pid || !isOurAgent(pid, state.plan.prefix)) return false;
    const r = await callAgent(agentSocketPath(node.stateDir), 'GET', '/status', undefined, 2000).catch(() => null);
    if (r?.status !== 200) return false;
  }
  return true;
}

/**
 * Remove everything the lab made: its agents (by recorded PID, checked to be
 * ours), every process still inside its namespaces (started by us: agents,
 * `podwire exec` commands), every namespace carrying its prefix (links go
 * with them), and its state directory. Safe after a crash and when nothing exists.
 */
export async function labDown(opts: {
  prefix?: string;
  stateRoot?: string;
  runner?: CommandRunner;
  log?: (m: string) => void;
}): Promise<{ namespaces: string[]; killed: number[] }> {
  const runner = opts.runner ?? execaRunner();
  const plan = planLab({ prefix: opts.prefix, nodes: 1, stateRoot: opts.stateRoot });
  const state = readLabState(plan.prefix, opts.stateRoot);
  const killed: number[] = [];
  // 0. The supervisor, before anything it would start again
  if (state?.supervisor && isOurAgent(state.supervisor, plan.prefix, 'supervise'))
    await stopAll(new Set([state.supervisor]), killed);
  // 1. The agents and the API server first, so nothing restarts a container
  //    while we stop them (a kubelet restarts what exits under restartPolicy Always).
  const owners = new Set<number>();
  for (const pid of Object.values(state?.agents ?? {})) if (isOurAgent(pid, plan.prefix)) owners.add(pid);
  if (state?.apiserver && isOurAgent(state.apiserver, plan.prefix, 'apiserver')) owners.add(state.apiserver);
  if (state?.outside && isOurAgent(state.outside.www, plan.prefix, 'www')) owners.add(state.outside.www);
  if (state?.outside?.cloudLb && isOurAgent(state.outside.cloudLb, plan.prefix, 'cloudlb'))
    owners.add(state.outside.cloudLb);
  await stopAll(owners, killed);
  // 2. Everything still inside the lab's namespaces (containers, `podwire exec` commands, etcd);
  //    twice, for anything that was starting while we looked.
  const namespaces = await listNetns(runner, plan.prefix);
  for (let sweep = 0; sweep < 2; sweep++) {
    const pids = new Set<number>();
    for (const ns of await listNetns(runner, plan.prefix)) for (const pid of await netnsPids(runner, ns)) pids.add(pid);
    if (!pids.size) break;
    await stopAll(pids, killed);
  }
  // 3. Anything of the lab's that is in no namespace of it any more (a container process still
  //    exiting when its pod's namespace went): every process the lab starts names its state dir.
  const strays = processesNaming(`${plan.stateDir}/`);
  if (strays.size) await stopAll(strays, killed);
  await deleteNetnsWithPrefix(runner, plan.prefix);
  removeClientResolvConf(plan);
  fs.rmSync(plan.stateDir, { recursive: true, force: true });
  const left = await listNetns(runner, plan.prefix);
  if (left.length) throw new LabError('ERR_LAB_NOT_REMOVED', `lab down: namespaces still present: ${left.join(', ')}`);
  opts.log?.(`lab ${plan.prefix} down: removed ${namespaces.length} namespaces, stopped ${killed.length} processes`);
  return { namespaces, killed };
}

/** Running processes (not zombies) whose command line contains `text`. */
function processesNaming(text: string): Set<number> {
  const out = new Set<number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text)) out.add(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** SIGTERM each, SIGKILL what is left after 5 s (and wait for that, up to 2 s). */
async function stopAll(pids: Set<number>, killed: number[]): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false; // already gone
    }
  };
  for (const pid of pids) if (signal(pid, 'SIGTERM')) killed.push(pid);
  await waitFor('lab processes to exit', 5_000, async () => [...pids].every((p) => !processAlive(p))).catch(() => {
    for (const pid of pids) signal(pid, 'SIGKILL');
    return waitFor('killed lab processes to exit', 2_000, async () => [...pids].every((p) => !processAlive(p))).catch(
      () => undefined,
    );
  });
}

export interface NodeStatus {
  name: string;
  ip: string;
  podCidr: string;
  pid: number | null;
  agent: 'running' | 'down';
  pods: number;
  peersResolved: number;
  /** peers whose agent answers this node's health pings */
  peersUp: number;
}

export async function labStatus(opts: {
  prefix?: string;
  stateRoot?: string;
}): Promise<{ state: LabState | null; nodes: NodeStatus[]; outside: OutsideStatus | null }> {
  const state = readLabState(opts.prefix ?? 'pwlab', opts.stateRoot);
  if (!state) return { state: null, nodes: [], outside: null };
  const nodes: NodeStatus[] = [];
  for (const n of state.plan.nodes) {
    const pid = state.agents[n.name] ?? null;
    const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/status', undefined, 2000).catch(() => null);
    const pods = await callAgent(agentSocketPath(n.stateDir), 'GET', '/pods', undefined, 2000).catch(() => null);
    nodes.push({
      name: n.name,
      ip: n.ip,
      podCidr: n.podCidr,
      pid,
      agent: r?.status === 200 && pid !== null && isOurAgent(pid, state.plan.prefix) ? 'running' : 'down',
      pods: Array.isArray(pods?.body) ? pods!.body.length : 0,
      peersResolved: r?.body?.underlayNeighbors?.length ?? 0,
      peersUp: (r?.body?.peers ?? []).filter((p: { health?: string }) => p.health === 'up').length,
    });
  }
  const outside =
    state.outside && state.plan.outside
      ? await outsideStatus(state.plan, state.outside, (pid, role) => isOurAgent(pid, state.plan.prefix, role))
      : null;
  return { state, nodes, outside };
}
