import path from 'node:path';
import { cmd, names, checkPrefix } from '../host/index.js';
import { LabError } from './errors.js';

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
   * The nodes' resolver file (`nameserver 172.28.0.200`: the outside's DNS),
   * given to every agent as --resolv-conf: what dnsPolicy Default pods
   * (CoreDNS) get, so CoreDNS forwards there and no query leaves the lab.
   */
  resolvConf: string;
  /**
   * The control plane: a namespace of its own on the underlay (like kind's
   * control-plane node) running the API server and controllers. Agents and
   * the CLI reach it through a Unix socket (a file: visible from every
   * namespace, no route to the host needed); kubectl, run inside the
   * namespace, through TCP on its underlay address.
   */
  controlPlane: { ns: string; ip: string; port: number; socket: string; stateDir: string; underlayPort: string };
  nodes: LabNode[];
  /**
   * The world outside the cluster, still inside the lab's private underlay:
   * an external client machine, web servers on "the internet", and an
   * emulated cloud load balancer (with a control plane only: it watches
   * LoadBalancer Services). Built by `lab up` unless told not to.
   */
  outside: LabOutside;
}

/** A machine on the underlay that is not a node: a namespace whose only link is eth0. */
export interface LabMachine {
  name: string;
  ns: string;
  ip: string;
  underlayPort: string;
}

export interface LabOutside {
  /** a learner's machine outside the cluster (compose's `client`) */
  client: LabMachine;
  /** "the internet": HTTP, HTTPS (self-signed) and UDP echo, answering with the caller's source address */
  www: LabMachine & { stateDir: string; httpPort: number; httpsPort: number; echoPort: number; dnsPort: number };
  /** GCP-style passthrough load balancer: EXTERNAL-IPs from `pool`, frames to a healthy node, MAC rewritten */
  cloudLb: LabMachine & { stateDir: string; socket: string; pool: string };
}

export const LAB_DEFAULTS = {
  prefix: 'pwlab',
  stateRoot: '/run/podwire',
  underlayNet: '172.28.0', // node N is 172.28.0.(10+N)/24
  podNet: '10.244', //        node N owns 10.244.N.0/24
  // the outside (compose.yaml uses the same addresses): the control plane is .2
  cloudLbHost: 3,
  clientHost: 100,
  wwwHost: 200,
  /** EXTERNAL-IPs the cloud load balancer hands out */
  lbPool: '172.28.0.240-172.28.0.254',
};

export function planLab(opts: { prefix?: string; nodes: number; stateRoot?: string }): LabPlan {
  const prefix = checkPrefix(opts.prefix ?? LAB_DEFAULTS.prefix);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 200)
    throw new LabError('ERR_BAD_OPTION', '--nodes must be an integer from 1 to 200');
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
    resolvConf: path.join(stateDir, 'resolv.conf'),
    controlPlane: {
      ns: `${prefix}-cp`,
      ip: `${LAB_DEFAULTS.underlayNet}.2`,
      port: 6443,
      socket: path.join(stateDir, 'apiserver.sock'),
      stateDir: path.join(stateDir, 'control-plane'),
      underlayPort: names.underlayPort(`${prefix}-cp`),
    },
    nodes,
    outside: planOutside(prefix, stateDir),
  };
}

function planOutside(prefix: string, stateDir: string): LabOutside {
  const machine = (name: string, host: number, ns = `${prefix}-${name}`): LabMachine => ({
    name,
    ns,
    ip: `${LAB_DEFAULTS.underlayNet}.${host}`,
    underlayPort: names.underlayPort(ns),
  });
  const clbDir = path.join(stateDir, 'cloudlb');
  return {
    client: machine('client', LAB_DEFAULTS.clientHost),
    www: {
      ...machine('www', LAB_DEFAULTS.wwwHost),
      stateDir: path.join(stateDir, 'www'),
      httpPort: 80,
      httpsPort: 443,
      echoPort: 7,
      dnsPort: 53,
    },
    cloudLb: {
      ...machine('cloudlb', LAB_DEFAULTS.cloudLbHost, `${prefix}-clb`),
      stateDir: clbDir,
      socket: path.join(clbDir, 'cloudlb.sock'),
      pool: LAB_DEFAULTS.lbPool,
    },
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

/**
 * The outside machines' namespaces on the underlay: the client and www
 * always, the cloud load balancer only with a control plane (it has nothing
 * to watch without one).
 */
export function outsideCommands(plan: LabPlan, opts: { cloudLb: boolean }): string[][] {
  const { client, www, cloudLb } = plan.outside;
  const machines = opts.cloudLb ? [client, www, cloudLb] : [client, www];
  return machines.flatMap((m) => attachToUnderlay(plan, m.ns, m.underlayPort, m.ip));
}

/**
 * The outside's fixed addresses (the client .100, www .200, as in compose)
 * are inside the range nodes take (.11 upwards): node 90 would be the
 * client. Labs that big leave the outside out.
 */
export function checkOutsideFits(plan: LabPlan): void {
  const taken = new Map([plan.outside.client, plan.outside.www, plan.outside.cloudLb].map((m) => [m.ip, m.name]));
  const clash = plan.nodes.find((n) => taken.has(n.ip));
  if (clash) {
    const most = Math.min(...[...taken.keys()].map((ip) => Number(ip.split('.')[3])).filter((host) => host > 10)) - 11;
    throw new LabError(
      'ERR_BAD_OPTION',
      `${clash.name} would have ${clash.ip}, the ${taken.get(clash.ip)}'s address: with the outside, a lab has at most ${most} nodes (or leave the outside out: --no-outside)`,
    );
  }
}

/**
 * Every machine of the lab by the short name `podwire lab exec` takes, and
 * its namespace: the nodes, the control plane, the outside machines, and the
 * underlay itself (where the bridge is: tcpdump there sees every machine).
 * Pods are not machines: `podwire exec <pod>` runs in them.
 */
export function labMachines(
  plan: LabPlan,
  has: { controlPlane: boolean; outside: boolean },
): { name: string; ns: string; ip: string | null; what: string }[] {
  const out: { name: string; ns: string; ip: string | null; what: string }[] = [];
  for (const n of plan.nodes)
    out.push({ name: n.name, ns: n.ns, ip: n.ip, what: 'node (the agent’s namespace: eth0, cbr0)' });
  if (has.controlPlane)
    out.push({
      name: 'cp',
      ns: plan.controlPlane.ns,
      ip: plan.controlPlane.ip,
      what: 'control plane (API server, controllers)',
    });
  if (has.outside) {
    const { client, www, cloudLb } = plan.outside;
    out.push({ name: client.name, ns: client.ns, ip: client.ip, what: 'a machine outside the cluster' });
    out.push({
      name: www.name,
      ns: www.ns,
      ip: www.ip,
      what: `"the internet": http :${www.httpPort}, https :${www.httpsPort}, udp echo :${www.echoPort}, dns :${www.dnsPort}`,
    });
    if (has.controlPlane)
      out.push({
        name: cloudLb.name,
        ns: cloudLb.ns,
        ip: cloudLb.ip,
        what: `cloud load balancer (EXTERNAL-IPs ${cloudLb.pool})`,
      });
  }
  out.push({
    name: 'underlay',
    ns: plan.underlayNs,
    ip: null,
    what: `the underlay bridge ${plan.underlayBridge} (every machine’s frames)`,
  });
  return out;
}

export function nodeCommands(plan: LabPlan, n: LabNode): string[][] {
  return attachToUnderlay(plan, n.ns, n.underlayPort, n.ip);
}

/** The lab's resolver file: the outside's DNS server, and nothing else (no search list: pods' ClusterFirst search path stays the cluster's). */
export function labResolvConf(plan: LabPlan): string {
  return `# podwire lab ${plan.prefix}: the outside's DNS (${plan.outside.www.name}, "the internet"); nothing leaves the lab\nnameserver ${plan.outside.www.ip}\n`;
}

/**
 * Where `ip netns exec` finds a namespace's own /etc files (iproute2
 * bind-mounts /etc/netns/<ns>/* over /etc/*), and `podwire lab exec` too:
 * the lab writes the client machine's resolv.conf there and removes it at
 * lab down.
 */
export function netnsEtcDir(ns: string): string {
  return path.join('/etc/netns', ns);
}

export function peersDocument(plan: LabPlan): { peers: { name: string; nodeIp: string; podCidr: string }[] } {
  return { peers: plan.nodes.map((n) => ({ name: n.name, nodeIp: n.ip, podCidr: n.podCidr })) };
}
