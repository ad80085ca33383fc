import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  startLab,
  stopLab,
  testPrefix,
  inNs,
  agentStatus,
  STATE_ROOT,
  dropsDuring as dropsDuringIn,
  type TestLab,
} from './helpers.js';
import { trace } from '../../src/cli/trace.js';
import { deletePod, restartAgent, waitFor } from '../../src/lab/index.js';

// "Which layer broke?" For each fault that can be made today, `trace` must
// name the layer and the reason, and `observe` must show the drop.
const prefix = testPrefix('tr');
let lab: TestLab;

beforeAll(async () => {
  lab = await startLab(prefix, 2, [
    ['t1', 'node1'],
    ['t2', 'node2'],
    ['t3', 'node2'],
  ]);
});
afterAll(async () => {
  if (lab) await stopLab(prefix);
});

/** Run `fn` while observing DROPPED events; returns them. */
const dropsDuring = (fn: () => Promise<unknown>, node?: string) => dropsDuringIn(lab.state, fn, node);

describe('trace', () => {
  it('follows a probe across nodes layer by layer and sees it arrive', async () => {
    const { result, text } = await trace(lab.state, 't1', 't2:80', {});
    expect(result.verdict, text).toBe('DELIVERED');
    const stages = result.layers.map((l) => `${l.where}: ${l.what.split(':')[0]}`);
    expect(stages).toEqual([
      't1: route',
      't1: gateway ARP',
      'node1 agent: received',
      'node1 agent: route',
      'node1 agent: encap',
      'node2 agent: decap',
      'node2 agent: deliver',
      't2: eth0',
    ]);
    expect(text).toContain('VNI 1');
    expect(text).toContain('the probe arrived (TTL 62)');
  });

  it('TTL running out: stopped at the first agent, ttl-expired', async () => {
    let r!: Awaited<ReturnType<typeof trace>>;
    const drops = await dropsDuring(async () => (r = await trace(lab.state, 't1', 't2', { ttl: 1 })));
    expect(r.result).toMatchObject({ verdict: 'DROPPED', reason: 'ttl-expired' });
    expect(r.result.summary).toContain("node1's agent");
    expect((await drops).some((e) => e.reason === 'ttl-expired' && e.node === 'node1')).toBe(true);
  });

  it('a pod MTU raised above the path: mtu-exceeded at the agent, and the pod is told (ICMP frag-needed, MTU 1450)', async () => {
    await inNs(lab.pods.t1.netns, ['ip', 'link', 'set', 'eth0', 'mtu', '1500']);
    try {
      let r!: Awaited<ReturnType<typeof trace>>;
      const drops = await dropsDuring(async () => (r = await trace(lab.state, 't1', 't2:80', {})));
      expect(r.result).toMatchObject({ verdict: 'DROPPED', reason: 'mtu-exceeded' });
      expect(r.text).toContain("this pod's MTU 1500 is above the path MTU 1450");
      expect((await drops).some((e) => e.reason === 'mtu-exceeded')).toBe(true);
      const ping = await inNs(lab.pods.t1.netns, [
        'ping',
        '-c',
        '1',
        '-M',
        'do',
        '-s',
        '1472',
        '-W',
        '1',
        lab.pods.t2.ip,
      ]);
      expect(String(ping.stdout)).toMatch(/From 10\.244\.1\.1 .*Frag needed and DF set \(mtu = 1450\)/);
    } finally {
      await inNs(lab.pods.t1.netns, ['ip', 'link', 'set', 'eth0', 'mtu', '1450']);
    }
  });

  it('destination pod deleted: stopped at the destination node’s agent, arp-unresolved', async () => {
    const gone = lab.pods.t3.ip;
    await deletePod(lab.state, 't3');
    let r!: Awaited<ReturnType<typeof trace>>;
    const drops = await dropsDuring(async () => (r = await trace(lab.state, 't1', gone, {})));
    expect(r.result).toMatchObject({ verdict: 'DROPPED', reason: 'arp-unresolved' });
    expect(r.result.summary).toContain("node2's agent");
    expect((await drops).some((e) => e.reason === 'arp-unresolved' && e.node === 'node2' && e.dst === gone)).toBe(true);
  });

  it('a node’s agent stopped: peers notice within seconds, trace names peer-unreachable, and it recovers on restart', async () => {
    const pid = lab.state.agents.node2;
    process.kill(pid, 'SIGTERM');
    await waitFor(
      'node1 to mark node2 down',
      10_000,
      async () => (await agentStatus(lab, 'node1')).peers.find((p: any) => p.name === 'node2')?.health === 'down',
      200,
    );
    let r!: Awaited<ReturnType<typeof trace>>;
    const drops = await dropsDuring(async () => (r = await trace(lab.state, 't1', lab.pods.t2.ip, {})), 'node1');
    expect(r.result).toMatchObject({ verdict: 'DROPPED', reason: 'peer-unreachable' });
    expect(r.result.summary).toContain("node1's agent");
    expect((await drops).some((e) => e.reason === 'peer-unreachable')).toBe(true);
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node2' });
    await waitFor(
      'node1 to see node2 up again',
      10_000,
      async () => (await agentStatus(lab, 'node1')).peers.find((p: any) => p.name === 'node2')?.health === 'up',
      200,
    );
    const again = await trace(lab.state, 't1', 't2', {});
    expect(again.result.verdict, again.text).toBe('DELIVERED');
  });

  it('traceroute from a pod shows the gateway of each node, then the pod', async () => {
    const r = await inNs(lab.pods.t1.netns, ['traceroute', '-n', '-q', '1', '-w', '2', lab.pods.t2.ip]);
    const hops = [...String(r.stdout).matchAll(/^\s*\d+\s+(\S+)/gm)].map((m) => m[1]);
    expect(hops).toEqual(['10.244.1.1', '10.244.2.1', lab.pods.t2.ip]);
  });
});
