import { assemble, bpf, inRange, tcpUdpDstPort, type BpfInsn, type UnderlayPorts } from '../native/index.js';

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;

/** tc ingress program on eth0: VXLAN to our port is the agent's alone (TC_ACT_SHOT after the tap). */
export function underlayDropFilter(udpPort: number): BpfInsn[] {
  return [
    bpf.ldhAbs(12), //              0: ethertype
    bpf.jeq(0x0800, 0, 8), //       1: not IPv4 -> ok
    bpf.ldbAbs(23), //              2: protocol
    bpf.jeq(17, 0, 6), //           3: not UDP -> ok
    bpf.ldhAbs(20), //              4: fragment bits
    bpf.jset(0x1fff, 4, 0), //      5: later fragment -> ok (kernel reassembly is not ours)
    bpf.ldxIpHeaderLen(14), //      6
    bpf.ldhInd(16), //              7: UDP destination port
    bpf.jeq(udpPort, 0, 1), //      8
    bpf.ret(TC_ACT_SHOT), //        9
    bpf.ret(TC_ACT_OK), //         10
  ];
}

/**
 * eth0's tc ingress program for an agent running Services: besides VXLAN,
 * TCP/UDP to the node IP in the NodePort and NAT ranges is the agent's
 * alone (a kernel without a socket there would answer with resets). The
 * health-check node ports (`kernelPorts`) are served by the node's kernel
 * (the agent's HTTP servers), so they pass.
 */
export function underlayServicesDropFilter(
  udpPort: number,
  p: UnderlayPorts,
  kernelPorts: readonly number[] = [],
): BpfInsn[] {
  return assemble([
    ...tcpUdpDstPort('ok'),
    { jump: 'jeq', k: udpPort, yes: 'shot', no: 'next' },
    bpf.ldwAbs(30),
    { jump: 'jeq', k: p.nodeIp >>> 0, yes: 'next', no: 'ok' },
    bpf.ldhInd(16),
    ...kernelPorts.map((port) => ({ jump: 'jeq' as const, k: port, yes: 'ok', no: 'next' })),
    ...inRange(p.nodePorts[0], p.nodePorts[1], 'shot', 'nat', 'np'),
    { label: 'nat' },
    ...inRange(p.natPorts[0], p.natPorts[1], 'shot', 'ok', 'natp'),
    { label: 'shot' },
    bpf.ret(TC_ACT_SHOT),
    { label: 'ok' },
    bpf.ret(TC_ACT_OK),
  ]);
}

/**
 * cbr0's tc ingress program: a pod calling a NodePort on its own node's
 * address sends to the gateway MAC, so the node's kernel gets a copy too
 * and, with no socket on the port, would reset the connection before the
 * agent's answer arrives. TCP/UDP to the NodePort range (health-check
 * ports excepted) is the agent's alone here as on eth0.
 */
export function bridgeNodePortDropFilter(nodePorts: [number, number], kernelPorts: readonly number[] = []): BpfInsn[] {
  return assemble([
    ...tcpUdpDstPort('ok'),
    ...kernelPorts.map((port) => ({ jump: 'jeq' as const, k: port, yes: 'ok', no: 'next' })),
    ...inRange(nodePorts[0], nodePorts[1], 'shot', 'ok', 'np'),
    { label: 'shot' },
    bpf.ret(TC_ACT_SHOT),
    { label: 'ok' },
    bpf.ret(TC_ACT_OK),
  ]);
}

/** `tc ... bpf bytecode "N,code jt jf k,..."` text form of a classic program. */
export function compileTcBytecode(program: BpfInsn[]): string {
  return [String(program.length), ...program.map((p) => `${p.code} ${p.jt} ${p.jf} ${p.k >>> 0}`)].join(',');
}
