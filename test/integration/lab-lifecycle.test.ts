import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import {
  labUp,
  labDown,
  readLabState,
  restartAgent,
  addPod,
  labPods,
  isOurAgent,
  waitFor,
} from '../../src/lab/index.js';
import { listNetns, execaRunner } from '../../src/host/index.js';
import { STATE_ROOT, testPrefix, requireRoot, inNs, execa } from './helpers.js';

const prefix = testPrefix('lc');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(async () => {
  await labDown({ prefix, stateRoot: STATE_ROOT });
});

describe('lab lifecycle', () => {
  it('lab up twice leaves the running lab as it is', async () => {
    requireRoot();
    const first = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT });
    const second = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT });
    expect(second.agents).toEqual(first.agents);
    expect(await listNetns(execaRunner(), prefix)).toEqual(
      expect.arrayContaining([`${prefix}-underlay`, `${prefix}-node1`, `${prefix}-node2`]),
    );
  });

  it('an agent restart (even kill -9) adopts running pods and never reuses a live pod IP', async () => {
    const state = readLabState(prefix, STATE_ROOT)!;
    const p1 = await addPod(state, 'node1', 'keep-1');
    const p2 = await addPod(state, 'node2', 'keep-2');
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node1', crash: true });
    const after = readLabState(prefix, STATE_ROOT)!;
    const pods = await labPods(after);
    expect(pods.filter((p) => p.name === 'keep-1')).toHaveLength(1);
    const p3 = await addPod(after, 'node1', 'new-1');
    expect(p3.ip).not.toBe(p1.ip);
    const ping = await inNs(p2.netns, ['ping', '-c', '2', '-i', '0.2', '-W', '2', p1.ip]);
    expect(ping.exitCode, String(ping.stdout)).toBe(0);
  });

  it('a TCP transfer survives its node’s agent being killed -9 and restarted mid-stream (TCP retransmits across the gap)', async () => {
    const state = readLabState(prefix, STATE_ROOT)!;
    const pods = await labPods(state);
    const src = pods.find((p) => p.name === 'new-1')!;
    const dst = pods.find((p) => p.name === 'keep-2')!;
    const { startInNs, FIXTURES, lastJson } = await import('./helpers.js');
    const path = await import('node:path');
    const { child: sink } = await startInNs(
      dst.netns,
      [process.execPath, path.join(FIXTURES, 'tcp-sink.mjs'), '7701'],
      'listening',
    );
    // a paced sender: 8 MB over about 2 s, so the restart lands mid-stream
    const sender = execa(
      'ip',
      [
        'netns',
        'exec',
        src.netns,
        process.execPath,
        '-e',
        `
      const net = require('node:net'), crypto = require('node:crypto');
      const data = crypto.randomBytes(8 << 20), sha = crypto.createHash('sha256').update(data).digest('hex');
      const s = net.connect({ host: '${dst.ip}', port: 7701 }, () => {
        let off = 0;
        const t = setInterval(() => { s.write(data.subarray(off, off + (64 << 10))); off += 64 << 10; if (off >= data.length) { clearInterval(t); s.end(); } }, 15);
      });
      s.on('close', () => console.log(JSON.stringify({ sha })));
    `,
      ],
      { reject: false, timeout: 60_000 },
    );
    // the stream is under way once node1's agent has sent ~1 MB of it over VXLAN
    const { callAgent } = await import('../../src/agent/control-server.js');
    const { agentSocketPath } = await import('../../src/agent/agent.js');
    const n1 = state.plan.nodes[0];
    const sentSoFar = async () =>
      (await callAgent(agentSocketPath(n1.stateDir), 'GET', '/status')).body.counters.vxlanTxBytes as number;
    const start = await sentSoFar();
    await waitFor('the transfer to be under way', 20_000, async () => (await sentSoFar()) - start > 1_000_000, 20);
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node1', crash: true });
    const sent = lastJson((await sender).stdout);
    const got = lastJson((await sink).stdout);
    expect(got.bytes).toBe(8 << 20);
    expect(got.sha256).toBe(sent.sha);
  });

  it('lab down after a crash removes every namespace, process and file', async () => {
    const state = readLabState(prefix, STATE_ROOT)!;
    const pods = await labPods(state);
    // a process a learner left running inside a pod
    const stray = execa('ip', ['netns', 'exec', pods[0].netns, 'sleep', '300'], { reject: false });
    for (const pid of Object.values(state.agents)) process.kill(pid, 'SIGKILL');
    const agents = Object.values(state.agents);
    await labDown({ prefix, stateRoot: STATE_ROOT });
    await stray;
    expect(await listNetns(execaRunner(), prefix)).toEqual([]);
    for (const pid of agents) expect(alive(pid) && isOurAgent(pid, prefix)).toBe(false);
    expect(stray.pid && alive(stray.pid)).toBeFalsy();
    expect(fs.existsSync(state.plan.stateDir)).toBe(false);
    // and once more when nothing is left: no error
    await expect(labDown({ prefix, stateRoot: STATE_ROOT })).resolves.toBeTruthy();
  });
});
