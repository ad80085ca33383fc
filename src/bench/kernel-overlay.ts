import { cmd, names, shortName } from '../host/index.js';
import { macToString } from '../packet/index.js';
import { vtepMacFor } from '../overlay/index.js';

/**
 * The kernel's equivalent of podwire's path, for side-by-side measurement:
 * the same underlay and addresses, but every node is what Flannel's vxlan
 * backend builds — cbr0 with the gateway, pod veths on it, kernel IP
 * forwarding, and a kernel vxlan device (VNI 1, port 4789) with a route,
 * neighbour and FDB entry per peer. Default offloads everywhere.
 */
export interface KernelNode {
  name: string;
  ns: string;
  ip: string;
  podNet: number; // node N owns 10.244.N.0/24
  pod: { ns: string; ip: string };
}

export function kernelTopology(prefix: string, count: number): { underlayNs: string; nodes: KernelNode[] } {
  const nodes: KernelNode[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `knode${i}`;
    nodes.push({
      name,
      ns: names.nodeNs(prefix, name),
      ip: `172.28.0.${10 + i}`,
      podNet: i,
      pod: { ns: `${prefix}-kpod-${i}`, ip: `10.244.${i}.2` },
    });
  }
  return { underlayNs: names.underlayNs(prefix), nodes };
}

const sysctl = (ns: string, key: string, value: string) => cmd.exec(ns, ['sysctl', '-qw', `${key}=${value}`]);

export function kernelTopologyCommands(prefix: string, count: number): string[][] {
  const { nodes } = kernelTopology(prefix, count);
  return [...kernelNodeCommands(prefix, count), ...nodes.flatMap((n) => kernelPodCommands(n, n.pod.ns, n.pod.ip))];
}

/** The underlay and the nodes (cbr0, kernel vxlan, routes and FDB to every peer), no pods yet. */
export function kernelNodeCommands(prefix: string, count: number): string[][] {
  const { underlayNs: ul, nodes } = kernelTopology(prefix, count);
  const out: string[][] = [cmd.netnsAdd(ul), cmd.linkUp(ul, 'lo'), cmd.bridgeAdd(ul, 'pwul0'), cmd.linkUp(ul, 'pwul0')];
  for (const n of nodes) {
    const port = shortName('pwu', `${prefix}-${n.name}`);
    out.push(
      cmd.netnsAdd(n.ns),
      cmd.vethAdd(ul, port, 'eth0', n.ns),
      cmd.linkSet(ul, port, 'master', 'pwul0'),
      cmd.linkUp(ul, port),
      cmd.addrAdd(n.ns, `${n.ip}/24`, 'eth0'),
      cmd.linkUp(n.ns, 'eth0'),
      cmd.linkUp(n.ns, 'lo'),
      sysctl(n.ns, 'net.ipv4.ip_forward', '1'),
      cmd.bridgeAdd(n.ns, 'cbr0'),
      cmd.addrAdd(n.ns, `10.244.${n.podNet}.1/24`, 'cbr0'),
      cmd.linkSet(n.ns, 'cbr0', 'mtu', '1450', 'up'),
      [
        'ip',
        '-n',
        n.ns,
        'link',
        'add',
        'vx0',
        'address',
        macToString(vtepMacFor(n.ip)),
        'mtu',
        '1450',
        'type',
        'vxlan',
        'id',
        '1',
        'dstport',
        '4789',
        'local',
        n.ip,
        'dev',
        'eth0',
        'nolearning',
      ],
      cmd.linkUp(n.ns, 'vx0'),
    );
    for (const m of nodes) {
      if (m === n) continue;
      const mac = macToString(vtepMacFor(m.ip));
      const gw = `10.244.${m.podNet}.0`;
      out.push(
        cmd.routeReplace(n.ns, `10.244.${m.podNet}.0/24`, 'via', gw, 'dev', 'vx0', 'onlink'),
        ['ip', '-n', n.ns, 'neigh', 'replace', gw, 'lladdr', mac, 'dev', 'vx0', 'nud', 'permanent'],
        cmd.exec(n.ns, ['bridge', 'fdb', 'replace', mac, 'dev', 'vx0', 'dst', m.ip]),
      );
    }
  }
  return out;
}

/** A pod on node n: its own namespace, a veth on cbr0, `ip` in the node's /24, default route via the gateway. */
export function kernelPodCommands(n: KernelNode, podNs: string, ip: string): string[][] {
  const veth = shortName('pwv', podNs);
  return [
    cmd.netnsAdd(podNs),
    cmd.vethAdd(n.ns, veth, 'eth0', podNs, 1450),
    cmd.linkSet(n.ns, veth, 'master', 'cbr0'),
    cmd.linkUp(n.ns, veth),
    cmd.linkSet(podNs, 'eth0', 'mtu', '1450'),
    cmd.linkUp(podNs, 'eth0'),
    cmd.linkUp(podNs, 'lo'),
    cmd.addrAdd(podNs, `${ip}/24`, 'eth0'),
    cmd.routeReplace(podNs, 'default', 'via', `10.244.${n.podNet}.1`),
  ];
}
