import { bpf, type BpfInsn } from '../native/bpf.js';

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

/** `tc ... bpf bytecode "N,code jt jf k,..."` text form of a classic program. */
export function compileTcBytecode(program: BpfInsn[]): string {
  return [String(program.length), ...program.map((p) => `${p.code} ${p.jt} ${p.jf} ${p.k >>> 0}`)].join(',');
}
