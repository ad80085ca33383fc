// The lab, described before it is built: names, addresses and the exact argv
// of every command that builds the topology. Nothing here runs anything.

import { describe, expect, it } from 'vitest';
import { LAB_DEFAULTS, peersDocument, planLab, topologyCommands } from '../../../src/lab/index.js';
import { HostError, IFNAMSIZ_MAX, shortName } from '../../../src/host/index.js';
import { parsePeerSpecs } from '../../../src/overlay/index.js';

describe('planLab', () => {
  const plan = planLab({ prefix: 'pwlab', nodes: 3 });

  it('node N is nodeN at 172.28.0.(10+N) owning 10.244.N.0/24, in namespace pwlab-nodeN', () => {
    expect(plan.nodes.map(({ name, ns, ip, podCidr }) => ({ name, ns, ip, podCidr }))).toEqual([
      { name: 'node1', ns: 'pwlab-node1', ip: '172.28.0.11', podCidr: '10.244.1.0/24' },
      { name: 'node2', ns: 'pwlab-node2', ip: '172.28.0.12', podCidr: '10.244.2.0/24' },
      { name: 'node3', ns: 'pwlab-node3', ip: '172.28.0.13', podCidr: '10.244.3.0/24' },
    ]);
  });

  it('one underlay namespace with one bridge, a /24, state under /run/podwire/<prefix>', () => {
    expect(plan.prefix).toBe('pwlab');
    expect(plan.underlayNs).toBe('pwlab-underlay');
    expect(plan.underlayBridge).toBe('pwul0');
    expect(plan.underlayPrefixLen).toBe(24);
    expect(plan.stateDir).toBe('/run/podwire/pwlab');
    expect(plan.peersFile).toBe('/run/podwire/pwlab/peers.json');
    expect(plan.nodes.map((n) => n.stateDir)).toEqual([
      '/run/podwire/pwlab/node1',
      '/run/podwire/pwlab/node2',
      '/run/podwire/pwlab/node3',
    ]);
    expect(planLab({ nodes: 1, stateRoot: '/tmp/x' }).stateDir).toBe(`/tmp/x/${LAB_DEFAULTS.prefix}`);
  });

  it('underlay ports are named from their node, distinct and stable', () => {
    const ports = plan.nodes.map((n) => n.underlayPort);
    expect(new Set(ports).size).toBe(3);
    expect(ports[0]).toBe(shortName('pwu', 'pwlab-node1'));
    expect(ports[0]).toMatch(/^pwu[0-9a-f]{8}$/);
    expect(planLab({ prefix: 'pwlab', nodes: 3 }).nodes.map((n) => n.underlayPort)).toEqual(ports);
    // Another lab's node1 gets another port name: two labs can share a host.
    expect(planLab({ prefix: 'pwother', nodes: 1 }).nodes[0].underlayPort).not.toBe(ports[0]);
  });

  it.each([1, 3, 200])(
    'every interface name fits IFNAMSIZ (15) and every namespace carries the prefix (%i nodes)',
    (nodes) => {
      for (const prefix of ['pw', 'pwlab', 'pwabcdefghij']) {
        const p = planLab({ prefix, nodes });
        const ifnames = [p.underlayBridge, ...p.nodes.map((n) => n.underlayPort), 'eth0', 'lo'];
        for (const name of ifnames) expect(name.length, name).toBeLessThanOrEqual(IFNAMSIZ_MAX);
        for (const ns of [p.underlayNs, ...p.nodes.map((n) => n.ns)])
          expect(ns.startsWith(`${prefix}-`), ns).toBe(true);
        // And every interface or namespace the commands create is one the plan names.
        const created = topologyCommands(p).flatMap((argv) => {
          const add = argv.indexOf('add');
          return add > 0 && argv[add - 1] !== 'addr' ? [argv[add + 1]] : [];
        });
        const known = new Set([p.underlayNs, p.underlayBridge, ...p.nodes.flatMap((n) => [n.ns, n.underlayPort])]);
        for (const name of created) expect(known.has(name), name).toBe(true);
      }
    },
  );

  it('the 200th node is 172.28.0.210 with 10.244.200.0/24', () => {
    const last = planLab({ nodes: 200 }).nodes[199];
    expect([last.name, last.ip, last.podCidr]).toEqual(['node200', '172.28.0.210', '10.244.200.0/24']);
  });

  it.each(['', 'lab', 'PWlab', 'pw-lab', 'pw_lab', 'pwabcdefghijk', 'pwlab ', '../pw'])(
    'prefix %j → ERR_BAD_NAME',
    (prefix) => {
      let err: unknown;
      try {
        planLab({ prefix, nodes: 1 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HostError);
      expect((err as HostError).code).toBe('ERR_BAD_NAME');
      expect((err as HostError).message).toContain(`"${prefix}"`);
    },
  );

  it.each([0, -1, 1.5, 201, Number.NaN, Number.POSITIVE_INFINITY])('nodes %s → a clear error', (nodes) => {
    expect(() => planLab({ prefix: 'pwlab', nodes })).toThrow('--nodes must be an integer from 1 to 200');
  });

  it('peersDocument lists every node, and the agents’ parser accepts it', () => {
    const doc = peersDocument(plan);
    expect(doc).toEqual({
      peers: [
        { name: 'node1', nodeIp: '172.28.0.11', podCidr: '10.244.1.0/24' },
        { name: 'node2', nodeIp: '172.28.0.12', podCidr: '10.244.2.0/24' },
        { name: 'node3', nodeIp: '172.28.0.13', podCidr: '10.244.3.0/24' },
      ],
    });
    expect(parsePeerSpecs(JSON.parse(JSON.stringify(doc)), plan.peersFile)).toEqual(doc.peers);
  });
});

describe('topologyCommands', () => {
  const plan = planLab({ prefix: 'pwlab', nodes: 3 });
  const cmds = topologyCommands(plan);
  const [port1, port2, port3] = plan.nodes.map((n) => n.underlayPort);

  it('builds the underlay first: namespace, loopback, bridge (no STP, no snooping), no IPv6 link-local, up', () => {
    expect(cmds.slice(0, 5)).toEqual([
      ['ip', 'netns', 'add', 'pwlab-underlay'],
      ['ip', '-n', 'pwlab-underlay', 'link', 'set', 'dev', 'lo', 'up'],
      [
        'ip',
        '-n',
        'pwlab-underlay',
        'link',
        'add',
        'pwul0',
        'type',
        'bridge',
        'stp_state',
        '0',
        'mcast_snooping',
        '0',
        'forward_delay',
        '0',
      ],
      ['ip', '-n', 'pwlab-underlay', 'link', 'set', 'dev', 'pwul0', 'addrgenmode', 'none'],
      ['ip', '-n', 'pwlab-underlay', 'link', 'set', 'dev', 'pwul0', 'up'],
    ]);
  });

  it('then each node: its namespace, a veth whose eth0 end is born inside it, bridged, addressed, up', () => {
    expect(cmds.slice(5, 14)).toEqual([
      ['ip', 'netns', 'add', 'pwlab-node1'],
      [
        'ip',
        '-n',
        'pwlab-underlay',
        'link',
        'add',
        port1,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        'pwlab-node1',
      ],
      ['ip', '-n', 'pwlab-underlay', 'link', 'set', 'dev', port1, 'addrgenmode', 'none'],
      ['ip', '-n', 'pwlab-underlay', 'link', 'set', 'dev', port1, 'master', 'pwul0'],
      ['ip', '-n', 'pwlab-underlay', 'link', 'set', 'dev', port1, 'up'],
      ['ip', '-n', 'pwlab-node1', 'link', 'set', 'dev', 'eth0', 'addrgenmode', 'none'],
      ['ip', '-n', 'pwlab-node1', 'addr', 'replace', '172.28.0.11/24', 'dev', 'eth0'],
      ['ip', '-n', 'pwlab-node1', 'link', 'set', 'dev', 'eth0', 'up'],
      ['ip', '-n', 'pwlab-node1', 'link', 'set', 'dev', 'lo', 'up'],
    ]);
  });

  it('is 5 + 9 per node commands, each node’s namespace made before its veth', () => {
    expect(cmds).toHaveLength(5 + 9 * 3);
    expect(cmds[14]).toEqual(['ip', 'netns', 'add', 'pwlab-node2']);
    expect(cmds[15]).toEqual([
      'ip',
      '-n',
      'pwlab-underlay',
      'link',
      'add',
      port2,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      'pwlab-node2',
    ]);
    expect(cmds[5 + 9 * 2 + 6]).toEqual([
      'ip',
      '-n',
      'pwlab-node3',
      'addr',
      'replace',
      '172.28.0.13/24',
      'dev',
      'eth0',
    ]);
    expect(cmds.some((c) => c.includes(port3))).toBe(true);
  });

  it('is argv data: every element a non-empty string without blanks, every command ip', () => {
    for (const argv of cmds) {
      expect(argv[0]).toBe('ip');
      for (const a of argv) expect(a).toMatch(/^\S+$/);
    }
  });
});
