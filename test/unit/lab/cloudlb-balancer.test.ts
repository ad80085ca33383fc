// The cloud load balancer's per-frame decisions, on frames built here: ARP
// for its EXTERNAL-IPs, node MACs learned from ARP, each flow to one node.

import { describe, expect, it, beforeEach } from 'vitest';
import {
  ARP_REPLY,
  ARP_REQUEST,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_ACK,
  TCP_SYN,
  arpPacket,
  ethernetHeader,
  ipv4Header,
  parseIpv4,
  parseMac,
  udpHeader,
  tcpHeader,
  BROADCAST_MAC,
} from '../../../src/packet/index.js';
import { Balancer, portKey, poolFilter, parsePool, type LbDecision } from '../../../src/cloudlb/index.js';

const LB_MAC = parseMac('02:00:00:00:00:03');
const CLIENT_MAC = parseMac('02:00:00:00:00:64');
const NODE_MACS = [parseMac('02:00:00:00:00:0b'), parseMac('02:00:00:00:00:0c')];
const VIP = parseIpv4('172.28.0.240');
const CLIENT = parseIpv4('172.28.0.100');
const N1 = parseIpv4('172.28.0.11');
const N2 = parseIpv4('172.28.0.12');

function arpFrame(op: number, senderMac: Buffer, senderIp: number, targetIp: number, dst = BROADCAST_MAC): Buffer {
  const f = Buffer.alloc(60);
  ethernetHeader.encode({ dst, src: senderMac, etherType: ETHERTYPE_ARP }, f, 0);
  arpPacket.encode({ op, senderMac, senderIp, targetMac: Buffer.alloc(6), targetIp }, f, 14);
  return f;
}

function ipFrame(
  proto: number,
  srcPort: number,
  dstPort: number,
  opts: { flags?: number; dst?: number; dstMac?: Buffer; src?: number } = {},
): Buffer {
  const l4 = proto === IPPROTO_TCP ? 20 : 8;
  const f = Buffer.alloc(14 + 20 + l4);
  ethernetHeader.encode({ dst: opts.dstMac ?? LB_MAC, src: CLIENT_MAC, etherType: ETHERTYPE_IPV4 }, f, 0);
  ipv4Header.encode({ src: opts.src ?? CLIENT, dst: opts.dst ?? VIP, protocol: proto, payloadLength: l4 }, f, 14);
  if (proto === IPPROTO_TCP)
    tcpHeader.encode(
      {
        srcPort,
        dstPort,
        seq: 1,
        ack: 0,
        flags: opts.flags ?? TCP_SYN,
        window: 65535,
        checksum: 0,
        urgentPointer: 0,
        options: Buffer.alloc(0),
      },
      f,
      34,
    );
  else if (proto === IPPROTO_UDP) udpHeader.encode({ srcPort, dstPort, length: 8, checksum: 0 }, f, 34);
  return f;
}

const decide = (b: Balancer, f: Buffer, now = 0): LbDecision => b.decide(f, 0, f.length, now);
const nodeOf = (d: LbDecision) =>
  d.kind === 'forward' ? d.node.name : d.kind === 'drop' ? `drop:${d.reason}` : d.kind;

let b: Balancer;
beforeEach(() => {
  b = new Balancer(LB_MAC);
  b.setNodes([
    { name: 'node1', ip: N1 },
    { name: 'node2', ip: N2 },
  ]);
  b.setFrontends([
    { service: 'default/web', ip: VIP, ports: new Set([portKey(IPPROTO_TCP, 80), portKey(IPPROTO_UDP, 53)]) },
  ]);
  b.setCandidates('default/web', { ips: [N1, N2], failOpen: true });
});

const learnNodes = () => {
  decide(b, arpFrame(ARP_REPLY, NODE_MACS[0], N1, parseIpv4('172.28.0.3'), LB_MAC));
  decide(b, arpFrame(ARP_REQUEST, NODE_MACS[1], N2, parseIpv4('172.28.0.2')));
};

describe('Balancer: ARP', () => {
  it('answers who-has for an EXTERNAL-IP it holds, and nothing else', () => {
    expect(decide(b, arpFrame(ARP_REQUEST, CLIENT_MAC, CLIENT, VIP)).kind).toBe('arp-reply');
    expect(decide(b, arpFrame(ARP_REQUEST, CLIENT_MAC, CLIENT, parseIpv4('172.28.0.241'))).kind).toBe('ignore');
    expect(decide(b, arpFrame(ARP_REQUEST, CLIENT_MAC, VIP, VIP)).kind).toBe('ignore'); // someone else's gratuitous ARP
    expect(b.counters.arpReplies).toBe(1);
  });

  it('learns node MACs from their ARP (requests and replies), not from other machines', () => {
    learnNodes();
    decide(b, arpFrame(ARP_REQUEST, CLIENT_MAC, CLIENT, N1));
    expect(b.nodes.get(N1)!.mac).toEqual(NODE_MACS[0]);
    expect(b.nodes.get(N2)!.mac).toEqual(NODE_MACS[1]);
    expect([...b.nodes.values()].map((n) => n.mac)).not.toContainEqual(CLIENT_MAC);
  });

  it('keeps learned MACs when the node list is set again, forgets removed nodes', () => {
    learnNodes();
    b.setNodes([{ name: 'node1', ip: N1 }]);
    expect(b.nodes.get(N1)!.mac).toEqual(NODE_MACS[0]);
    expect(b.nodes.has(N2)).toBe(false);
  });
});

describe('Balancer: forwarding', () => {
  it('waits for the node’s MAC (the forwarder ARPs), then forwards', () => {
    const d = decide(b, ipFrame(IPPROTO_TCP, 40000, 80));
    expect(d).toMatchObject({ kind: 'drop', reason: 'node-mac-unresolved' });
    learnNodes();
    const f = decide(b, ipFrame(IPPROTO_TCP, 40000, 80, { flags: TCP_ACK }));
    expect(f.kind).toBe('forward');
    expect(b.counters.forwarded).toBe(1);
  });

  it('sends every frame of a flow to one node, and spreads flows over both', () => {
    learnNodes();
    const seen = new Set<string>();
    for (let port = 40000; port < 40040; port++) {
      const first = nodeOf(decide(b, ipFrame(IPPROTO_TCP, port, 80)));
      for (let i = 0; i < 3; i++)
        expect(nodeOf(decide(b, ipFrame(IPPROTO_TCP, port, 80, { flags: TCP_ACK })))).toBe(first);
      seen.add(first);
    }
    expect([...seen].sort()).toEqual(['node1', 'node2']);
  });

  it('reports a new flow once, with its addresses and ports', () => {
    learnNodes();
    const d = decide(b, ipFrame(IPPROTO_UDP, 5353, 53));
    expect(d).toMatchObject({
      kind: 'forward',
      flow: { src: CLIENT, dst: VIP, proto: IPPROTO_UDP, ports: (5353 << 16) | 53 },
    });
    expect(decide(b, ipFrame(IPPROTO_UDP, 5353, 53))).not.toHaveProperty('flow');
  });

  it('keeps an established TCP connection on its node when the node turns unhealthy; a new SYN moves', () => {
    learnNodes();
    let port = 40000;
    while (nodeOf(decide(b, ipFrame(IPPROTO_TCP, port, 80))) !== 'node2') port++;
    b.setCandidates('default/web', { ips: [N1], failOpen: false });
    expect(nodeOf(decide(b, ipFrame(IPPROTO_TCP, port, 80, { flags: TCP_ACK })))).toBe('node2');
    expect(nodeOf(decide(b, ipFrame(IPPROTO_TCP, port, 80)))).toBe('node1');
  });

  it('moves a UDP flow off a node that is no longer a candidate', () => {
    learnNodes();
    let port = 5000;
    while (nodeOf(decide(b, ipFrame(IPPROTO_UDP, port, 53))) !== 'node2') port++;
    b.setCandidates('default/web', { ips: [N1], failOpen: false });
    expect(nodeOf(decide(b, ipFrame(IPPROTO_UDP, port, 53)))).toBe('node1');
  });

  it('drops with a reason: other ports, ICMP, addresses no Service holds, other MACs, no nodes, truncated', () => {
    learnNodes();
    expect(nodeOf(decide(b, ipFrame(IPPROTO_TCP, 40000, 443)))).toBe('drop:no-port');
    expect(nodeOf(decide(b, ipFrame(IPPROTO_ICMP, 0, 0)))).toBe('drop:no-port');
    expect(nodeOf(decide(b, ipFrame(IPPROTO_TCP, 40000, 80, { dst: parseIpv4('172.28.0.241') })))).toBe(
      'drop:no-frontend',
    );
    expect(nodeOf(decide(b, ipFrame(IPPROTO_TCP, 40000, 80, { dstMac: NODE_MACS[0] })))).toBe('drop:not-for-us');
    const f = ipFrame(IPPROTO_TCP, 40000, 80);
    expect(nodeOf(b.decide(f, 0, 30, 0))).toBe('drop:malformed');
    b.setCandidates('default/web', { ips: [], failOpen: false });
    expect(nodeOf(decide(b, ipFrame(IPPROTO_TCP, 40000, 80)))).toBe('drop:no-node');
    expect(b.counters.drops).toMatchObject({
      'no-port': 2,
      'no-frontend': 1,
      'not-for-us': 1,
      malformed: 1,
      'no-node': 1,
    });
  });
});

describe('poolFilter', () => {
  it('is ARP, or IPv4 to the pool: `arp or dst net <pool>` in classic BPF', () => {
    const p = parsePool('172.28.0.240-172.28.0.254');
    const prog = poolFilter(p);
    // a tiny interpreter for the opcodes used
    const run = (f: Buffer): number => {
      let a = 0;
      for (let pc = 0; pc < prog.length; pc++) {
        const i = prog[pc];
        if (i.code === 0x28) a = f.readUInt16BE(i.k);
        else if (i.code === 0x20) a = f.readUInt32BE(i.k);
        else if (i.code === 0x15) pc += a === i.k ? i.jt : i.jf;
        else if (i.code === 0x35) pc += a >= i.k ? i.jt : i.jf;
        else if (i.code === 0x25) pc += a > i.k ? i.jt : i.jf;
        else if (i.code === 0x06) return i.k;
        else throw new Error(`opcode ${i.code}`);
      }
      throw new Error('fell off the end');
    };
    expect(run(arpFrame(ARP_REQUEST, CLIENT_MAC, CLIENT, VIP))).toBeGreaterThan(0);
    expect(run(ipFrame(IPPROTO_TCP, 1, 80))).toBeGreaterThan(0);
    expect(run(ipFrame(IPPROTO_TCP, 1, 80, { dst: parseIpv4('172.28.0.254') }))).toBeGreaterThan(0);
    expect(run(ipFrame(IPPROTO_TCP, 1, 80, { dst: parseIpv4('172.28.0.239') }))).toBe(0);
    expect(run(ipFrame(IPPROTO_TCP, 1, 80, { dst: parseIpv4('172.28.0.255') }))).toBe(0);
    expect(run(ipFrame(IPPROTO_TCP, 1, 80, { dst: parseIpv4('172.28.0.3') }))).toBe(0);
  });
});
