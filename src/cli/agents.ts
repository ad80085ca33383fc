import { agentSocketPath, callAgent } from '../agent/index.js';
import type { LabNode, LabState } from '../lab/index.js';
import { CliError } from './verbs/deps.js';

/** One agent's answer, or why there is none. */
export type AgentAnswer<T> =
  { node: string; ok: true; body: T } | { node: string; ok: false; status?: number; error: string };

/** The lab's nodes, or the one `--node` names (an error naming the choices when there is no such node). */
export function selectNodes(state: LabState, node?: string): LabNode[] {
  const nodes = state.plan.nodes.filter((n) => !node || n.name === node);
  if (!nodes.length)
    throw new CliError(
      `no node "${node}" in lab ${state.plan.prefix} (nodes: ${state.plan.nodes.map((n) => n.name).join(', ')})`,
    );
  return nodes;
}

/** Ask every selected node's agent the same thing, in parallel; answers in node order. */
export function askAgents<T>(
  state: LabState,
  node: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<AgentAnswer<T>[]> {
  return Promise.all(
    selectNodes(state, node).map(async (n): Promise<AgentAnswer<T>> => {
      try {
        const r = await callAgent(agentSocketPath(n.stateDir), method, path, body, timeoutMs);
        if (r.status === 200) return { node: n.name, ok: true, body: r.body as T };
        return {
          node: n.name,
          ok: false,
          status: r.status,
          error: String(r.body?.error ?? `agent answered ${r.status}`),
        };
      } catch (err) {
        return { node: n.name, ok: false, error: `agent not answering (${(err as Error).message})` };
      }
    }),
  );
}
