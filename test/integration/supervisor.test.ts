import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  labUp,
  readLabState,
  isOurAgent,
  waitFor,
  breakLab,
  fixLab,
  readSupervisorStatus,
  type LabState,
} from '../../src/lab/index.js';
import { processRunning } from '../../src/host/index.js';
import { ApiClient } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, execa } from './helpers.js';
import { CLI_ENTRY } from '../../src/lab/lab.js';

// The netns lab's supervisor, as `podwire lab up` starts it: an agent killed
// with kill -9 outside the lab's commands comes back by itself (an Event on
// its Node says so), a crash loop is slowed by back-off, a node held down by
// `lab break agent-down` stays down until `lab fix`, and a dead etcd is
// started again with the API server answering after it.
const prefix = testPrefix('sup');
let state: LabState;
let client: ApiClient;
const now = () => readLabState(prefix, STATE_ROOT)!;

beforeAll(async () => {
  requireRoot();
  state = await labUp({
    prefix,
    nodes: 2,
    stateRoot: STATE_ROOT,
    controlPlane: true,
    store: 'etcd',
    supervise: true,
  });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
}, 180_000);

afterAll(async () => {
  client?.close();
  if (state) await stopLab(prefix);
});

/** Kill -9 node's agent and wait until the supervisor has started another; returns the new PID and how long it took. */
async function killAndWait(node: string): Promise<{ pid: number; ms: number }> {
  const old = now().agents[node];
  expect(isOurAgent(old, prefix)).toBe(true);
  const t0 = Date.now();
  process.kill(old, 'SIGKILL');
  let pid = 0;
  await waitFor(`the supervisor to start ${node}'s agent again`, 60_000, () => {
    pid = now().agents[node];
    return pid !== old && isOurAgent(pid, prefix);
  });
  return { pid, ms: Date.now() - t0 };
}

describe('the lab supervisor', () => {
  it('an agent killed -9 comes back by itself, with an Event on its Node; killed again at once, after back-off', async () => {
    const first = await killAndWait('node2');
    expect(first.ms).toBeLessThan(20_000);
    await waitFor('the NodeAgentRestarted event', 10_000, async () =>
      (await client.list('events', { namespace: 'default' })).items.some(
        (e) => e.reason === 'NodeAgentRestarted' && e.involvedObject?.name === 'node2',
      ),
    );
    // the new agent answers and the node stays Ready
    await waitFor('node2 Ready', 30_000, async () =>
      ((await client.get('nodes', undefined, 'node2')).status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
      ),
    );
    // a second death right after the first restart: restart 2 in a row waits 1 s of back-off
    const second = await killAndWait('node2');
    expect(second.ms).toBeGreaterThanOrEqual(1_000);
    // (the supervisor records a restart once the new agent answers)
    await waitFor('the supervisor to record the second restart', 30_000, () => {
      const c = readSupervisorStatus(now())?.components['agent/node2'];
      return c?.restarts === 2 && c.failures === 2;
    });
    const status = await execa(process.execPath, [CLI_ENTRY, '--lab', prefix, 'lab', 'status'], {
      env: { ...process.env, PODWIRE_STATE_ROOT: STATE_ROOT },
      reject: false,
    });
    expect(status.stdout).toMatch(/supervisor: running \(pid \d+\); restarted: agent\/node2 ×2/);
    expect(status.stdout).toMatch(/etcd: running \(pid \d+\)/);
  });

  it('lab break agent-down holds the node down: the supervisor leaves it until lab fix', async () => {
    const before = now().agents.node1;
    await breakLab(now(), 'agent-down', 'node1');
    await new Promise((r) => setTimeout(r, 4_000)); // four looks of the supervisor
    expect(isOurAgent(now().agents.node1, prefix)).toBe(false);
    expect(now().agents.node1).toBe(before);
    await fixLab(now(), 'agent-down', 'node1');
    expect(isOurAgent(now().agents.node1, prefix)).toBe(true);
  });

  it('etcd killed -9: started again on its data, and the API server answers with the objects kept', async () => {
    const nodes = (await client.list('nodes')).items.map((n) => n.metadata.name).sort();
    const old = now().etcd!;
    process.kill(old, 'SIGKILL');
    await waitFor('etcd started again', 60_000, () => {
      const pid = now().etcd!;
      return pid !== old && processRunning(pid);
    });
    await waitFor('the API server to answer from etcd again', 30_000, async () => {
      const r = await client.list('nodes').catch(() => null);
      return JSON.stringify(r?.items.map((n) => n.metadata.name).sort()) === JSON.stringify(nodes);
    });
    await waitFor(
      'the supervisor to record the etcd restart',
      30_000,
      () => readSupervisorStatus(now())?.components.etcd?.restarts === 1,
    );
  });
});
