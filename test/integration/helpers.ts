import fs from 'node:fs';
import { execa, type ResultPromise } from 'execa';
export { execa };
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labUp, labDown, addPod, waitFor, observe, type LabState } from '../../src/lab/index.js';
import type { FlowEvent } from '../../src/observe/index.js';
import { listNetns, execaRunner } from '../../src/host/index.js';
import { callAgent } from '../../src/agent/control-server.js';
import { agentSocketPath } from '../../src/agent/agent.js';
import type { PodRecord } from '../../src/agent/pods.js';
import { applyDemo } from '../../src/lab/demo.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const STATE_ROOT = '/run/podwire-test';

/** Integration tests need root and the tools; under CI a missing one fails loudly, never skips. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('integration tests need root (network namespaces, packet sockets)');
}

/** A unique prefix per test file, so parallel files never collide and cleanup finds exactly its own. */
export function testPrefix(tag: string): string {
  return `pwt${tag}${randomBytes(2).toString('hex')}`;
}

export interface TestLab {
  state: LabState;
  prefix: string;
  pods: Record<string, PodRecord>;
}

export async function startLab(prefix: string, nodes: number, pods: [string, string][]): Promise<TestLab> {
  requireRoot();
  const state = await labUp({ prefix, nodes, stateRoot: STATE_ROOT });
  const out: Record<string, PodRecord> = {};
  for (const [name, node] of pods) out[name] = await addPod(state, node, name);
  return { state, prefix, pods: out };
}

export async function stopLab(prefix: string): Promise<void> {
  await labDown({ prefix, stateRoot: STATE_ROOT });
  const left = await listNetns(execaRunner(), prefix);
  if (left.length) throw new Error(`namespaces left behind: ${left.join(', ')}`);
  const procs = labProcesses(prefix);
  if (procs.length) throw new Error(`processes left behind: ${procs.join('; ')}`);
}

/** Processes still running for a lab: agents, API server, containers (their command lines name the lab's state dir or prefix). */
export function labProcesses(prefix: string): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (cmd.includes(`${STATE_ROOT}/${prefix}/`) || (cmd.includes(' agent ') && cmd.includes(` ${prefix} `)))
      out.push(`${pid} [${procFacts(pid)}] ${cmd.slice(0, 120)}`);
  }
  return out;
}

/** State, parent and network namespace of a process: what a leftover's report needs to say where it came from. */
function procFacts(pid: string): string {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string) => status.match(new RegExp(`^${k}:\\s*(.*)$`, 'm'))?.[1] ?? '?';
    let net = '?';
    try {
      net = fs.readlinkSync(`/proc/${pid}/ns/net`);
    } catch {}
    return `state ${field('State')}, ppid ${field('PPid')}, ${net}`;
  } catch {
    return 'gone';
  }
}

export function inNs(ns: string, argv: string[], opts: { timeoutMs?: number } = {}): ResultPromise {
  return execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, timeout: opts.timeoutMs ?? 60_000 });
}

/**
 * Start a long-running process in a namespace and wait until it prints
 * `readyLine`. Returned wrapped: execa's child is a thenable, and returning
 * it bare from an async function would wait for it to exit.
 */
export async function startInNs(ns: string, argv: string[], readyLine: string): Promise<{ child: ResultPromise }> {
  const child = execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, timeout: 90_000, buffer: true });
  let seen = '';
  child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
  await waitFor(`"${readyLine}" from ${argv.join(' ')}`, 15_000, () => seen.includes(readyLine));
  return { child };
}

export function lastJson(stdout: unknown): any {
  const lines = String(stdout)
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  if (!lines.length) throw new Error(`no JSON in output: ${String(stdout).slice(0, 500)}`);
  return JSON.parse(lines[lines.length - 1]);
}

export async function agentStatus(lab: TestLab, node: string): Promise<any> {
  const n = lab.state.plan.nodes.find((x) => x.name === node)!;
  const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/status');
  if (r.status !== 200) throw new Error(`agent ${node}: ${r.status}`);
  return r.body;
}

/** Transfer `bytes` over TCP from one pod to another; returns both sides' reports. */
export async function tcpTransfer(lab: TestLab, from: string, to: string, port: number, bytes: number) {
  const dst = lab.pods[to];
  const { child: sink } = await startInNs(
    dst.netns,
    [process.execPath, path.join(FIXTURES, 'tcp-sink.mjs'), String(port)],
    'listening',
  );
  const src = await inNs(lab.pods[from].netns, [
    process.execPath,
    path.join(FIXTURES, 'tcp-source.mjs'),
    dst.ip,
    String(port),
    String(bytes),
  ]);
  const sinkResult = await sink;
  return {
    sent: lastJson(src.stdout),
    received: lastJson(sinkResult.stdout),
    stderr: `${src.stderr}${sinkResult.stderr}`,
  };
}

/**
 * The drops every agent (or one node's) reports while `during` runs: observing starts before it and lasts
 * as long as it does (a trace can take seconds on a loaded machine), then a second more for the events to
 * arrive — a fixed window could close before the drop happens.
 */
export async function dropsDuring(
  state: LabState,
  during: () => Promise<unknown>,
  node?: string,
): Promise<FlowEvent[]> {
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const stop = new AbortController();
  const seen = observe(state, {
    verdict: 'DROPPED',
    node,
    signal: stop.signal,
    onReady: () => ready(),
    print: () => {},
  });
  await started;
  try {
    await during();
  } finally {
    setTimeout(() => stop.abort(), 1000);
  }
  return seen;
}

/**
 * A 2-node lab with its control plane and the demo app, for the web view's
 * tests: the API client on the root socket, the demo's client pod (node1)
 * and a backend pod on node2 — a cross-node flow to draw.
 */
export async function demoLabAcrossNodes(
  prefix: string,
): Promise<{ state: LabState; api: ApiClient; client: KubeObject; remote: KubeObject }> {
  requireRoot();
  const state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true });
  await applyDemo(state, () => {});
  const api = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  const pods = (await api.list('pods', { namespace: 'default' })).items;
  const client = pods.find((p) => p.metadata.name === 'client')!;
  const remote = pods.find((p) => p.metadata.labels?.tier === 'backend' && p.spec.nodeName === 'node2')!;
  if (client.spec.nodeName !== 'node1') throw new Error(`the demo's client is on ${client.spec.nodeName}, not node1`);
  if (!remote) throw new Error('no backend pod on node2');
  return { state, api, client, remote };
}
