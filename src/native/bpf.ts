import { NativeError } from './errors.js';
/**
 * A tiny classic-BPF assembler (struct sock_filter), for socket filters that
 * keep frames the agent does not own from ever waking it up.
 * Opcodes from linux/filter.h; programs are plain data so tests can read them.
 */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const BPF_LD = 0x00,
  BPF_LDX = 0x01,
  BPF_JMP = 0x05,
  BPF_RET = 0x06;
const BPF_W = 0x00,
  BPF_H = 0x08,
  BPF_B = 0x10;
const BPF_ABS = 0x20,
  BPF_IND = 0x40,
  BPF_MSH = 0xa0;
const BPF_JEQ = 0x10,
  BPF_JGT = 0x20,
  BPF_JGE = 0x30,
  BPF_JSET = 0x40,
  BPF_K = 0x00;

const ins = (code: number, k: number, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k });

export const bpf = {
  ldhAbs: (off: number) => ins(BPF_LD | BPF_H | BPF_ABS, off),
  ldbAbs: (off: number) => ins(BPF_LD | BPF_B | BPF_ABS, off),
  ldwAbs: (off: number) => ins(BPF_LD | BPF_W | BPF_ABS, off),
  /** X = 4 * (pkt[off] & 0x0f): the IPv4 header length. */
  ldxIpHeaderLen: (off: number) => ins(BPF_LDX | BPF_B | BPF_MSH, off),
  ldhInd: (off: number) => ins(BPF_LD | BPF_H | BPF_IND, off),
  jeq: (k: number, jt: number, jf: number) => ins(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf),
  jset: (k: number, jt: number, jf: number) => ins(BPF_JMP | BPF_JSET | BPF_K, k, jt, jf),
  jge: (k: number, jt: number, jf: number) => ins(BPF_JMP | BPF_JGE | BPF_K, k, jt, jf),
  jgt: (k: number, jt: number, jf: number) => ins(BPF_JMP | BPF_JGT | BPF_K, k, jt, jf),
  ret: (k: number) => ins(BPF_RET | BPF_K, k),
};

/** cBPF's ancillary load of skb->dev->ifindex (SKF_AD_OFF + SKF_AD_IFINDEX) */
const SKF_AD_IFINDEX = (0xfffff000 + 8) >>> 0;

/**
 * For a socket on every interface: frames on any interface but `excluded`.
 * The agent's pod socket takes each pod frame where it enters the node, on
 * the pod's own veth — not on cbr0 (excluded with lo, eth0 and the node's
 * own kernel port), where the bridge would hide which port it came from.
 */
export function exceptInterfacesFilter(excluded: readonly number[]): BpfInsn[] {
  return assemble([
    bpf.ldwAbs(SKF_AD_IFINDEX),
    ...excluded.map((i) => ({ jump: 'jeq' as const, k: i, yes: 'drop', no: 'next' })),
    bpf.ret(ACCEPT_ALL),
    { label: 'drop' },
    bpf.ret(0),
  ]);
}

/** cBPF's ancillary load of skb->pkt_type (SKF_AD_OFF + SKF_AD_PKTTYPE) */
const SKF_AD_PKTTYPE = (0xfffff000 + 4) >>> 0;
const PACKET_OUTGOING = 4;

/**
 * `program` (compiled), but frames this host sends dropped first. A fanout
 * group registers its own hook with the kernel, so a member's
 * PACKET_IGNORE_OUTGOING is not honoured (PACKET_FANOUT_FLAG_IGNORE_OUTGOING
 * is, on kernels from 2023 on only): the filter does it, on any kernel.
 * Prepending keeps cBPF's forward-relative jumps valid.
 */
export function withoutOutgoing(program: Buffer | undefined): Buffer {
  const head = compileFilter([bpf.ldwAbs(SKF_AD_PKTTYPE), bpf.jeq(PACKET_OUTGOING, 0, 1), bpf.ret(0)]);
  return Buffer.concat([head, program ?? compileFilter([bpf.ret(ACCEPT_ALL)])]);
}

/** Nothing at all: a socket only sent from. */
export const DROP_ALL_FILTER: BpfInsn[] = [bpf.ret(0)];

/** Encode a program for SO_ATTACH_FILTER (host byte order: little-endian here). */
export function compileFilter(program: BpfInsn[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((p, i) => {
    out.writeUInt16LE(p.code, i * 8);
    out.writeUInt8(p.jt, i * 8 + 2);
    out.writeUInt8(p.jf, i * 8 + 3);
    out.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return out;
}

const ACCEPT_ALL = 0x40000; // snap length: whole frames, GSO super-frames included

/**
 * The underlay socket's filter: ARP, and unfragmented IPv4/UDP to `udpPort`
 * (VXLAN). Equivalent to tcpdump's `arp or (udp dst port 4789 and not ip[6:2] & 0x1fff != 0)`.
 */
export function underlayFilter(udpPort: number): BpfInsn[] {
  return [
    bpf.ldhAbs(12), //               0: ethertype
    bpf.jeq(0x0806, 8, 0), //        1: ARP -> accept
    bpf.jeq(0x0800, 0, 8), //        2: not IPv4 -> drop
    bpf.ldbAbs(23), //               3: IP protocol
    bpf.jeq(17, 0, 6), //            4: not UDP -> drop
    bpf.ldhAbs(20), //               5: flags + fragment offset
    bpf.jset(0x1fff, 4, 0), //       6: a later fragment has no UDP header -> drop
    bpf.ldxIpHeaderLen(14), //       7: X = IP header length
    bpf.ldhInd(16), //               8: UDP destination port (14 + X + 2)
    bpf.jeq(udpPort, 0, 1), //       9
    bpf.ret(ACCEPT_ALL), //         10
    bpf.ret(0), //                  11
  ];
}

/**
 * Programs with labels instead of counted offsets: a jump names where it
 * goes (`'next'` is the following instruction); `assemble` resolves the
 * names to cBPF's forward-relative offsets and refuses a backward jump.
 */
export type AsmLine =
  BpfInsn | { label: string } | { jump: 'jeq' | 'jset' | 'jge' | 'jgt'; k: number; yes: string; no: string };

export function assemble(lines: AsmLine[]): BpfInsn[] {
  const at = new Map<string, number>();
  let pc = 0;
  for (const l of lines) {
    if ('label' in l) at.set(l.label, pc);
    else pc++;
  }
  const out: BpfInsn[] = [];
  for (const l of lines) {
    if ('label' in l) continue;
    if (!('jump' in l)) {
      out.push(l);
      continue;
    }
    const here = out.length;
    const rel = (name: string): number => {
      if (name === 'next') return 0;
      const to = at.get(name);
      if (to === undefined) throw new NativeError('ERR_BPF', `bpf: no label ${name}`);
      if (to <= here || to - here - 1 > 255)
        throw new NativeError('ERR_BPF', `bpf: jump from ${here} to ${name} (${to}) is not a short forward jump`);
      return to - here - 1;
    };
    out.push(bpf[l.jump](l.k, rel(l.yes), rel(l.no)));
  }
  return out;
}

/**
 * The prologue every TCP/UDP program shares: IPv4, TCP or UDP, not a later
 * fragment (which has no ports); then X = IP header length and A = the
 * destination port. Anything else jumps to `other`.
 */
export function tcpUdpDstPort(other: string): AsmLine[] {
  return [
    bpf.ldhAbs(12),
    { jump: 'jeq', k: 0x0800, yes: 'next', no: other },
    bpf.ldbAbs(23),
    { jump: 'jeq', k: 17, yes: 'l4', no: 'next' },
    { jump: 'jeq', k: 6, yes: 'l4', no: other },
    { label: 'l4' },
    bpf.ldhAbs(20),
    { jump: 'jset', k: 0x1fff, yes: other, no: 'next' },
    bpf.ldxIpHeaderLen(14),
    bpf.ldhInd(16),
  ];
}

/** A in [lo, hi] → `inside`, else `outside`; the label `after` must not be used elsewhere. */
export function inRange(lo: number, hi: number, inside: string, outside: string, after: string): AsmLine[] {
  return [
    { jump: 'jge', k: lo, yes: after, no: outside },
    { label: after },
    { jump: 'jgt', k: hi, yes: outside, no: inside },
  ];
}

/** What the agent owns on the underlay once it runs Services (see underlayServicesFilter). */
export interface UnderlayPorts {
  nodeIp: number;
  nodePorts: [number, number];
  natPorts: [number, number];
}

/**
 * The underlay socket's filter for an agent running Services: ARP; VXLAN
 * to `udpPort`; unfragmented TCP/UDP to the node IP in the NodePort range
 * (Services) or the NAT range (replies to masqueraded and SNATed flows);
 * and unicast TCP/UDP to any other address (LoadBalancer and external IPs
 * steered to this node by MAC). Everything else is the node kernel's and
 * never wakes the agent.
 */
export function underlayServicesFilter(udpPort: number, p: UnderlayPorts): BpfInsn[] {
  return assemble([
    bpf.ldhAbs(12),
    { jump: 'jeq', k: 0x0806, yes: 'accept', no: 'next' },
    ...tcpUdpDstPort('drop'),
    { jump: 'jeq', k: udpPort, yes: 'accept', no: 'next' },
    bpf.ldwAbs(30),
    { jump: 'jeq', k: p.nodeIp >>> 0, yes: 'ports', no: 'next' },
    bpf.ldbAbs(0),
    { jump: 'jset', k: 1, yes: 'drop', no: 'accept' }, // group (broadcast/multicast) frames are not ours
    { label: 'ports' },
    bpf.ldhInd(16),
    ...inRange(p.nodePorts[0], p.nodePorts[1], 'accept', 'nat', 'np'),
    { label: 'nat' },
    ...inRange(p.natPorts[0], p.natPorts[1], 'accept', 'drop', 'natp'),
    { label: 'accept' },
    bpf.ret(ACCEPT_ALL),
    { label: 'drop' },
    bpf.ret(0),
  ]);
}
