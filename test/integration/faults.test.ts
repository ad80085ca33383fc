import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startLab, stopLab, testPrefix, agentStatus, type TestLab } from './helpers.js';
import { trace } from '../../src/cli/trace.js';
import { breakLab, fixLab, brokenNow, waitFor } from '../../src/lab/index.js';

// `podwire lab break <scenario>` makes the fault, trace finds it, `lab fix` mends it.
const prefix = testPrefix('ft');
let lab: TestLab;

beforeAll(async () => {
  lab = await startLab(prefix, 2, [
    ['f1', 'node1'],
    ['f2', 'node2'],
  ]);
});
afterAll(async () => {
  if (lab) await stopLab(prefix);
});

const health = async (peer: string) =>
  (await agentStatus(lab, 'node1')).peers.find((p: any) => p.name === peer)?.health;

describe('lab break / lab fix', () => {
  it('route-removed: trace stops at the source pod; fixed, it is delivered again', async () => {
    await breakLab(lab.state, 'route-removed', 'f1');
    const broken = await trace(lab.state, 'f1', 'f2', {});
    expect(broken.result.verdict).toBe('LOST');
    expect(broken.result.summary).toMatch(/no route/);
    await expect(breakLab(lab.state, 'route-removed', 'f1')).rejects.toThrow(/already broken/);
    expect(await fixLab(lab.state)).toEqual([{ scenario: 'route-removed', target: 'f1' }]);
    expect((await trace(lab.state, 'f1', 'f2', {})).result.verdict).toBe('DELIVERED');
  });

  it('mtu-mismatch: mtu-exceeded at the agent; fixed, delivered', async () => {
    await breakLab(lab.state, 'mtu-mismatch', 'f1');
    expect((await trace(lab.state, 'f1', 'f2', {})).result).toMatchObject({
      verdict: 'DROPPED',
      reason: 'mtu-exceeded',
    });
    await fixLab(lab.state, 'mtu-mismatch');
    expect((await trace(lab.state, 'f1', 'f2', {})).result.verdict).toBe('DELIVERED');
  });

  it('agent-down: peer-unreachable at the sending agent; lab fix restarts the agent and traffic flows', async () => {
    const f2 = lab.pods.f2.ip;
    await breakLab(lab.state, 'agent-down', 'node2');
    await waitFor('node1 to mark node2 down', 10_000, async () => (await health('node2')) === 'down', 200);
    expect((await trace(lab.state, 'f1', f2, {})).result).toMatchObject({
      verdict: 'DROPPED',
      reason: 'peer-unreachable',
    });
    expect(brokenNow(lab.state)).toEqual([{ scenario: 'agent-down', target: 'node2' }]);
    await fixLab(lab.state);
    await waitFor('node1 to see node2 up', 10_000, async () => (await health('node2')) === 'up', 200);
    expect((await trace(lab.state, 'f1', 'f2', {})).result.verdict).toBe('DELIVERED');
    expect(await fixLab(lab.state)).toEqual([]);
  });
});
