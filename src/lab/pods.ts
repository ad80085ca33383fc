import { callAgent } from '../agent/control-server.js';
import { agentSocketPath } from '../agent/agent.js';
import type { PodRecord } from '../agent/pods.js';
import type { LabState } from './lab.js';

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
  if (!n) throw new Error(`no node "${node}" in lab ${state.plan.prefix} (nodes: ${state.plan.nodes.map((x) => x.name).join(', ')})`);
  if (await findPod(state, name)) throw new Error(`pod "${name}" already exists`);
  const r = await callAgent(agentSocketPath(n.stateDir), 'POST', '/pods', { name });
  if (r.status !== 201) throw new Error(r.body?.error ?? `agent answered ${r.status}`);
  return r.body as PodRecord;
}

export async function deletePod(state: LabState, name: string): Promise<PodRecord> {
  const pod = await findPod(state, name);
  if (!pod) throw new Error(`pod "${name}" not found`);
  const n = state.plan.nodes.find((x) => x.name === pod.node)!;
  const r = await callAgent(agentSocketPath(n.stateDir), 'DELETE', `/pods/${encodeURIComponent(name)}`);
  if (r.status !== 200) throw new Error(r.body?.error ?? `agent answered ${r.status}`);
  return r.body as PodRecord;
}
