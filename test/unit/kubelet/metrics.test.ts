import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseStat, readProcTable, treeUsage, StatsSampler } from '../../../src/kubelet/metrics-stats.js';
import { cpuQuantity, memoryQuantity, nodeMetrics, podMetrics } from '../../../src/control/metrics/api.js';

describe('what the agent measures (/proc)', () => {
  it('reads a stat line whose command holds spaces and parentheses', () => {
    const line =
      '4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 500 0 0 0 120 30 7 3 20 0 1 0 999 123456 321 18446744073709551615';
    expect(parseStat(line)).toEqual({ ppid: 17, ticks: 160, rssPages: 321 });
  });

  it('sums a process tree: a busy child counts for its parent container', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwstat-'));
    const proc = path.join(dir, 'proc');
    const write = (pid: number, ppid: number, utime: number, rss: number) => {
      fs.mkdirSync(path.join(proc, String(pid)), { recursive: true });
      fs.writeFileSync(
        path.join(proc, String(pid), 'stat'),
        `${pid} (x) S ${ppid} 0 0 0 -1 0 0 0 0 0 ${utime} 0 0 0 20 0 1 0 1 0 ${rss} 0`,
      );
    };
    write(10, 1, 100, 10); // the container's process
    write(11, 10, 50, 5); // its child
    write(12, 11, 25, 1); // grandchild
    write(20, 1, 999, 99); // someone else
    const t = readProcTable(proc);
    expect(treeUsage(10, t)).toEqual({ ticks: 175, rssBytes: 16 * 4096 });
    expect(treeUsage(99, t)).toBeNull();
    // a console container's process is its holder: only what it runs is the container's
    expect(treeUsage(10, t, true)).toEqual({ ticks: 75, rssBytes: 6 * 4096 });
    // rates between two samples: 50 ticks (0.5 s of CPU) over 1 s = 500m
    let now = 1_000_000;
    const s = new StatsSampler({
      node: 'node1',
      proc,
      now: () => now,
      gapMs: 1,
      containers: () => [{ namespace: 'default', pod: 'web', podUid: 'u1', container: 'c', pid: 10 }],
    });
    await s.summary();
    write(11, 10, 100, 5);
    now += 1000;
    const sum = (await s.summary()) as any;
    expect(sum.node).toMatchObject({ nodeName: 'node1', cpu: { usageNanoCores: 500_000_000 } });
    expect(sum.pods).toEqual([
      {
        podRef: { name: 'web', namespace: 'default', uid: 'u1' },
        containers: [
          {
            name: 'c',
            cpu: { time: '1970-01-01T00:16:41Z', usageNanoCores: 500_000_000, usageCoreNanoSeconds: 2_250_000_000 },
            memory: { time: '1970-01-01T00:16:41Z', workingSetBytes: 16 * 4096, rssBytes: 16 * 4096 },
          },
        ],
      },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('this machine: a busy child process shows CPU', async () => {
    const child = spawn(process.execPath, ['-e', 'for(;;){}']);
    try {
      const s = new StatsSampler({
        node: 'n',
        gapMs: 400,
        containers: () => [{ namespace: 'd', pod: 'p', podUid: 'u', container: 'c', pid: child.pid! }],
      });
      const sum = (await s.summary()) as any;
      expect(sum.pods[0].containers[0].cpu.usageNanoCores).toBeGreaterThan(50_000_000); // a core spinning; the machine is shared, so well under 1000m;
      expect(sum.pods[0].containers[0].memory.rssBytes).toBeGreaterThan(1 << 20);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('metrics.k8s.io objects', () => {
  const summary = {
    windowSeconds: 1.5,
    node: { nodeName: 'node1', cpu: { time: 'T', usageNanoCores: 29_000_000 }, memory: { workingSetBytes: 180 << 20 } },
    pods: [
      {
        podRef: { name: 'web', namespace: 'default', uid: 'u1' },
        containers: [
          { name: 'c', cpu: { time: 'T', usageNanoCores: 1234567 }, memory: { workingSetBytes: 10_240_000 } },
        ],
      },
    ],
  };
  const pod = (name: string, uid: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid, labels: { app: 'web' } },
    spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'x' }] },
  });
  it('quantities as metrics-server writes them', () => {
    expect([cpuQuantity(1234567.4), memoryQuantity(10_240_000)]).toEqual(['1234567n', '10000Ki']);
  });
  it('PodMetrics for pods measured, none for the others', () => {
    const items = podMetrics([pod('web', 'u1'), pod('gone', 'u2')] as any, new Map([['node1', summary]]));
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
      timestamp: 'T',
      window: '1.5s',
      containers: [{ name: 'c', usage: { cpu: '1234567n', memory: '10000Ki' } }],
    });
    const nodes = nodeMetrics(
      [{ metadata: { name: 'node1' } }, { metadata: { name: 'node2' } }] as any,
      new Map([['node1', summary]]),
    );
    expect(nodes.map((n: any) => [n.metadata.name, n.usage])).toEqual([
      ['node1', { cpu: '29000000n', memory: '184320Ki' }],
    ]);
  });
});
