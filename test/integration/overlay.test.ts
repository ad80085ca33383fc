import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import {
  startLab,
  stopLab,
  testPrefix,
  inNs,
  startInNs,
  lastJson,
  agentStatus,
  tcpTransfer,
  FIXTURES,
  type TestLab,
} from './helpers.js';

// A 2-node lab: a1, a2 on node1; b1 on node2. Real namespaces, real packets.
const prefix = testPrefix('ov');
let lab: TestLab;

beforeAll(async () => {
  lab = await startLab(prefix, 2, [
    ['a1', 'node1'],
    ['a2', 'node1'],
    ['b1', 'node2'],
  ]);
});
afterAll(async () => {
  if (lab) await stopLab(prefix);
});

describe('pods: addresses and plumbing', () => {
  it('gives each pod an IP from its node’s /24, MTU 1450 and a default route via the node gateway', async () => {
    expect(lab.pods.a1.ip).toMatch(/^10\.244\.1\.\d+$/);
    expect(lab.pods.b1.ip).toMatch(/^10\.244\.2\.\d+$/);
    const addr = await inNs(lab.pods.b1.netns, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
    const info = JSON.parse(String(addr.stdout))[0];
    expect(info.mtu).toBe(1450);
    expect(info.addr_info.find((a: any) => a.family === 'inet').local).toBe(lab.pods.b1.ip);
    const route = await inNs(lab.pods.b1.netns, ['ip', '-j', 'route', 'show', 'default']);
    expect(JSON.parse(String(route.stdout))[0].gateway).toBe('10.244.2.1');
  });

  it('keeps offloads on in pods, so partial checksums and GSO frames reach the agent and must be handled', async () => {
    const k = await inNs(lab.pods.a1.netns, ['ethtool', '-k', 'eth0']);
    expect(String(k.stdout)).toMatch(/tx-checksumming: on/);
    expect(String(k.stdout)).toMatch(/tcp-segmentation-offload: on/);
  });
});

describe('netfilter-free node', () => {
  it('turns off br_netfilter’s bridge hooks in the node, so no kernel hook drops a frame the agent should explain', async () => {
    const ns = `${prefix}-node1`;
    for (const name of ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables', 'bridge-nf-call-arptables']) {
      const r = await inNs(ns, ['cat', `/proc/sys/net/bridge/${name}`]);
      if (r.exitCode === 0) expect(String(r.stdout).trim(), name).toBe('0'); // absent file: no br_netfilter, nothing to turn off
    }
  });
});

describe('pod to pod', () => {
  it('pings on the same node (one routed hop through the agent) and across nodes (two)', async () => {
    const same = await inNs(lab.pods.a1.netns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', lab.pods.a2.ip]);
    expect(same.exitCode, String(same.stdout)).toBe(0);
    expect(String(same.stdout)).toMatch(/ttl=63/);
    const cross = await inNs(lab.pods.a1.netns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', lab.pods.b1.ip]);
    expect(cross.exitCode, String(cross.stdout)).toBe(0);
    expect(String(cross.stdout)).toMatch(/ttl=62/);
  });

  it('moves 10 MB over TCP on the same node intact, and the receiver sees the sender’s pod IP', async () => {
    const r = await tcpTransfer(lab, 'a1', 'a2', 7001, 10 * 1024 * 1024);
    expect(r.received.bytes).toBe(r.sent.bytes);
    expect(r.received.sha256).toBe(r.sent.sha256);
    expect(r.received.remoteAddress).toBe(lab.pods.a1.ip);
  });

  it('moves 10 MB over TCP across nodes intact (GSO split into VXLAN segments), no NAT', async () => {
    const before = (await agentStatus(lab, 'node1')).counters.segmented;
    const r = await tcpTransfer(lab, 'a1', 'b1', 7002, 10 * 1024 * 1024);
    expect(r.received.bytes).toBe(r.sent.bytes);
    expect(r.received.sha256).toBe(r.sent.sha256);
    expect(r.received.remoteAddress).toBe(lab.pods.a1.ip);
    const after = await agentStatus(lab, 'node1');
    expect(after.counters.segmented).toBeGreaterThan(before); // TSO super-frames were seen and split
    const back = await tcpTransfer(lab, 'b1', 'a1', 7003, 10 * 1024 * 1024);
    expect(back.received.sha256).toBe(back.sent.sha256);
    expect(back.received.remoteAddress).toBe(lab.pods.b1.ip);
  });

  it('carries UDP datagrams up to the pod MTU across nodes, from the real source IP', async () => {
    const { child: sink } = await startInNs(
      lab.pods.b1.netns,
      [process.execPath, path.join(FIXTURES, 'udp-sink.mjs'), '7100', '300'],
      'listening',
    );
    await inNs(lab.pods.a1.netns, [
      process.execPath,
      path.join(FIXTURES, 'udp-source.mjs'),
      lab.pods.b1.ip,
      '7100',
      '300',
      '1422',
    ]);
    const got = lastJson((await sink).stdout);
    expect(got.bad).toBe(0);
    expect(got.count).toBe(300);
    expect(got.sources).toEqual([lab.pods.a1.ip]);
  });
});

describe('router behaviour', () => {
  it('answers TTL expiry with ICMP time exceeded from the node gateway', async () => {
    const r = await inNs(lab.pods.a1.netns, ['ping', '-c', '1', '-t', '1', '-W', '2', lab.pods.b1.ip]);
    expect(String(r.stdout)).toMatch(/From 10\.244\.1\.1 .*Time to live exceeded/);
    const s = await agentStatus(lab, 'node1');
    expect(s.counters.drops['ttl-expired']).toBeGreaterThanOrEqual(1);
  });

  it('answers a destination outside every pod CIDR with ICMP net unreachable and counts no-route', async () => {
    const r = await inNs(lab.pods.a1.netns, ['ping', '-c', '1', '-W', '2', '10.250.0.9']);
    expect(String(r.stdout)).toMatch(/From 10\.244\.1\.1 .*Unreachable/i);
    expect((await agentStatus(lab, 'node1')).counters.drops['no-route']).toBeGreaterThanOrEqual(1);
  });
});

describe('the overlay on the wire', () => {
  it('is VXLAN per RFC 7348 as tshark decodes it: port 4789, VNI 1, inner pod IPs, per-flow source ports, no fragments, 1450-byte MTU', async () => {
    const pcap = path.join('/tmp', `${prefix}-underlay.pcap`);
    const ul = lab.state.plan.underlayNs;
    const cap = execa(
      'ip',
      ['netns', 'exec', ul, 'tshark', '-q', '-i', lab.state.plan.underlayBridge, '-f', 'udp', '-w', pcap],
      { reject: false, timeout: 60_000 },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        cap.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('Capturing on')) resolve();
        });
        setTimeout(() => reject(new Error(`tshark did not start: ${err}`)), 15_000);
      });
      // The pings first: a capture stopped right after the last packet may
      // not have read it yet, so nothing asserted on comes last.
      const big = await inNs(lab.pods.a1.netns, [
        'ping',
        '-c',
        '2',
        '-i',
        '0.2',
        '-M',
        'do',
        '-s',
        '1422',
        '-W',
        '2',
        lab.pods.b1.ip,
      ]);
      expect(big.exitCode, String(big.stdout)).toBe(0); // 1422 + 8 ICMP + 20 IP = 1450 bytes, DF set
      for (const port of [7201, 7202, 7203]) {
        const r = await tcpTransfer(lab, 'a1', 'b1', port, 300_000);
        expect(r.received.sha256).toBe(r.sent.sha256);
      }
    } finally {
      cap.kill('SIGINT');
      await cap;
    }
    const fields = await execa('tshark', [
      '-r',
      pcap,
      '-Y',
      'vxlan',
      '-T',
      'fields',
      '-E',
      'separator=\t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      '-e',
      'frame.len',
      '-e',
      'ip.src',
      '-e',
      'ip.dst',
      '-e',
      'udp.srcport',
      '-e',
      'udp.dstport',
      '-e',
      'vxlan.vni',
      '-e',
      'vxlan.flags',
      '-e',
      'vxlan.reserved8',
      '-e',
      'ip.flags.mf',
      '-e',
      'ip.frag_offset',
      '-e',
      'tcp.srcport',
      '-e',
      'tcp.dstport',
      '-e',
      'icmp.type',
    ]);
    fs.rmSync(pcap, { force: true });
    const rows = String(fields.stdout)
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(100);
    const perFlow = new Map<string, Set<string>>();
    let maxFrame = 0;
    let bigPings = 0;
    for (const [len, src, dst, sport, dport, vni, flags, rsvd8, mf, frag, tsport, tdport, icmpType] of rows) {
      expect(dport.split(',')[0]).toBe('4789');
      expect(vni).toBe('1');
      expect(flags).toBe('0x0800'); // I flag only: every other flag bit zero
      expect(rsvd8).toBe('0');
      expect(mf.split(',').every((x) => x === 'False' || x === '0')).toBe(true);
      expect(frag.split(',').every((x) => x === '0')).toBe(true);
      const [outerSrc, innerSrc] = src.split(',');
      const [outerDst, innerDst] = dst.split(',');
      expect([outerSrc, outerDst].sort()).toEqual(['172.28.0.11', '172.28.0.12']);
      if (innerSrc.endsWith('.1') && innerDst.endsWith('.1')) {
        // the agents' health pings, gateway to gateway (echo request 8 / reply 0)
        expect([innerSrc, innerDst].sort()).toEqual(['10.244.1.1', '10.244.2.1']);
        expect(['8', '0']).toContain(icmpType);
        continue;
      }
      expect([innerSrc, innerDst].sort()).toEqual([lab.pods.a1.ip, lab.pods.b1.ip].sort());
      const port = Number(sport.split(',')[0]);
      expect(port).toBeGreaterThanOrEqual(49152);
      expect(port).toBeLessThanOrEqual(65535);
      if (tsport) {
        const key = `${innerSrc}:${tsport}>${innerDst}:${tdport}`;
        if (!perFlow.has(key)) perFlow.set(key, new Set());
        perFlow.get(key)!.add(String(port));
      }
      maxFrame = Math.max(maxFrame, Number(len));
      if (icmpType && Number(len) === 1514) bigPings++;
    }
    // one source port per flow direction, and different flows spread over ports
    for (const ports of perFlow.values()) expect(ports.size).toBe(1);
    const distinct = new Set([...perFlow.values()].map((s) => [...s][0]));
    expect(perFlow.size).toBeGreaterThanOrEqual(6);
    expect(distinct.size).toBeGreaterThanOrEqual(4);
    expect(maxFrame).toBe(1514); // 1450 inner IP + 14 inner Ethernet + 50 VXLAN overhead
    expect(bigPings).toBeGreaterThanOrEqual(2);
  });
});
