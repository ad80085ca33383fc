// The classic-BPF programs podwire attaches: the underlay packet socket's
// filter (what wakes the agent) and eth0's tc ingress program (what the
// kernel must not also handle). A small interpreter runs them over real
// frames, with the kernel's rules for cBPF: loads past the end of the packet
// end the program with 0, jumps are relative to the next instruction.

import { describe, expect, it } from 'vitest';
import { bpf, compileFilter, underlayFilter, underlayServicesFilter, type BpfInsn } from '../../../src/native/index.js';
import {
  bridgeNodePortDropFilter,
  compileTcBytecode,
  underlayDropFilter,
  underlayServicesDropFilter,
} from '../../../src/agent/tc-filter.js';
import { cmd } from '../../../src/host/index.js';
import {
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  ethernetHeader,
  finishChecksum,
  parseMac,
  sum16,
} from '../../../src/packet/index.js';
import { arpRequestFrame, tcpFrame, udpFrame, vxlanFrame } from '../support/frames.js';

/** Runs a classic BPF program over a packet (only the opcodes bpf.ts emits). */
function run(program: BpfInsn[], pkt: Buffer): number {
  let a = 0;
  let x = 0;
  for (let pc = 0, steps = 0; steps < 4096; pc++, steps++) {
    const i = program[pc];
    if (!i) throw new Error(`pc ${pc} ran off the end of a ${program.length}-instruction program`);
    switch (i.code) {
      case 0x28: // ld h [k]
        if (i.k + 2 > pkt.length) return 0;
        a = pkt.readUInt16BE(i.k);
        break;
      case 0x20: // ld w [k]
        if (i.k + 4 > pkt.length) return 0;
        a = pkt.readUInt32BE(i.k);
        break;
      case 0x35: // jge #k, jt, jf
        pc += a >>> 0 >= i.k >>> 0 ? i.jt : i.jf;
        break;
      case 0x25: // jgt #k, jt, jf
        pc += a >>> 0 > i.k >>> 0 ? i.jt : i.jf;
        break;
      case 0x30: // ld b [k]
        if (i.k + 1 > pkt.length) return 0;
        a = pkt[i.k];
        break;
      case 0xb1: // ldx b 4*([k]&0xf)
        if (i.k + 1 > pkt.length) return 0;
        x = (pkt[i.k] & 0x0f) * 4;
        break;
      case 0x48: // ld h [x + k]
        if (x + i.k + 2 > pkt.length) return 0;
        a = pkt.readUInt16BE(x + i.k);
        break;
      case 0x15: // jeq #k, jt, jf
        pc += a === i.k >>> 0 ? i.jt : i.jf;
        break;
      case 0x45: // jset #k, jt, jf
        pc += (a & i.k) !== 0 ? i.jt : i.jf;
        break;
      case 0x06: // ret #k
        return i.k >>> 0;
      default:
        throw new Error(`opcode 0x${i.code.toString(16)} at ${pc} is not one bpf.ts emits`);
    }
  }
  throw new Error('no ret within 4096 steps');
}

/** What the kernel's checker (bpf_check_classic) insists on: jumps in range, a ret last. */
function checkProgram(program: BpfInsn[]): void {
  expect(program.length).toBeGreaterThan(0);
  expect(program.length).toBeLessThanOrEqual(4096);
  program.forEach((i, pc) => {
    if ((i.code & 0x07) === 0x05) {
      expect(pc + 1 + i.jt, `jt of ${pc}`).toBeLessThan(program.length);
      expect(pc + 1 + i.jf, `jf of ${pc}`).toBeLessThan(program.length);
    }
  });
  expect(program[program.length - 1].code).toBe(0x06);
}

const A = parseMac('02:00:00:00:00:0a');
const B = parseMac('02:00:00:00:00:0b');
const base = { srcMac: A, dstMac: B, src: '172.28.0.12', dst: '172.28.0.11' };
const inner = Buffer.alloc(60, 0xab);

/** Insert IPv4 options (a multiple of 4 bytes) after the fixed header, fixing IHL, length and checksum. */
function withIpOptions(frame: Buffer, options: Buffer): Buffer {
  const out = Buffer.concat([frame.subarray(0, 34), options, frame.subarray(34)]);
  out[14] = 0x40 | ((20 + options.length) / 4);
  out.writeUInt16BE(out.readUInt16BE(16) + options.length, 16);
  out.writeUInt16BE(0, 24);
  out.writeUInt16BE(finishChecksum(sum16(out, 14, 20 + options.length)), 24);
  return out;
}

/** Set flags/fragment offset (bytes 6–7 of the IPv4 header) and fix the checksum. */
function withFragment(frame: Buffer, mf: boolean, offsetBytes: number): Buffer {
  const out = Buffer.from(frame);
  out.writeUInt16BE((mf ? 0x2000 : 0) | (offsetBytes >>> 3), 20);
  out.writeUInt16BE(0, 24);
  out.writeUInt16BE(finishChecksum(sum16(out, 14, 20)), 24);
  return out;
}

const ROUTER_ALERT = Buffer.from([0x94, 0x04, 0x00, 0x00]);
const vxlan = vxlanFrame({ ...base, vni: 1, inner });
const udp = (srcPort: number, dstPort: number) => udpFrame({ ...base, srcPort, dstPort, payload: Buffer.alloc(40) });
const ipv6 = (() => {
  const f = Buffer.alloc(14 + 40 + 8 + 16);
  ethernetHeader.encode({ dst: B, src: A, etherType: ETHERTYPE_IPV6 }, f);
  f[14] = 0x60;
  f.writeUInt16BE(24, 14 + 4);
  f[14 + 6] = 17; // next header UDP
  f[14 + 7] = 64;
  f.writeUInt16BE(50000, 54);
  f.writeUInt16BE(4789, 56);
  f.writeUInt16BE(24, 58);
  return f;
})();
const vlanTagged = Buffer.concat([
  vxlan.subarray(0, 12),
  Buffer.from([ETHERTYPE_VLAN >> 8, ETHERTYPE_VLAN & 0xff, 0, 5]),
  vxlan.subarray(12),
]);

/** Frames and whether each is VXLAN for port 4789 that the agent must see. */
const FRAMES: { what: string; frame: Buffer; vxlan: boolean; arp?: boolean }[] = [
  {
    what: 'ARP request',
    frame: arpRequestFrame({ srcMac: A, senderIp: '172.28.0.12', targetIp: '172.28.0.11' }),
    vxlan: false,
    arp: true,
  },
  { what: 'VXLAN, IHL 5', frame: vxlan, vxlan: true },
  { what: 'VXLAN, IHL 6 (router alert option)', frame: withIpOptions(vxlan, ROUTER_ALERT), vxlan: true },
  { what: 'VXLAN, IHL 15 (40 option bytes)', frame: withIpOptions(vxlan, Buffer.alloc(40, 1)), vxlan: true },
  { what: 'VXLAN first fragment (MF, offset 0)', frame: withFragment(vxlan, true, 0), vxlan: true },
  { what: 'UDP to 53', frame: udp(50000, 53), vxlan: false },
  { what: 'UDP from 4789 to 53 (source port is not destination)', frame: udp(4789, 53), vxlan: false },
  { what: 'UDP to 8472 (Linux’s old VXLAN port)', frame: udp(50000, 8472), vxlan: false },
  // With IHL 6, the bytes an IHL-5 reading takes for the destination port say 4789.
  {
    what: 'UDP to 53, IHL 6, 4789 where an IHL-5 reading looks',
    frame: withIpOptions(udp(50000, 53), Buffer.from([1, 1, 0x12, 0xb5])),
    vxlan: false,
  },
  {
    what: 'TCP to 4789',
    frame: tcpFrame({ ...base, srcPort: 50000, dstPort: 4789, payload: Buffer.alloc(20) }),
    vxlan: false,
  },
  { what: 'IPv6 UDP to 4789', frame: ipv6, vxlan: false },
  { what: '802.1Q-tagged VXLAN', frame: vlanTagged, vxlan: false },
  // A later fragment carries no UDP header; here its data happens to read as port 4789.
  { what: 'later fragment whose data looks like port 4789', frame: withFragment(vxlan, false, 1480), vxlan: false },
  { what: 'last fragment (MF clear, offset 8)', frame: withFragment(vxlan, false, 8), vxlan: false },
  { what: 'IPv4 cut off before the protocol byte', frame: vxlan.subarray(0, 20), vxlan: false },
  { what: 'IPv4 cut off before the UDP port', frame: vxlan.subarray(0, 36), vxlan: false },
  { what: 'empty frame', frame: Buffer.alloc(0), vxlan: false },
];

describe('underlayFilter (SO_ATTACH_FILTER on the underlay socket)', () => {
  const program = underlayFilter(4789);

  it('is a program the kernel accepts', () => checkProgram(program));

  const table = FRAMES.map((f) => ({ ...f, verdict: f.vxlan || f.arp ? 'accept' : 'drop' }));
  it.each(table)('$what → $verdict', ({ frame, verdict }) => {
    expect(run(program, frame)).toBe(verdict === 'accept' ? 0x40000 : 0);
  });

  it('accepts whole frames: the snap length covers a 64 KiB GSO super-frame', () => {
    expect(run(program, vxlan)).toBeGreaterThanOrEqual(65536 + 14);
  });

  it('follows the configured port', () => {
    const other = vxlanFrame({ ...base, vni: 1, inner, dstPort: 8472 });
    expect(run(underlayFilter(8472), other)).toBe(0x40000);
    expect(run(underlayFilter(8472), vxlan)).toBe(0);
  });
});

describe('underlayDropFilter (tc ingress on eth0)', () => {
  const program = underlayDropFilter(4789);

  it('is a program the kernel accepts', () => checkProgram(program));

  const table = FRAMES.map((f) => ({ ...f, verdict: f.vxlan ? 'TC_ACT_SHOT (2)' : 'TC_ACT_OK (0)' }));
  it.each(table)('$what → $verdict', ({ frame, vxlan: isVxlan }) => {
    expect(run(program, frame)).toBe(isVxlan ? 2 : 0);
  });
});

describe('encodings', () => {
  it('compileFilter: struct sock_filter, 8 bytes each, code and k little-endian (tcpdump -dd order)', () => {
    const bytes = compileFilter(underlayFilter(4789));
    expect(bytes.toString('hex').match(/.{16}/g)).toEqual([
      '280000000c000000', // ldh [12]
      '1500080006080000', // jeq #0x806, 8, 0
      '1500000800080000', // jeq #0x800, 0, 8
      '3000000017000000', // ldb [23]
      '1500000611000000', // jeq #17, 0, 6
      '2800000014000000', // ldh [20]
      '45000400ff1f0000', // jset #0x1fff, 4, 0
      'b10000000e000000', // ldxb 4*([14]&0xf)
      '4800000010000000', // ldh [x + 16]
      '15000001b5120000', // jeq #4789, 0, 1
      '0600000000000400', // ret #0x40000
      '0600000000000000', // ret #0
    ]);
  });

  it('compileFilter writes k as unsigned 32 bits and keeps jt/jf as single bytes', () => {
    const bytes = compileFilter([bpf.jeq(0xffffffff, 255, 7), bpf.ret(0x80000000)]);
    expect(bytes.toString('hex')).toBe('1500ff07ffffffff' + '0600000000000080');
    expect(compileFilter([])).toHaveLength(0);
  });

  it('compileTcBytecode: "N,code jt jf k,..." in decimal, as tc bpf bytecode reads it', () => {
    expect(compileTcBytecode(underlayDropFilter(4789))).toBe(
      '11,40 0 0 12,21 0 8 2048,48 0 0 23,21 0 6 17,40 0 0 20,69 4 0 8191,177 0 0 14,72 0 0 16,21 0 1 4789,6 0 0 2,6 0 0 0',
    );
    expect(compileTcBytecode([bpf.ret(0xffffffff)])).toBe('1,6 0 0 4294967295');
  });

  it('the tc command carries the bytecode as one argv element, direct-action', () => {
    const bytecode = compileTcBytecode(underlayDropFilter(4789));
    expect(cmd.tcIngressBpf(undefined, 'eth0', bytecode)).toEqual([
      'tc',
      'filter',
      'replace',
      'dev',
      'eth0',
      'ingress',
      'pref',
      '100',
      'handle',
      '1',
      'bpf',
      'da',
      'bytecode',
      bytecode,
    ]);
  });
});

describe('underlay programs of an agent running Services', () => {
  const node = '172.28.0.11';
  const ports = {
    nodeIp: 0xac1c000b,
    nodePorts: [30000, 32767] as [number, number],
    natPorts: [61000, 65535] as [number, number],
  };
  const mac = parseMac('02:42:ac:1c:00:0b');
  const other = parseMac('02:42:ac:1c:00:64');
  const tcp = (dst: string, dstPort: number, dstMac = mac) =>
    tcpFrame({ srcMac: other, dstMac, src: '172.28.0.100', dst, srcPort: 40000, dstPort, payload: Buffer.alloc(0) });
  const udp = (dst: string, dstPort: number, dstMac = mac) =>
    udpFrame({ srcMac: other, dstMac, src: '172.28.0.100', dst, srcPort: 40000, dstPort, payload: Buffer.from('x') });
  const cases: [string, Buffer, boolean, boolean][] = [
    // what, frame, the agent's socket takes it, tc keeps it from the kernel
    ['ARP', arpRequestFrame({ srcMac: other, senderIp: '172.28.0.100', targetIp: node }), true, false],
    ['VXLAN', udp(node, 4789), true, true],
    ['TCP to a NodePort', tcp(node, 30080), true, true],
    ['UDP to the top of the NodePort range', udp(node, 32767), true, true],
    ['TCP to a NAT port (masquerade reply)', tcp(node, 61000), true, true],
    ['UDP to the last NAT port', udp(node, 65535), true, true],
    ['TCP to the kubelet (10250)', tcp(node, 10250), false, false],
    ['TCP to an ephemeral port of the node (its own connections)', tcp(node, 45000), false, false],
    ['TCP to a health-check node port (kernel-served)', tcp(node, 31999), true, false],
    ['TCP to a LoadBalancer IP steered to this MAC', tcp('172.28.0.240', 80), true, false],
    ['UDP broadcast', udp('172.28.0.255', 5000, parseMac('ff:ff:ff:ff:ff:ff')), false, false],
  ];
  it.each(cases)('%s → agent %s, kernel-dropped %s', (_what, frame, agent, shot) => {
    expect(run(underlayServicesFilter(4789, ports), frame) > 0).toBe(agent);
    expect(run(underlayServicesDropFilter(4789, ports, [31999]), frame)).toBe(shot ? 2 : 0);
  });
  it('both programs pass the kernel checker and compile to tc bytecode', () => {
    checkProgram(underlayServicesFilter(4789, ports));
    checkProgram(underlayServicesDropFilter(4789, ports, [31999, 32000]));
    expect(compileTcBytecode(underlayServicesDropFilter(4789, ports)).split(',')[0]).toBe(
      String(underlayServicesDropFilter(4789, ports).length),
    );
  });
});

describe("cbr0's tc program (a pod calling its own node's NodePort)", () => {
  const gw = parseMac('0a:58:0a:f4:01:01');
  const pod = parseMac('0a:58:0a:f4:01:02');
  const tcp = (dst: string, dstPort: number) =>
    tcpFrame({ srcMac: pod, dstMac: gw, src: '10.244.1.2', dst, srcPort: 40000, dstPort, payload: Buffer.alloc(0) });
  it.each([
    ['a NodePort on the node IP', tcp('172.28.0.11', 30080), 2],
    ['a NodePort on the gateway', tcp('10.244.1.1', 32767), 2],
    ['a health-check node port (the kernel serves it)', tcp('172.28.0.11', 31999), 0],
    ['the kubelet on the node', tcp('172.28.0.11', 10250), 0],
    ['ARP', arpRequestFrame({ srcMac: pod, senderIp: '10.244.1.2', targetIp: '10.244.1.1' }), 0],
  ] as [string, Buffer, number][])('%s → %i', (_w, frame, verdict) => {
    const p = bridgeNodePortDropFilter([30000, 32767], [31999]);
    checkProgram(p);
    expect(run(p, frame)).toBe(verdict);
  });
});
