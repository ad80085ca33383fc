import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import {
  startLab,
  stopLab,
  testPrefix,
  inNs,
  startInNs,
  lastJson,
  tcpTransfer,
  FIXTURES,
  execa,
  type TestLab,
} from './helpers.js';
import { analyze } from '../../src/analyze/index.js';
import { readCapture, pcapGlobalHeader, pcapRecord } from '../../src/capture/index.js';
import { captureInNamespace, waitFor } from '../../src/lab/index.js';

// `podwire analyze` must read a capture the way tshark does: same packet
// counts, conversations, handshake RTTs, retransmissions and DNS latencies.
const prefix = testPrefix('an');
let lab: TestLab;
const tmp = (name: string) => path.join('/tmp', `${prefix}-${name}`);

beforeAll(async () => {
  lab = await startLab(prefix, 2, [
    ['a1', 'node1'],
    ['b1', 'node2'],
    ['dns', 'node2'],
  ]);
});
afterAll(async () => {
  if (lab) await stopLab(prefix);
  for (const f of ['tcpdump.pcap', 'underlay.pcapng', 'retrans.pcap']) fs.rmSync(tmp(f), { force: true });
});

async function tsharkFields(file: string, filter: string, fields: string[]): Promise<string[][]> {
  const r = await execa('tshark', [
    '-r',
    file,
    ...(filter ? ['-Y', filter] : []),
    '-T',
    'fields',
    '-E',
    'separator=|',
    ...fields.flatMap((f) => ['-e', f]),
  ]);
  return String(r.stdout)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'));
}

/** Per TCP stream: packets, bytes, ports, initial RTT — as tshark computes them. */
async function tsharkTcpStreams(file: string) {
  const rows = await tsharkFields(file, 'tcp', [
    'tcp.stream',
    'frame.len',
    'tcp.srcport',
    'tcp.dstport',
    'tcp.analysis.initial_rtt',
  ]);
  const streams = new Map<string, { packets: number; bytes: number; ports: string; rtt?: number }>();
  for (const [stream, len, sp, dp, rtt] of rows) {
    const s = streams.get(stream) ?? { packets: 0, bytes: 0, ports: [sp, dp].sort().join('/') };
    s.packets++;
    s.bytes += Number(len);
    if (rtt) s.rtt = Number(rtt);
    streams.set(stream, s);
  }
  return [...streams.values()];
}

describe('analyze agrees with tshark', () => {
  it('on a tcpdump capture in a pod: packets, TCP conversations, handshake RTTs, DNS latencies and failures', async () => {
    const file = tmp('tcpdump.pcap');
    const dump = execa('ip', ['netns', 'exec', lab.pods.a1.netns, 'tcpdump', '-i', 'eth0', '-U', '-n', '-w', file], {
      reject: false,
    });
    await waitFor('tcpdump to start', 10_000, () => fs.existsSync(file) && fs.statSync(file).size >= 24);
    const { child: server } = await startInNs(
      lab.pods.dns.netns,
      [process.execPath, path.join(FIXTURES, 'dns-server.mjs')],
      'listening',
    );
    const asked = await inNs(lab.pods.a1.netns, [
      process.execPath,
      path.join(FIXTURES, 'dns-client.mjs'),
      lab.pods.dns.ip,
      'web.podwire.test',
      'db.podwire.test',
      'nope.example',
    ]);
    expect(lastJson(asked.stdout).answers.map((a: any) => a.rcode)).toEqual(['NOERROR', 'NOERROR', 'NXDOMAIN']);
    for (const port of [7601, 7602]) await tcpTransfer(lab, 'a1', 'b1', port, 300_000);
    await inNs(lab.pods.a1.netns, ['ping', '-c', '2', '-i', '0.2', lab.pods.b1.ip]);
    dump.kill('SIGINT');
    await dump;
    server.kill();
    await server;

    const ours = analyze(await readCapture(file));
    const frames = await tsharkFields(file, '', ['frame.number']);
    expect(ours.packets).toBe(frames.length);

    const theirs = await tsharkTcpStreams(file);
    const mine = ours.conversations.filter((c) => c.proto === 'TCP');
    expect(mine).toHaveLength(theirs.length);
    for (const t of theirs) {
      const m = mine.find((c) => [c.a.split(':')[1], c.b.split(':')[1]].sort().join('/') === t.ports)!;
      expect(m, t.ports).toBeDefined();
      expect(m.packets).toBe(t.packets);
      expect(m.bytes).toBe(t.bytes);
      expect(m.handshakeRttS).toBeCloseTo(t.rtt!, 6);
    }

    const dns = await tsharkFields(file, 'dns.flags.response == 1', ['dns.id', 'dns.time', 'dns.flags.rcode']);
    expect(ours.dns).toHaveLength(3);
    for (const [id, time, rcode] of dns) {
      const q = ours.dns.find((d) => d.id === Number(id))!;
      expect(q.latencyS).toBeCloseTo(Number(time), 6);
      expect(q.failed).toBe(rcode !== '0');
    }
    expect(ours.dns.filter((d) => d.failed).map((d) => d.name)).toEqual(['nope.example']);
  });

  it('on a podwire underlay capture: VXLAN outer->inner mapping and the inner TCP conversations', async () => {
    const file = tmp('underlay.pcapng');
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const cap = captureInNamespace({
      ns: lab.state.plan.underlayNs,
      ifname: lab.state.plan.underlayBridge,
      label: 'underlay',
      format: 'pcapng',
      filter: { proto: 'tcp' },
      durationS: 4,
      out: file,
      promiscuous: true,
      onReady: () => ready(),
    });
    await Promise.race([started, cap]); // a capture that fails before it starts fails the test with its reason
    await tcpTransfer(lab, 'a1', 'b1', 7603, 200_000);
    await cap;
    const ours = analyze(await readCapture(file));
    expect(ours.packets).toBe((await tsharkFields(file, '', ['frame.number'])).length);
    const theirs = await tsharkTcpStreams(file);
    const mine = ours.conversations.filter((c) => c.proto === 'TCP');
    expect(mine.map((c) => [c.packets, c.bytes])).toEqual(theirs.map((t) => [t.packets, t.bytes]));
    expect(mine[0].handshakeRttS).toBeCloseTo(theirs[0].rtt!, 6);
    const maps = ours.vxlan.filter((v) => v.inner.includes(':7603'));
    expect(maps).toHaveLength(2); // one outer 5-tuple per direction
    expect(maps.every((v) => v.vni === 1 && v.outer.endsWith(':4789'))).toBe(true);
    expect(maps.map((v) => v.inner).sort()).toEqual(
      [
        `TCP ${lab.pods.a1.ip}:${mine[0].a.split(':')[1]} -> ${lab.pods.b1.ip}:7603`,
        `TCP ${lab.pods.b1.ip}:7603 -> ${lab.pods.a1.ip}:${mine[0].a.split(':')[1]}`,
      ].sort(),
    );
  });

  it('counts a retransmitted segment as tshark does', async () => {
    const src = await readCapture(tmp('tcpdump.pcap'));
    // replay one data segment again a little later: a retransmission
    const i = src.findIndex((p) => p.data.length > 200 && p.data[23] === 6);
    const dup = { ...src[i], time: src[i].time + 0.0001 };
    const packets = [...src.slice(0, i + 1), dup, ...src.slice(i + 1)];
    const file = tmp('retrans.pcap');
    fs.writeFileSync(
      file,
      Buffer.concat([
        pcapGlobalHeader(),
        ...packets.map((p) => pcapRecord(p.data, BigInt(Math.round(p.time * 1e6)), p.originalLength)),
      ]),
    );
    // The original capture may hold real retransmissions (under load, TCP
    // does retransmit); the replayed segment must add exactly one for both.
    const retrans = (f: string) => tsharkFields(f, 'tcp.analysis.retransmission', ['frame.number']);
    const oursCount = async (f: string) =>
      analyze(await readCapture(f)).conversations.reduce((n, c) => n + (c.retransmissions ?? 0), 0);
    const original = tmp('tcpdump.pcap');
    expect((await retrans(file)).length - (await retrans(original)).length).toBe(1);
    expect((await oursCount(file)) - (await oursCount(original))).toBe(1);
  });
});
