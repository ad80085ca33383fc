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
  agentStatus,
  FIXTURES,
  type TestLab,
} from './helpers.js';
import { execaRunner, cmd, shortName } from '../../src/host/index.js';
import { waitFor } from '../../src/lab/index.js';
import { macToString } from '../../src/packet/index.js';
import { vtepMacFor } from '../../src/overlay/index.js';

// A podwire node and a "kernel node": a namespace whose overlay is a Linux
// kernel vxlan device (dstport 4789, VNI 1), configured the way a simple
// flat overlay is: on-link route to podwire's pod CIDR through vx0, and a
// default FDB entry pointing at node1's underlay IP. Its address on vx0
// stands for a pod behind the kernel VTEP.
const prefix = testPrefix('io');
const KNODE_IP = '172.28.0.50';
const KNODE_POD = '10.244.50.1';
let lab: TestLab;
let kns: string;

beforeAll(async () => {
  lab = await startLab(prefix, 1, [['p1', 'node1']]);
  const run = execaRunner();
  const ul = lab.state.plan.underlayNs;
  kns = `${prefix}-knode`;
  const port = shortName('pwk', kns);
  for (const argv of [
    cmd.netnsAdd(kns),
    cmd.vethAdd(ul, port, 'eth0', kns),
    cmd.linkSet(ul, port, 'master', lab.state.plan.underlayBridge),
    cmd.linkUp(ul, port),
    cmd.addrAdd(kns, `${KNODE_IP}/24`, 'eth0'),
    cmd.linkUp(kns, 'eth0'),
    cmd.linkUp(kns, 'lo'),
    // A 1500-byte wire carries no 64 KiB tunnel-GSO frames: segment in the
    // kernel before the veth, as a NIC without tunnel offload would.
    cmd.ethtoolOffload(kns, 'eth0', { 'tx-udp_tnl-segmentation': 'off', 'tx-udp_tnl-csum-segmentation': 'off' }),
    [
      'ip',
      '-n',
      kns,
      'link',
      'add',
      'vx0',
      'address',
      macToString(vtepMacFor(KNODE_IP)),
      'mtu',
      '1450',
      'type',
      'vxlan',
      'id',
      '1',
      'dstport',
      '4789',
      'local',
      KNODE_IP,
      'dev',
      'eth0',
      'nolearning',
    ],
    cmd.linkSet(kns, 'vx0', 'addrgenmode', 'none'), // no IPv6 chatter over the overlay
    cmd.addrAdd(kns, `${KNODE_POD}/24`, 'vx0'),
    cmd.linkUp(kns, 'vx0'),
    cmd.routeReplace(kns, '10.244.1.0/24', 'dev', 'vx0'),
    cmd.exec(kns, ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', lab.state.plan.nodes[0].ip]),
  ]) {
    await run.run(argv);
  }
  // Tell node1's agent about the kernel node: one more peer in its peers file.
  const peersFile = lab.state.plan.peersFile;
  const doc = JSON.parse(fs.readFileSync(peersFile, 'utf8'));
  doc.peers.push({ name: 'knode', nodeIp: KNODE_IP, podCidr: '10.244.50.0/24' });
  fs.writeFileSync(peersFile, JSON.stringify(doc));
  await waitFor('node1 to resolve the kernel node', 15_000, async () => {
    const s = await agentStatus(lab, 'node1');
    return s.underlayNeighbors.some((n: any) => n.ip === KNODE_IP);
  });
});

afterAll(async () => {
  if (lab) await stopLab(prefix); // the kernel node carries the prefix: lab down removes it too
});

describe('interop with a Linux kernel VXLAN device', () => {
  it('pod -> kernel VTEP and kernel VTEP -> pod (ARP answered by the agent over VXLAN)', async () => {
    const out = await inNs(lab.pods.p1.netns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', KNODE_POD]);
    expect(out.exitCode, String(out.stdout)).toBe(0);
    const back = await inNs(kns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', lab.pods.p1.ip]);
    expect(back.exitCode, String(back.stdout)).toBe(0);
    const neigh = await inNs(kns, ['ip', 'neigh', 'show', 'dev', 'vx0']);
    expect(String(neigh.stdout)).toContain(macToString(vtepMacFor(lab.state.plan.nodes[0].ip)));
  });

  it('moves 10 MB over TCP each way intact, with real source addresses', async () => {
    const n = 10 * 1024 * 1024;
    // Frames the kernel sent before node1 knew it as a peer were rightly
    // dropped as vxlan-unknown-peer; from here on there must be none.
    const unknownBefore = (await agentStatus(lab, 'node1')).counters.drops['vxlan-unknown-peer'] ?? 0;
    // pod -> kernel side
    let { child: sink } = await startInNs(
      kns,
      [process.execPath, path.join(FIXTURES, 'tcp-sink.mjs'), '7301'],
      'listening',
    );
    let src = await inNs(lab.pods.p1.netns, [
      process.execPath,
      path.join(FIXTURES, 'tcp-source.mjs'),
      KNODE_POD,
      '7301',
      String(n),
    ]);
    let got = lastJson((await sink).stdout);
    expect(got.sha256).toBe(lastJson(src.stdout).sha256);
    expect(got.remoteAddress).toBe(lab.pods.p1.ip);
    // kernel side -> pod
    ({ child: sink } = await startInNs(
      lab.pods.p1.netns,
      [process.execPath, path.join(FIXTURES, 'tcp-sink.mjs'), '7302'],
      'listening',
    ));
    src = await inNs(kns, [process.execPath, path.join(FIXTURES, 'tcp-source.mjs'), lab.pods.p1.ip, '7302', String(n)]);
    got = lastJson((await sink).stdout);
    expect(got.sha256).toBe(lastJson(src.stdout).sha256);
    expect(got.remoteAddress).toBe(KNODE_POD);
    const s = await agentStatus(lab, 'node1');
    expect((s.counters.drops['vxlan-unknown-peer'] ?? 0) - unknownBefore, JSON.stringify(s.counters.drops)).toBe(0);
  });
});
