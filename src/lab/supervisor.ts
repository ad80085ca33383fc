import fs from 'node:fs';
import path from 'node:path';
import { processRunning } from '../host/index.js';
import { ApiClient, recordEvent } from '../control/client/index.js';
import { readLabState, isOurAgent, restartAgent, restartApiServer, restartEtcd, type LabState } from './lab.js';
import { decide, freshRecord, restarted, type ComponentRecord } from './supervisor-policy.js';
import { isHeld, tryLock, unlock } from './supervision.js';

/**
 * The netns lab's supervisor — what systemd (or compose's `restart:
 * unless-stopped`) is to a real node's kubelet and to the control plane: it
 * looks once a second at every agent, the API server and etcd, and starts
 * again what died (kill -9 included), with a growing delay when something
 * keeps dying (supervisor-policy.ts). Each restart of an agent is an Event
 * on its Node (Warning NodeAgentRestarted), so `kubectl describe node` and
 * `kubectl get events` say so, and `lab status` shows the counts
 * (supervisor.json). A node held down by `lab break agent-down` is left
 * alone until `lab fix`. Started by `podwire lab up` (`lab supervise`),
 * stopped first by `lab down`.
 */

export const SUPERVISE_INTERVAL_MS = 1_000;
const COMPONENT = 'podwire-supervisor';

export interface SupervisorStatus {
  pid: number;
  atMs: number;
  components: Record<string, ComponentRecord & { lastRestart?: string; lastError?: string }>;
}

export const supervisorStatusFile = (state: Pick<LabState, 'plan'>) =>
  path.join(state.plan.stateDir, 'supervisor.json');

export function readSupervisorStatus(state: Pick<LabState, 'plan'>): SupervisorStatus | null {
  try {
    return JSON.parse(fs.readFileSync(supervisorStatusFile(state), 'utf8')) as SupervisorStatus;
  } catch {
    return null;
  }
}

/** Run until `signal` aborts (SIGTERM in `lab supervise`). */
export async function superviseLab(o: {
  prefix: string;
  stateRoot?: string;
  log: (m: string) => void;
  signal: AbortSignal;
  intervalMs?: number;
}): Promise<void> {
  const status: SupervisorStatus = { pid: process.pid, atMs: Date.now(), components: {} };
  const rec = (name: string) => (status.components[name] ??= freshRecord());
  let client: ApiClient | null = null;
  o.log(`supervising lab ${o.prefix}`);
  while (!o.signal.aborted) {
    const state = readLabState(o.prefix, o.stateRoot);
    if (!state) break; // the lab is gone
    if (state.apiserver && !client) client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
    // under the lab's process lock: never beside `lab restart-agent`, `lab fix` or `lab down`
    if (tryLock(state.plan.stateDir)) {
      try {
        await lookOnce(state, rec, o.log, client);
      } finally {
        unlock(state.plan.stateDir);
      }
    }
    status.atMs = Date.now();
    fs.writeFileSync(`${supervisorStatusFile(state)}.tmp`, JSON.stringify(status));
    fs.renameSync(`${supervisorStatusFile(state)}.tmp`, supervisorStatusFile(state));
    await new Promise<void>((r) => {
      const t = setTimeout(r, o.intervalMs ?? SUPERVISE_INTERVAL_MS);
      o.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
    });
  }
  client?.close();
  o.log('supervisor stopped');
}

async function lookOnce(
  state: LabState,
  rec: (name: string) => ComponentRecord & { lastRestart?: string; lastError?: string },
  log: (m: string) => void,
  client: ApiClient | null,
): Promise<void> {
  const prefix = state.plan.prefix;
  const stateRoot = path.dirname(state.plan.stateDir);
  const now = Date.now();
  // etcd first, then the API server that needs it, then the agents that need both
  const parts: { name: string; alive: boolean; held: boolean; restart: () => Promise<number>; node?: string }[] = [];
  if (state.etcd)
    parts.push({
      name: 'etcd',
      alive: processRunning(state.etcd),
      held: false,
      restart: () => restartEtcd({ prefix, stateRoot, locked: true }),
    });
  if (state.apiserver)
    parts.push({
      name: 'apiserver',
      alive: isOurAgent(state.apiserver, prefix, 'apiserver'),
      held: false,
      restart: () => restartApiServer({ prefix, stateRoot, locked: true }),
    });
  for (const n of state.plan.nodes) {
    const pid = state.agents[n.name];
    parts.push({
      name: `agent/${n.name}`,
      node: n.name,
      alive: !!pid && isOurAgent(pid, prefix),
      held: isHeld(state.plan.stateDir, n.name),
      restart: () => restartAgent({ prefix, stateRoot, node: n.name, locked: true }),
    });
  }
  for (const p of parts) {
    const r = rec(p.name);
    const d = decide(r, now, p.alive, p.held);
    if (d.action !== 'restart') continue;
    const why = `${p.name} is not running${d.delayMs ? ` (restart ${d.failures + 1} in a row, after ${d.delayMs / 1000} s of back-off)` : ''}`;
    log(`${why}: starting it again`);
    try {
      const pid = await p.restart();
      restarted(r, Date.now(), d.failures);
      r.lastRestart = new Date().toISOString();
      r.lastError = undefined;
      log(`${p.name} running again (pid ${pid})`);
      if (p.node && client)
        recordEvent(
          client,
          { apiVersion: 'v1', kind: 'Node', metadata: { name: p.node } },
          'Warning',
          'NodeAgentRestarted',
          `the podwire agent on ${p.node} had stopped; the lab's supervisor started it again (restart ${r.restarts}${d.delayMs ? `, after ${d.delayMs / 1000} s of back-off` : ''})`,
          COMPONENT,
          log,
          Date.now(),
          p.node,
        );
    } catch (e) {
      // counted as a failed start: the next try waits longer
      restarted(r, Date.now(), d.failures);
      r.lastError = (e as Error).message.split('\n')[0];
      log(`${p.name}: could not start it again: ${(e as Error).message}`);
    }
  }
}

/** What `lab status` says of the supervisor: running or not, and what it restarted. */
export function supervisorStatusLines(state: LabState): string[] {
  if (!state.supervisor) return ['supervisor: none (lab up --no-supervisor): what dies stays down'];
  const up = isOurAgent(state.supervisor, state.plan.prefix, 'supervise');
  const st = readSupervisorStatus(state);
  const restarts = Object.entries(st?.components ?? {})
    .filter(([, r]) => r.restarts > 0)
    .map(
      ([name, r]) =>
        `${name} ×${r.restarts} (last ${r.lastRestart ?? '?'}${r.lastError ? `, failed: ${r.lastError}` : ''})`,
    );
  return [
    `supervisor: ${up ? `running (pid ${state.supervisor})` : 'down'}; restarted: ${restarts.length ? restarts.join(', ') : 'nothing'}`,
  ];
}
