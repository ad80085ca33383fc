import { describe, it, expect, beforeAll, afterAll } from 'vitest';
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

// Hostile input into both of an agent's ports: frames from a pod (into cbr0)
// and frames on the underlay (into eth0, past the socket filter, and as
// real UDP to 4789). The agent must keep running, count each by reason, and
// still forward good traffic afterwards.
const prefix = testPrefix('gb');
let lab: TestLab;

beforeAll(async () => {
  lab = await startLab(prefix, 2, [
    ['g1', 'node1'],
    ['g2', 'node2'],
    ['g3', 'node1'],
  ]);
});
afterAll(async () => {
  if (lab) await stopLab(prefix);
});

const fuzz = async (ns: string, spec: object) => {
  const r = await inNs(ns, [process.execPath, path.join(FIXTURES, 'frame-fuzzer.mjs'), JSON.stringify(spec)]);
  if (r.exitCode !== 0) throw new Error(`fuzzer failed: ${r.stderr}`);
  const out = lastJson(r.stdout);
  return (out.sent + out.refused) as number; // the kernel refuses some (shorter than an Ethernet header)
};

describe('garbage in', () => {
  it('survives random and malformed frames from a pod and from the underlay, counting them by reason', async () => {
    const n1 = await agentStatus(lab, 'node1');
    const before = n1.counters;
    // from pod g1 into node1's cbr0, addressed to the gateway
    const fromPod = await fuzz(lab.pods.g1.netns, {
      ifname: 'eth0',
      dstMac: n1.gatewayMac,
      srcMac: lab.pods.g1.mac,
      srcIp: lab.pods.g1.ip,
      dstIp: lab.pods.g2.ip,
      count: 3000,
      seed: 7,
    });
    // from node2's eth0 onto the underlay, addressed to node1's eth0, from node2's IP (a known peer)
    const fromUnderlay = await fuzz(`${prefix}-node2`, {
      ifname: 'eth0',
      dstMac: n1.nodeMac,
      srcMac: '02:00:00:00:00:02',
      srcIp: '172.28.0.12',
      dstIp: '172.28.0.11',
      count: 3000,
      seed: 11,
    });
    expect(fromPod).toBe(3000);
    expect(fromUnderlay).toBe(3000);

    const after = (await agentStatus(lab, 'node1')).counters;
    const status = await agentStatus(lab, 'node1');
    expect(status.pid).toBe(n1.pid); // same process: it did not crash and restart
    expect(status.internalErrors).toBe(0);
    const grew = (reason: string) => (after.drops[reason] ?? 0) - (before.drops[reason] ?? 0);
    // (No 'malformed-ethernet': the kernel refuses to send frames shorter
    // than an Ethernet header, so none can reach the agent through a device;
    // the unit tests cover that case.)
    for (const reason of [
      'malformed-ipv4',
      'bad-ipv4-checksum',
      'malformed-arp',
      'unsupported-ethertype',
      'vxlan-bad-flags',
      'vxlan-unknown-vni',
      'malformed-vxlan',
    ]) {
      expect(grew(reason), `${reason} in ${JSON.stringify(after.drops)}`).toBeGreaterThan(0);
    }
    // and `podwire drops` shows them, with what each reason means
    const { CLI_ENTRY } = await import('../../src/lab/index.js');
    const { execa } = await import('execa');
    const table = await execa(process.execPath, [CLI_ENTRY, '--lab', prefix, 'drops', '--node', 'node1'], {
      env: { PODWIRE_STATE_ROOT: '/run/podwire-test' },
    });
    expect(table.stdout.split('\n')[0]).toMatch(/^NODE\s+REASON\s+DROPS\s+MEANING$/);
    expect(table.stdout).toMatch(
      new RegExp(
        `node1\\s+vxlan-unknown-vni\\s+${after.drops['vxlan-unknown-vni']}\\s+VXLAN network identifier is not this cluster`,
      ),
    );
    // and good traffic still flows, both ways
    const ping = await inNs(lab.pods.g1.netns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', lab.pods.g2.ip]);
    expect(ping.exitCode, String(ping.stdout)).toBe(0);
  });
});

describe('spoofing (issue #15)', () => {
  // Each forged datagram is sent before a genuine one on the same path, and
  // the receiver stops at its first datagram: a forged one that got through
  // would be what it reports.
  const spoof = async (ns: string, args: string[]) => {
    const r = await inNs(ns, ['python3', path.join(FIXTURES, 'spoof-sender.py'), ...args]);
    if (r.exitCode !== 0) throw new Error(`spoof-sender failed: ${r.stderr}`);
    return lastJson(r.stdout).sent as number;
  };
  const firstDatagram = async (pod: string, port: number, send: () => Promise<unknown>) => {
    const { child } = await startInNs(
      lab.pods[pod].netns,
      [process.execPath, path.join(FIXTURES, 'udp-sink.mjs'), String(port), '1'],
      'listening',
    );
    await send();
    return lastJson((await child).stdout) as { count: number; sources: string[] };
  };

  it('a pod’s forged sources and a peer’s forged inner source never arrive; each drop is counted with its reason', async () => {
    const { g1, g2 } = lab.pods;
    const before = (await agentStatus(lab, 'node1')).counters.drops;
    // from pod g1 (node1) to g2 (node2): as 1.2.3.4, as a free address of node1's pod CIDR, then as itself
    const toG2 = await firstDatagram('g2', 7701, () =>
      spoof(g1.netns, ['pod', g2.ip, '7701', '1.2.3.4', '10.244.1.99', g1.ip]),
    );
    expect(toG2).toMatchObject({ count: 1, sources: [g1.ip] });
    // VXLAN from node2's real address (a known peer) to g1: as a pod of node1 itself, then as a pod of node2
    const toG1 = await firstDatagram('g1', 7702, () =>
      spoof(`${prefix}-node2`, ['vxlan', '172.28.0.11', g1.ip, '7702', '10.244.1.250', '10.244.2.77']),
    );
    expect(toG1).toMatchObject({ count: 1, sources: ['10.244.2.77'] });
    const after = (await agentStatus(lab, 'node1')).counters.drops;
    const grew = (reason: string) => (after[reason] ?? 0) - (before[reason] ?? 0);
    expect({ spoofed: grew('spoofed-source'), inner: grew('vxlan-spoofed-inner-source') }).toEqual({
      spoofed: 2,
      inner: 1,
    });
    const { CLI_ENTRY } = await import('../../src/lab/index.js');
    const { execa } = await import('execa');
    const table = await execa(process.execPath, [CLI_ENTRY, '--lab', prefix, 'drops', '--node', 'node1'], {
      env: { PODWIRE_STATE_ROOT: '/run/podwire-test' },
    });
    expect(table.stdout).toMatch(
      /node1\s+spoofed-source\s+\d+\s+a pod sent from an IP or MAC address that is not its own/,
    );
    expect(table.stdout).toMatch(
      /node1\s+vxlan-spoofed-inner-source\s+\d+\s+VXLAN from a known node whose inner source/,
    );
  });

  it('a pod forging both the IP and the MAC of another pod of its node is caught by the port it sends from (its own veth)', async () => {
    const { g1, g2, g3 } = lab.pods;
    const before = (await agentStatus(lab, 'node1')).counters.drops;
    const gateway = (await agentStatus(lab, 'node1')).gatewayMac as string;
    // from g3 (node1) to g2: as g1, its IP and MAC both, then as itself
    const toG2 = await firstDatagram('g2', 7703, () =>
      spoof(g3.netns, ['l2', g2.ip, '7703', gateway, `${g1.ip}@${g1.mac}`, `${g3.ip}@${g3.mac}`]),
    );
    expect(toG2).toMatchObject({ count: 1, sources: [g3.ip] });
    const after = (await agentStatus(lab, 'node1')).counters.drops;
    expect((after['spoofed-source'] ?? 0) - (before['spoofed-source'] ?? 0)).toBe(1);
  });
});
