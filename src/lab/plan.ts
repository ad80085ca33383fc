import path from 'node:path';
import { cmd, names, checkPrefix } from '../host/index.js';

/**
 * A netns lab, described before it is built (Mininet style): an underlay
 * namespace holding a private bridge, and N node namespaces whose only
 * interface is eth0 on that bridge (what Docker gives a container). Nothing
 * in it routes to the host's network.
 */
export interface LabNode {
  name: string;
  ns: string;
  ip: string;
  podCidr: string;
  underlayPort: string;
  stateDir: string;
}

export interface LabPlan {
  prefix: string;
  stateDir: string;
  underlayNs: string;
  underlayBridge: string;
  underlayPrefixLen: number;
  peersFile: string;
  /**
   * The control plane: a namespace of its own on the underlay (like kind's
   * control-plane node) running the API server and controllers. Agents and
   * the CLI reach it through a Unix socket (a file: visible from every
   * namespace, no route to the host needed); kubectl, run inside the
   * namespace, through TCP on its underlay address.
   */
  controlPlane: { ns: string; ip: string; port: number; socket: string; stateDir: string; underlayPort: string };
  nodes: LabNode[];
}

export const LAB_DEFAULTS = {
  prefix: 'pwlab',
  stateRoot: '/run/podwire',
  underlayNet: '172.28.0', // node N is 172.28.0.(10+N)/24
  podNet: '10.244', //        node N owns 10.244.N.0/24
};

export function planLab(opts: { prefix?: string; nodes: number; stateRoot?: string }): LabPlan {
  const prefix = checkPrefix(opts.prefix ?? LAB_DEFAULTS.prefix);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 200) throw new Error('--nodes must be an integer from 1 to 200');
  // PODWIRE_STATE_ROOT lets tests (and parallel labs) keep their state apart
  const stateDir = path.join(opts.stateRoot ?? process.env.PODWIRE_STATE_ROOT ?? LAB_DEFAULTS.stateRoot, prefix);
  const nodes: LabNode[] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const name = `node${i}`;
    nodes.push({
      name,
      ns: names.nodeNs(prefix, name),
      ip: `${LAB_DEFAULTS.underlayNet}.${10 + i}`,
      podCidr: `${LAB_DEFAULTS.podNet}.${i}.0/24`,
      underlayPort: names.underlayPort(`${prefix}-${name}`),
      stateDir: path.join(stateDir, name),
    });
  }
  return {
    prefix,
    stateDir,
    underlayNs: names.underlayNs(prefix),
    underlayBridge: names.underlayBridge(),
    underlayPrefixLen: 24,
    peersFile: path.join(stateDir, 'peers.json'),
    controlPlane: {
      ns: `${prefix}-cp`,
      ip: `${LAB_DEFAULTS.underlayNet}.2`,
      port: 6443,
      socket: path.join(stateDir, 'apiserver.sock'),
      stateDir: path.join(stateDir, 'control-plane'),
      underlayPort: names.underlayPort(`${prefix}-cp`),
    },
    nodes,
  };
}

/** The commands that build the topology (agents are started separately). */
export function topologyCommands(plan: LabPlan): string[][] {
  const ul = plan.underlayNs;
  const out: string[][] = [
    cmd.netnsAdd(ul),
    cmd.linkUp(ul, 'lo'),
    cmd.bridgeAdd(ul, plan.underlayBridge),
    cmd.linkSet(ul, plan.underlayBridge, 'addrgenmode', 'none'),
    cmd.linkUp(ul, plan.underlayBridge),
  ];
  for (const n of plan.nodes) out.push(...nodeCommands(plan, n));
  return out;
}

/** A namespace whose only link is eth0 on the underlay bridge, at `ip` (a container's view). */
function attachToUnderlay(plan: LabPlan, ns: string, port: string, ip: string): string[][] {
  const ul = plan.underlayNs;
  return [
    cmd.netnsAdd(ns),
    cmd.vethAdd(ul, port, 'eth0', ns),
    cmd.linkSet(ul, port, 'addrgenmode', 'none'),
    cmd.linkSet(ul, port, 'master', plan.underlayBridge),
    cmd.linkUp(ul, port),
    cmd.linkSet(ns, 'eth0', 'addrgenmode', 'none'),
    cmd.addrAdd(ns, `${ip}/${plan.underlayPrefixLen}`, 'eth0'),
    cmd.linkUp(ns, 'eth0'),
    cmd.linkUp(ns, 'lo'),
  ];
}

/** The control plane's namespace on the underlay (only for labs with a control plane). */
export function controlPlaneCommands(plan: LabPlan): string[][] {
  const cp = plan.controlPlane;
  return attachToUnderlay(plan, cp.ns, cp.underlayPort, cp.ip);
}

export function nodeCommands(plan: LabPlan, n: LabNode): string[][] {
  return attachToUnderlay(plan, n.ns, n.underlayPort, n.ip);
}

export function peersDocument(plan: LabPlan): { peers: { name: string; nodeIp: string; podCidr: string }[] } {
  return { peers: plan.nodes.map((n) => ({ name: n.name, nodeIp: n.ip, podCidr: n.podCidr })) };
}
