import { callAgent, agentSocketPath } from '../agent/index.js';
import type { PodRecord } from '../agent/index.js';
import type { LabState } from './lab.js';
import { LabError } from './errors.js';

/** Pods of a lab, asked of each node's agent (until the apiserver holds them). */
export async function labPods(state: LabState): Promise<(PodRecord & { node: string })[]> {
  const out: (PodRecord & { node: string })[] = [];
  for (const n of state.plan.nodes) {
    const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/pods', undefined, 5000).catch(() => null);
    if (r?.status === 200) for (const p of r.body as PodRecord[]) out.push({ ...p, node: n.name });
  }
  return out;
}

export async function findPod(state: LabState, name: string): Promise<(PodRecord & { node: string }) | undefined> {
  return (await labPods(state)).find((p) => p.name === name);
}

export async function addPod(state: LabState, node: string, name: string): Promise<PodRecord> {
  const n = state.plan.nodes.find((x) => x.name === node);
  if (!n)
    throw new LabError(
      'ERR_NO_SUCH_NODE',
      `no node "${node}" in lab ${state.plan.prefix} (nodes: ${state.plan.nodes.map((x) => x.name).join(', ')})`,
    );
  if (await findPod(state, name)) throw new LabError('ERR_POD_EXISTS', `pod "${name}" already exists`);
  const r = await callAgent(agentSocketPath(n.stateDir), 'POST', '/pods', { name });
  if (r.status !== 201) throw new LabError('ERR_AGENT_REFUSED', r.body?.error ?? `agent answered ${r.status}`);
  return r.body as PodRecord;
}

export async function deletePod(state: LabState, name: string): Promise<PodRecord> {
  const pod = await findPod(state, name);
  if (!pod) throw new LabError('ERR_NO_SUCH_POD', `pod "${name}" not found`);
  const n = state.plan.nodes.find((x) => x.name === pod.node)!;
  const r = await callAgent(agentSocketPath(n.stateDir), 'DELETE', `/pods/${encodeURIComponent(name)}`);
  if (r.status !== 200) throw new LabError('ERR_AGENT_REFUSED', r.body?.error ?? `agent answered ${r.status}`);
  return r.body as PodRecord;
}

/**
 * What `podwire exec` enters. A pod from the API server: one of its
 * containers — the process its agent reports (named with -c, else the
 * default container, else the first running one) — whose mount, UTS and
 * network namespaces the command joins, with the container's environment,
 * as `kubectl exec` enters a container. A bare pod (`podwire pod add`,
 * no containers): its network namespace only.
 */
export type ExecEntry =
  { kind: 'container'; container: string; pid: number; env: Record<string, string> } | { kind: 'netns'; netns: string };

export async function podExecEntry(state: LabState, netns: string, container?: string): Promise<ExecEntry> {
  const pod = (await labPods(state)).find((p) => p.netns === netns);
  if (!pod)
    throw new LabError('ERR_NO_SUCH_POD', `no agent of lab ${state.plan.prefix} runs the pod of namespace ${netns}`);
  if (!pod.uid) {
    if (container)
      throw new LabError(
        'ERR_NO_CONTAINERS',
        `pod "${pod.name}" was made with \`podwire pod add\`: it has no containers`,
      );
    return { kind: 'netns', netns };
  }
  const n = state.plan.nodes.find((x) => x.name === pod.node)!;
  const q = container ? `?container=${encodeURIComponent(container)}` : '';
  const r = await callAgent(
    agentSocketPath(n.stateDir),
    'GET',
    `/pods/${encodeURIComponent(pod.name)}/exec${q}`,
    undefined,
    5000,
  );
  if (r.status !== 200)
    throw new LabError('ERR_AGENT_REFUSED', r.body?.error ?? `agent on ${pod.node} answered ${r.status}`);
  return { kind: 'container', ...(r.body as { container: string; pid: number; env: Record<string, string> }) };
}

/** The command line that runs argv in what podwire exec enters (pure). */
export function execCommand(entry: ExecEntry, podName: string, argv: string[]): string[] {
  if (entry.kind === 'container')
    return ['nsenter', '--target', String(entry.pid), '--mount', '--uts', '--net', '--', ...argv];
  // a bare pod: a UTS namespace of its own named after the pod, as before containers existed
  return [
    'ip',
    'netns',
    'exec',
    entry.netns,
    'unshare',
    '--uts',
    '--',
    'sh',
    '-c',
    'hostname "$0" 2>/dev/null; exec "$@"',
    podName,
    ...argv,
  ];
}
