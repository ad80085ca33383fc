import fs from 'node:fs';
import { cmd, type CommandRunner } from '../host/index.js';
import { showLink } from '../host/index.js';
import { compileTcBytecode, underlayDropFilter } from './tc-filter.js';
import { macToString, ipv4ToString, parseMac } from '../packet/index.js';
import type { NodeConfig } from './config.js';
import { AgentError } from './errors.js';

/**
 * The node's plumbing, made idempotently by the agent inside its own
 * namespace (and nowhere else):
 * - cbr0, a bridge with the gateway address: pods' ports on it are isolated,
 *   so the only way between two pods is up through cbr0 to the agent;
 * - kernel forwarding off on cbr0 and eth0: the agent is the router;
 * - a tc classifier on eth0 ingress that drops VXLAN *after* the agent's
 *   packet socket has seen it, so the kernel never answers it with ICMP
 *   port-unreachable nor does the work twice. (tc bpf, not netfilter.)
 */
export function nodeSetupPlan(
  cfg: NodeConfig,
  gatewayCidr: string,
  gatewayMac: Buffer,
  bridgeExists: boolean,
): string[][] {
  const br = cfg.bridge;
  return [
    ...(bridgeExists ? [] : [cmd.bridgeAdd(undefined, br, macToString(gatewayMac))]),
    cmd.linkSet(undefined, br, 'address', macToString(gatewayMac)),
    cmd.linkSet(undefined, br, 'addrgenmode', 'none'),
    cmd.linkSet(undefined, br, 'mtu', String(cfg.podMtu), 'up'),
    cmd.addrAdd(undefined, gatewayCidr, br),
    cmd.tcClsact(undefined, cfg.underlayIf),
    cmd.tcIngressBpf(undefined, cfg.underlayIf, compileTcBytecode(underlayDropFilter(cfg.vxlanPort))),
  ];
}

export async function setUpNode(
  runner: CommandRunner,
  cfg: NodeConfig,
  gatewayIp: number,
  gatewayMac: Buffer,
): Promise<void> {
  const exists = (await showLink(runner, undefined, cfg.bridge)) !== null;
  const gatewayCidr = `${ipv4ToString(gatewayIp)}/${cfg.podCidr.prefixLen}`;
  for (const argv of nodeSetupPlan(cfg, gatewayCidr, gatewayMac, exists)) await runner.run(argv);
  // This namespace is the agent's own: sysctls here touch nothing else.
  for (const dev of [cfg.bridge, cfg.underlayIf]) {
    fs.writeFileSync(`/proc/sys/net/ipv4/conf/${dev}/forwarding`, '0');
  }
  disableBridgeNetfilter();
}

/**
 * Where the kernel has br_netfilter (Docker hosts load it), new namespaces
 * start with bridge-nf-call-iptables=1: every frame crossing cbr0 then runs
 * netfilter's bridge hooks, which also validate IPv4 and silently drop bad
 * headers before the agent sees them — unexplainable drops, and per-frame
 * cost. podwire is netfilter-free, so the agent turns the hooks off here.
 */
export const BRIDGE_NF_SYSCTLS = ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables', 'bridge-nf-call-arptables'];

export function disableBridgeNetfilter(): void {
  for (const name of BRIDGE_NF_SYSCTLS) {
    const file = `/proc/sys/net/bridge/${name}`;
    if (fs.existsSync(file)) fs.writeFileSync(file, '0');
  }
}

/** The node's own port on cbr0: the kernel's side (pwh0) and the bridge's (pwh1). */
export const HOST_PORT = { kernel: 'pwh0', bridge: 'pwh1' };

/**
 * The node's own traffic to the cluster goes through the agent, like a
 * pod's: a veth pair whose bridge end is an isolated port of cbr0, and
 * routes in the node for every pod (the cluster CIDR, and this node's pod
 * CIDR split in two halves, more specific than cbr0's connected /24) and
 * every Service IP, via the node's Service SNAT address, which the agent
 * answers ARP for. So `curl <ClusterIP>` or `ping <pod on another node>`
 * from the node works, and trace, observe and capture see it. Replies to
 * the node come back through the agent too (it hands them to pwh0).
 */
export function hostPortPlan(cfg: NodeConfig, gatewayIp: string, nextHop: string, linkExists: boolean): string[][] {
  const { kernel, bridge } = HOST_PORT;
  const half = cfg.podCidr.prefixLen + 1;
  const halves = [cfg.podCidr.network, (cfg.podCidr.network + 2 ** (32 - half)) >>> 0].map(
    (n) => `${ipv4ToString(n)}/${half}`,
  );
  const via = ['via', nextHop, 'dev', kernel, 'onlink', 'src', gatewayIp];
  const s = cfg.services;
  return [
    ...(linkExists ? [] : [cmd.vethAdd(undefined, kernel, bridge, undefined, cfg.podMtu)]),
    cmd.linkSet(undefined, kernel, 'addrgenmode', 'none', 'mtu', String(cfg.podMtu)),
    cmd.linkSet(undefined, bridge, 'addrgenmode', 'none', 'mtu', String(cfg.podMtu)),
    cmd.linkSet(undefined, bridge, 'master', cfg.bridge),
    cmd.bridgePortIsolate(undefined, bridge),
    cmd.linkUp(undefined, bridge),
    cmd.linkUp(undefined, kernel),
    ...[
      `${ipv4ToString(s.clusterCidr.network)}/${s.clusterCidr.prefixLen}`,
      ...halves,
      `${ipv4ToString(s.serviceCidr.network)}/${s.serviceCidr.prefixLen}`,
    ].map((dst) => cmd.routeReplace(undefined, dst, ...via)),
  ];
}

/** Make the host port (idempotent); returns the kernel end's MAC, the address the agent hands the node's frames to. */
export async function setUpHostPort(
  runner: CommandRunner,
  cfg: NodeConfig,
  gatewayIp: number,
  nextHop: number,
): Promise<Buffer> {
  const exists = (await showLink(runner, undefined, HOST_PORT.kernel)) !== null;
  for (const argv of hostPortPlan(cfg, ipv4ToString(gatewayIp), ipv4ToString(nextHop), exists)) await runner.run(argv);
  const link = await showLink(runner, undefined, HOST_PORT.kernel);
  const mac = link?.address;
  if (!mac) throw new AgentError('ERR_NO_NODE_ADDRESS', `${HOST_PORT.kernel} has no MAC address`);
  await runner.run(cmd.bridgeFdbStatic(undefined, mac, HOST_PORT.bridge));
  // Replies from pods arrive on cbr0, requests leave on pwh0: not a spoofed path.
  for (const dev of [HOST_PORT.kernel, cfg.bridge]) fs.writeFileSync(`/proc/sys/net/ipv4/conf/${dev}/rp_filter`, '0');
  return parseMac(mac);
}
