import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startLab, stopLab, testPrefix, inNs, agentStatus, FIXTURES, execa, type TestLab } from './helpers.js';
import { captureDrops, observe } from '../../src/lab/index.js';

// `podwire capture --drops`: the agent's pipeline drops, as pcapng that
// tshark reads, each with its reason as the packet comment.
const prefix = testPrefix('cp');
let lab: TestLab;

beforeAll(async () => {
  lab = await startLab(prefix, 2, [
    ['c1', 'node1'],
    ['c2', 'node2'],
  ]);
});
afterAll(async () => {
  if (lab) await stopLab(prefix);
});

describe('capture of dropped packets', () => {
  it('writes pcapng with each drop’s reason as the packet comment, from pods and from the underlay', async () => {
    const file = path.join('/tmp', `${prefix}-drops.pcapng`);
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const done = captureDrops(lab.state, 'node1', file, { count: 3, durationS: 30, onReady: () => ready() });
    await started;
    await inNs(lab.pods.c1.netns, ['ping', '-c', '1', '-t', '1', '-W', '1', lab.pods.c2.ip]); // ttl-expired
    await inNs(lab.pods.c1.netns, ['ping', '-c', '1', '-W', '1', '10.250.0.9']); // no-route
    // a VXLAN frame with the wrong VNI from node2, sent through the underlay
    const n1 = await agentStatus(lab, 'node1');
    const spec = {
      ifname: 'eth0',
      dstMac: n1.nodeMac,
      srcMac: '02:00:00:00:00:02',
      srcIp: '172.28.0.12',
      dstIp: '172.28.0.11',
      count: 1,
      seed: 3,
      only: 11,
    };
    await inNs(`${prefix}-node2`, [process.execPath, path.join(FIXTURES, 'frame-fuzzer.mjs'), JSON.stringify(spec)]);
    expect(await done).toBe(3);
    const r = await execa('tshark', [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'frame.interface_name',
      '-e',
      'ip.dst',
      '-e',
      'vxlan.vni',
      '-e',
      'frame.comment',
    ]);
    fs.rmSync(file, { force: true });
    const rows = String(r.stdout)
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    expect(rows).toHaveLength(3);
    expect(rows[0][0]).toBe('node1/pipeline:from-pods');
    expect(rows[0][1]).toBe(lab.pods.c2.ip);
    expect(rows[0][3]).toMatch(/^podwire drop: ttl-expired/);
    expect(rows[1][1]).toBe('10.250.0.9');
    expect(rows[1][3]).toMatch(/^podwire drop: no-route/);
    expect(rows[2][0]).toBe('node1/pipeline:from-underlay');
    expect(rows[2][2]).toBe('7'); // tshark decodes the outer VXLAN header of the dropped frame
    expect(rows[2][3]).toMatch(/^podwire drop: vxlan-unknown-vni/);
  });
});

describe('observe: the flow log', () => {
  it('shows a cross-node TCP flow on both nodes, and a drop with its reason, filtered by pod and verdict', async () => {
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const lines: string[] = [];
    const events = observe(lab.state, { pod: 'c1', durationS: 8, onReady: () => ready(), print: (l) => lines.push(l) });
    await started;
    const { tcpTransfer } = await import('./helpers.js');
    const r = await tcpTransfer(lab, 'c1', 'c2', 7401, 2_000_000);
    expect(r.received.sha256).toBe(r.sent.sha256);
    await inNs(lab.pods.c1.netns, ['ping', '-c', '1', '-t', '1', '-W', '1', lab.pods.c2.ip]);
    const got = await events;
    const syns = got.filter((e) => e.tcpFlags === 'SYN' && e.dstPort === 7401);
    expect(syns.map((e) => e.node).sort()).toEqual(['node1', 'node2']); // seen leaving node1 and arriving on node2
    expect(syns.find((e) => e.node === 'node1')).toMatchObject({
      verdict: 'FORWARDED',
      to: 'vxlan',
      peerNode: 'node2',
      src: lab.pods.c1.ip,
    });
    expect(syns.find((e) => e.node === 'node2')).toMatchObject({ to: 'local-pod', from: 'from-underlay' });
    const bytes = got
      .filter((e) => e.src === lab.pods.c1.ip && e.dstPort === 7401 && e.node === 'node1')
      .reduce((n, e) => n + e.bytes, 0);
    expect(bytes).toBeGreaterThan(2_000_000); // payload plus headers, aggregated, not one line per packet
    expect(got.filter((e) => e.dstPort === 7401).length).toBeLessThan(40);
    expect(got.some((e) => e.verdict === 'DROPPED' && e.reason === 'ttl-expired' && e.dst === lab.pods.c2.ip)).toBe(
      true,
    );
    expect(
      lines.some((l) =>
        l.includes(`c1 (${lab.pods.c1.ip}) -> c2 (${lab.pods.c2.ip})  ICMP type 8  DROPPED (ttl-expired)`),
      ),
    ).toBe(true);
    expect(got.every((e) => e.src === lab.pods.c1.ip || e.dst === lab.pods.c1.ip)).toBe(true);
  });
});

describe('metrics', () => {
  const sample = (text: string, name: string, labels: Record<string, string>): number => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  it('serves Prometheus metrics on the node IP: per-peer VXLAN, per-pod bytes, drops by reason', async () => {
    const scrape = async () =>
      String((await inNs(`${prefix}-node1`, ['curl', '-sf', 'http://172.28.0.11:9101/metrics'])).stdout);
    const before = await scrape();
    const { tcpTransfer } = await import('./helpers.js');
    await tcpTransfer(lab, 'c1', 'c2', 7501, 1_000_000);
    await inNs(lab.pods.c1.netns, ['ping', '-c', '1', '-t', '1', '-W', '1', lab.pods.c2.ip]);
    const after = await scrape();
    const grew = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(grew('podwire_vxlan_packets_total', { peer: 'node2', direction: 'tx' })).toBeGreaterThan(1_000_000 / 1500);
    expect(grew('podwire_vxlan_bytes_total', { peer: 'node2', direction: 'tx' })).toBeGreaterThan(1_000_000);
    expect(grew('podwire_vxlan_packets_total', { peer: 'node2', direction: 'rx' })).toBeGreaterThan(0);
    expect(grew('podwire_pod_bytes_total', { pod: 'c1', direction: 'from_pod' })).toBeGreaterThan(1_000_000);
    expect(grew('podwire_drops_total', { reason: 'ttl-expired' })).toBe(1);
    expect(after).toMatch(/^podwire_internal_errors\{node="node1"\} 0$/m);
  });
});

describe('capture on interfaces', () => {
  it('captures the underlay filtered by an inner pod address (VXLAN decoded by tshark), and a pod’s eth0 as classic pcap', async () => {
    const { captureInNamespace } = await import('../../src/lab/index.js');
    const ul = path.join('/tmp', `${prefix}-ul.pcapng`);
    const pod = path.join('/tmp', `${prefix}-pod.pcap`);
    let n = 0;
    let ready!: () => void;
    const bothReady = new Promise<void>((r) => (ready = r));
    const onReady = () => ++n === 2 && ready();
    const a = captureInNamespace({
      ns: lab.state.plan.underlayNs,
      ifname: lab.state.plan.underlayBridge,
      label: 'underlay',
      format: 'pcapng',
      filter: { host: lab.pods.c2.ip, proto: 'icmp' },
      count: 4,
      durationS: 20,
      out: ul,
      promiscuous: true,
      onReady,
    });
    const b = captureInNamespace({
      ns: lab.pods.c2.netns,
      ifname: 'eth0',
      label: 'c2/eth0',
      format: 'pcap',
      filter: { proto: 'icmp' },
      count: 4,
      durationS: 20,
      out: pod,
      onReady,
    });
    // a capture that ends before it is ready says why, instead of leaving this wait hanging
    const early = (which: string) => (n: number) =>
      Promise.reject(new Error(`${which} capture ended (${n} packets) before it was ready`));
    await Promise.race([bothReady, a.then(early('underlay')), b.then(early('pod'))]);
    await inNs(lab.pods.c1.netns, ['ping', '-c', '2', '-i', '0.2', '-W', '2', lab.pods.c2.ip]);
    expect(await a).toBe(4);
    expect(await b).toBe(4);
    const u = await execa('tshark', [
      '-r',
      ul,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'vxlan.vni',
      '-e',
      'ip.src',
      '-e',
      'ip.dst',
      '-e',
      'icmp.type',
      '-e',
      'frame.interface_name',
    ]);
    const rows = String(u.stdout).trim().split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[0]).toBe(`1|172.28.0.11,${lab.pods.c1.ip}|172.28.0.12,${lab.pods.c2.ip}|8|underlay`);
    expect(rows[1]).toBe(`1|172.28.0.12,${lab.pods.c2.ip}|172.28.0.11,${lab.pods.c1.ip}|0|underlay`);
    const p = await execa('tshark', [
      '-r',
      pod,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'ip.src',
      '-e',
      'ip.dst',
      '-e',
      'icmp.type',
      '-e',
      'ip.ttl',
    ]);
    expect(String(p.stdout).trim().split('\n')[0]).toBe(`${lab.pods.c1.ip}|${lab.pods.c2.ip}|8|62`); // two routed hops: TTL 64 - 2
    fs.rmSync(ul, { force: true });
    fs.rmSync(pod, { force: true });
  });

  it('sees on a node’s eth0 the VXLAN the agent sends as well as what it receives (tcpdump -i eth0 works)', async () => {
    const { captureInNamespace } = await import('../../src/lab/index.js');
    const file = path.join('/tmp', `${prefix}-eth0.pcapng`);
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const n1 = lab.state.plan.nodes[0];
    const cap = captureInNamespace({
      ns: n1.ns,
      ifname: 'eth0',
      label: 'node1/eth0',
      format: 'pcapng',
      filter: { proto: 'vxlan', host: lab.pods.c2.ip },
      count: 4,
      durationS: 20,
      out: file,
      onReady: () => ready(),
    });
    await started;
    await inNs(lab.pods.c1.netns, ['ping', '-c', '2', '-i', '0.2', '-W', '2', lab.pods.c2.ip]);
    expect(await cap).toBe(4);
    const t = await execa('tshark', [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'frame.packet_flags_direction',
      '-e',
      'icmp.type',
    ]);
    fs.rmSync(file, { force: true });
    expect(String(t.stdout).trim().split('\n').sort()).toEqual([
      '0x00000001|0',
      '0x00000001|0',
      '0x00000002|8',
      '0x00000002|8',
    ]); // 2 = outbound echo requests, 1 = inbound replies
  });

  it('streams to stdout for tshark -i - (the real CLI)', async () => {
    const { CLI_ENTRY } = await import('../../src/lab/index.js');
    const cli = execa(
      process.execPath,
      [CLI_ENTRY, '--lab', prefix, 'capture', '--pod', 'c1', '--proto', 'icmp', '-c', '2', '-w', '-'],
      {
        env: { PODWIRE_STATE_ROOT: '/run/podwire-test' },
        reject: false,
        encoding: 'buffer',
      },
    );
    const { waitFor } = await import('../../src/lab/index.js');
    let got = 0;
    cli.stdout!.on('data', (d: Buffer) => (got += d.length));
    await waitFor('capture header', 10_000, () => got > 0);
    await inNs(lab.pods.c1.netns, ['ping', '-c', '1', '-W', '2', lab.pods.c2.ip]);
    const r = await cli;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const t = await execa('tshark', ['-i', '-', '-T', 'fields', '-e', 'icmp.type'], {
      input: r.stdout as unknown as Buffer,
    });
    expect(String(t.stdout).trim().split('\n')).toEqual(['8', '0']);
  });
});
