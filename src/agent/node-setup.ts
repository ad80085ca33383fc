import fs from 'node:fs';
import { cmd, type CommandRunner } from '../host/index.js';
import { showLink } from '../host/links.js';
import { compileTcBytecode, underlayDropFilter } from './tc-filter.js';
import { macToString, ipv4ToString } from '../packet/index.js';
import type { NodeConfig } from './config.js';

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
export function nodeSetupPlan(cfg: NodeConfig, gatewayCidr: string, gatewayMac: Buffer, bridgeExists: boolean): string[][] {
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

export async function setUpNode(runner: CommandRunner, cfg: NodeConfig, gatewayIp: number, gatewayMac: Buffer): Promise<void> {
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
