import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { execa, requireRoot, testPrefix } from './helpers.js';
import { deleteNetnsWithPrefix, execaRunner, listNetns } from '../../src/host/index.js';
import { WORKLOAD_BIN } from '../../src/kubelet/tools.js';
import { buildProbe, timeChange } from '../../src/bench/netpol-change.js';

// bench netpol's change timing (netpol-probe.c through timeChange) on a
// real change: two namespaces on a veth pair, an HTTP server in one, and a
// blackhole route to the client in the server's namespace as the "policy"
// (its SYN-ACKs vanish: a silent drop, as a policy's). The times must fall
// after the change was made and the state before must be checked.

const prefix = testPrefix('npp');
const a = `${prefix}-a`;
const b = `${prefix}-b`;
const ip = (...argv: string[]) => execa('ip', argv);
let dir = '';
let bin = '';
let server: ChildProcess | undefined;
const target = [{ ip: '10.9.0.2', port: 8080, node: 'b' }];
const blackhole = (verb: 'add' | 'del') => ip('-n', b, 'route', verb, 'blackhole', '10.9.0.1/32');

describe('bench netpol: a change timed on the wire', () => {
  beforeAll(async () => {
    requireRoot();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwnpp-'));
    bin = await buildProbe(dir);
    await ip('netns', 'add', a);
    await ip('netns', 'add', b);
    await ip('-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b);
    await ip('-n', a, 'addr', 'add', '10.9.0.1/24', 'dev', 'va');
    await ip('-n', b, 'addr', 'add', '10.9.0.2/24', 'dev', 'vb');
    for (const [ns, dev] of [
      [a, 'va'],
      [b, 'vb'],
      [a, 'lo'],
      [b, 'lo'],
    ])
      await ip('-n', ns, 'link', 'set', dev, 'up');
    server = spawn('ip', ['netns', 'exec', b, WORKLOAD_BIN, 'http', '--ports', '8080', '--server', 'nginx'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (
      (await execa('ip', ['netns', 'exec', a, 'bash', '-c', 'exec 3<>/dev/tcp/10.9.0.2/8080'], { reject: false }))
        .exitCode !== 0
    ) {
      if (Date.now() > deadline) throw new Error('the server does not answer');
      await new Promise((res) => setTimeout(res, 50));
    }
  }, 60_000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await deleteNetnsWithPrefix(execaRunner(), prefix);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    expect(await listNetns(execaRunner(), prefix)).toEqual([]);
  });

  it('reports when connections start being dropped, and when they pass again, after each change', async () => {
    let madeAt = 0;
    const blocked = await timeChange(bin, a, target, 'blocked', async () => {
      madeAt = Date.now();
      await blackhole('add');
    });
    expect(blocked.perTargetMs).toHaveLength(1);
    expect(blocked.t0 + blocked.ms).toBeGreaterThanOrEqual(madeAt); // the first dropped connection started after the route went in
    expect(blocked.ms).toBeLessThan(5000);
    expect(blocked.errors).toBe(0);
    expect(blocked.probes).toBeGreaterThan(5);

    const open = await timeChange(bin, a, target, 'open', () => blackhole('del'));
    expect(open.ms).toBeGreaterThan(0);
    expect(open.ms).toBeLessThan(5000);
    expect(open.errors).toBe(0);
  }, 60_000);

  it('refuses to time a change whose outcome already holds before it', async () => {
    let called = false;
    await expect(timeChange(bin, a, target, 'open', async () => void (called = true), 1500)).rejects.toThrow(
      /timeout before: 10\.9\.0\.2 is not blocked/,
    );
    expect(called).toBe(false);
  }, 30_000);
});
