// The per-frame router, frame in → frames out. Every test builds real frames
// with the packet codecs, runs one batch through a Pipeline for node1 (see
// node1.ts) and reads back exactly what it would have put on the wire.
// Here: where frames from pods go, same-node delivery, VXLAN encapsulation
// and batching; beside it, pipeline-underlay (decapsulation), -arp-icmp,
// -tso (segmentation), -gro (coalescing) and -fuzz (nothing throws).

import { describe, expect, it } from 'vitest';
import {
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_GSO_TCPV4,
  VNET_HDR_GSO_UDP,
  VNET_HDR_SIZE,
  VXLAN_SOURCE_PORT_MAX,
  VXLAN_SOURCE_PORT_MIN,
  completePartialChecksum,
  computeUdpChecksum,
  ethernetHeader,
  ipv4ToString,
  macToString,
  parseMac,
} from '../../../src/packet/index.js';
import { partialCsumVnet, rxBatch, splitVnet } from '../support/frames.js';
import { icmpOf, ipChecksumOk, ipOf, openVxlan, udpOf } from '../support/inspect.js';
import { GATEWAY, NODE1, NODE2, POD_A, POD_B, REMOTE_POD, node1, podPing, podTcp, podUdp, type Sent } from './node1.js';

const mac = (b: Buffer, off = 0) => macToString(b, off);
const VNET_ZERO = Buffer.alloc(VNET_HDR_SIZE);

/** A UDP datagram whose IPv4 packet is exactly `ipBytes` long. */
const udpOfSize = (dst: string, ipBytes: number, df = true) =>
  podUdp({ dst, df, payload: Buffer.alloc(ipBytes - 28, 0x5a) });

describe('where each frame from a pod ends (truth table)', () => {
  const ipv6Multicast = ethernetHeader.encode(
    { dst: parseMac('33:33:00:00:00:16'), src: POD_A.mac, etherType: ETHERTYPE_IPV6 },
    Buffer.alloc(90),
  );
  const ipv6ToGateway = ethernetHeader.encode(
    { dst: GATEWAY.mac, src: POD_A.mac, etherType: ETHERTYPE_IPV6 },
    Buffer.alloc(90),
  );
  const badChecksum = podUdp({ dst: POD_B.ip });
  badChecksum[14 + 10] ^= 0xff;
  const gsoUdp = podUdp({ dst: REMOTE_POD.ip, payload: Buffer.alloc(3000) });

  it.each([
    { what: 'UDP to a pod on this node', frame: podUdp({ dst: POD_B.ip }), pods: 1, underlay: 0, drops: {} },
    { what: 'UDP to a pod on node2', frame: podUdp({ dst: REMOTE_POD.ip }), pods: 0, underlay: 1, drops: {} },
    {
      what: 'ping to the gateway (the kernel answers)',
      frame: podPing({ dst: GATEWAY.ip }),
      pods: 0,
      underlay: 0,
      drops: {},
    },
    {
      what: 'TCP to the node IP (the kernel answers)',
      frame: podTcp({ dst: NODE1.ip }),
      pods: 0,
      underlay: 0,
      drops: {},
    },
    {
      what: 'TTL 1 to a local pod',
      frame: podUdp({ dst: POD_B.ip, ttl: 1 }),
      pods: 1,
      underlay: 0,
      drops: { 'ttl-expired': 1 },
    },
    {
      what: 'TTL 1 to a remote pod',
      frame: podUdp({ dst: REMOTE_POD.ip, ttl: 1 }),
      pods: 1,
      underlay: 0,
      drops: { 'ttl-expired': 1 },
    },
    {
      what: 'to an address no one routes',
      frame: podPing({ dst: '10.250.0.9' }),
      pods: 1,
      underlay: 0,
      drops: { 'no-route': 1 },
    },
    {
      what: "to node3's pods (node3's MAC unknown)",
      frame: podPing({ dst: '10.244.3.7' }),
      pods: 0,
      underlay: 0,
      drops: { 'peer-unresolved': 1 },
    },
    {
      what: 'to a local IP with no pod',
      frame: podPing({ dst: '10.244.1.77' }),
      pods: 1,
      underlay: 0,
      drops: { 'arp-unresolved': 1 },
    },
    {
      what: '1451-byte DF packet to node2',
      frame: udpOfSize(REMOTE_POD.ip, 1451),
      pods: 1,
      underlay: 0,
      drops: { 'mtu-exceeded': 1 },
    },
    {
      what: '1451-byte packet without DF to node2',
      frame: udpOfSize(REMOTE_POD.ip, 1451, false),
      pods: 0,
      underlay: 0,
      drops: { 'mtu-exceeded': 1 },
    },
    {
      what: '1450-byte DF packet to node2 (fits)',
      frame: udpOfSize(REMOTE_POD.ip, 1450),
      pods: 0,
      underlay: 1,
      drops: {},
    },
    {
      what: 'unicast to a MAC not the gateway',
      frame: podUdp({ dst: POD_B.ip, dstMac: POD_B.mac }),
      pods: 0,
      underlay: 0,
      drops: { 'not-for-gateway': 1 },
    },
    { what: 'IPv6 multicast chatter', frame: ipv6Multicast, pods: 0, underlay: 0, drops: {} },
    { what: 'IPv6 to the gateway', frame: ipv6ToGateway, pods: 0, underlay: 0, drops: { 'unsupported-ethertype': 1 } },
    { what: 'bad IPv4 header checksum', frame: badChecksum, pods: 0, underlay: 0, drops: { 'bad-ipv4-checksum': 1 } },
    { what: 'a 10-byte runt', frame: Buffer.alloc(10), pods: 0, underlay: 0, drops: { 'malformed-ethernet': 1 } },
  ])('$what → pods $pods, underlay $underlay, drops $drops', ({ frame, pods, underlay, drops }) => {
    const n = node1();
    const sent = n.fromPods(frame);
    expect({ pods: sent.pods.length, underlay: sent.underlay.length, drops: n.drops() }).toEqual({
      pods,
      underlay,
      drops,
    });
  });

  it('GSO of a kind it cannot split (UDP fragmentation offload) → gso-unsupported', () => {
    const n = node1();
    const sent = n.fromPods({ frame: gsoUdp, vnet: { gsoType: VNET_HDR_GSO_UDP, gsoSize: 1400, hdrLen: 42 } });
    expect({ pods: sent.pods.length, underlay: sent.underlay.length, drops: n.drops() }).toEqual({
      pods: 0,
      underlay: 0,
      drops: { 'gso-unsupported': 1 },
    });
  });
});

describe('pods → a pod on the same node', () => {
  const plain = podUdp({ dst: POD_B.ip, ttl: 64 });
  const offloaded = podUdp({ dst: POD_B.ip, ttl: 64, checksum: 'partial' });

  it.each([
    { what: 'checksum complete', frame: plain, vnet: {} },
    { what: 'NEEDS_CSUM (checksum offload)', frame: offloaded, vnet: partialCsumVnet(offloaded) },
  ])('$what: rewritten MACs, TTL − 1, valid header checksum, the rest byte for byte', ({ frame, vnet }) => {
    const n = node1();
    const input = Buffer.from(frame);
    const [out, ...more] = n.fromPods({ frame, vnet }).pods;
    expect(more).toHaveLength(0);
    const { vnet: outVnet, frame: f } = splitVnet(out);
    expect(outVnet).toEqual({ flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, ...vnet });
    expect(mac(f, 0)).toBe(mac(POD_B.mac));
    expect(mac(f, 6)).toBe(mac(GATEWAY.mac));
    expect(f.readUInt16BE(12)).toBe(ETHERTYPE_IPV4);
    expect(ipOf(f).ttl).toBe(63);
    expect(ipChecksumOk(f)).toBe(true);
    // Only TTL (byte 8) and the checksum (10–11) of the IPv4 header changed.
    for (const i of [8, 10, 11]) input[14 + i] = f[14 + i];
    expect(f.subarray(12)).toEqual(input.subarray(12));
    expect(f.length).toBe(input.length);
    expect(n.pipeline.counters.localTx).toBe(1);
  });

  it('a NEEDS_CSUM frame still completes to the right UDP checksum after the TTL rewrite', () => {
    const n = node1();
    const [out] = n.fromPods({ frame: offloaded, vnet: partialCsumVnet(offloaded) }).pods;
    const { vnet, frame } = splitVnet(out);
    const f = Buffer.from(frame);
    expect(completePartialChecksum(f, 0, f.length, vnet.csumStart, vnet.csumOffset)).toBe(true);
    expect(udpOf(f).checksum).toBe(computeUdpChecksum(f, 14));
  });
});

describe('pods → a pod on the same node, as a GSO super-frame', () => {
  const superFrame = (gsoSize: number) => {
    const frame = podTcp({ dst: POD_B.ip, payload: Buffer.alloc(6000, 0x61), checksum: 'partial' });
    return { frame, vnet: partialCsumVnet(frame, { gsoType: VNET_HDR_GSO_TCPV4, gsoSize, hdrLen: 54 }) };
  };

  it('passes through whole, virtio_net_hdr and all: the receiving veth segments it', () => {
    const n = node1();
    const input = superFrame(1410);
    const [out, ...more] = n.fromPods(input).pods;
    expect(more).toHaveLength(0);
    const { vnet, frame } = splitVnet(out);
    expect(vnet).toEqual({
      flags: VNET_HDR_F_NEEDS_CSUM,
      gsoType: VNET_HDR_GSO_TCPV4,
      hdrLen: 54,
      gsoSize: 1410,
      csumStart: 34,
      csumOffset: 16,
    });
    expect(frame.length).toBe(input.frame.length);
    expect(mac(frame, 0)).toBe(mac(POD_B.mac));
    expect(ipOf(frame).ttl).toBe(63);
  });

  it('segments that would not fit the pod MTU → ICMP fragmentation needed (1450); mtu-exceeded', () => {
    const n = node1();
    const sent = n.fromPods(superFrame(1411));
    expect(n.drops()).toEqual({ 'mtu-exceeded': 1 });
    const icmp = icmpOf(splitVnet(sent.pods[0]).frame);
    expect([icmp.type, icmp.code, icmp.nextHopMtu]).toEqual([3, 4, 1450]);
  });
});

describe('pods → a pod on node2 (VXLAN)', () => {
  const frame = podUdp({ dst: REMOTE_POD.ip, ttl: 64, id: 77 });

  function encapsulate(input: Buffer, vnet = {}): { sent: Sent; out: Buffer } {
    const n = node1();
    const sent = n.fromPods({ frame: input, vnet });
    expect(sent.pods).toHaveLength(0);
    expect(sent.underlay).toHaveLength(1);
    return { sent, out: sent.underlay[0] };
  }

  it('outer Ethernet goes to node2’s underlay MAC from eth0’s', () => {
    const { frame: f } = splitVnet(encapsulate(frame).out);
    expect(ethernetHeader.decode(f)).toEqual({ dst: NODE2.mac, src: NODE1.mac, etherType: ETHERTYPE_IPV4 });
  });

  it('outer IPv4: 172.28.0.11 → 172.28.0.12, UDP, DF, TTL 64, valid checksum, length = 36 + inner frame', () => {
    const { frame: f } = splitVnet(encapsulate(frame).out);
    const v = openVxlan(f);
    expect([ipv4ToString(v.ip.src), ipv4ToString(v.ip.dst)]).toEqual([NODE1.ip, NODE2.ip]);
    expect(v.ip.headerLength).toBe(20);
    expect(v.ip.protocol).toBe(17);
    expect(v.ip.dontFragment).toBe(true);
    expect(v.ip.moreFragments).toBe(false);
    expect(v.ip.fragmentOffsetBytes).toBe(0);
    expect(v.ip.ttl).toBe(64);
    expect(ipChecksumOk(f)).toBe(true);
    expect(v.ip.totalLength).toBe(50 - 14 + frame.length);
    expect(f.length).toBe(50 + frame.length);
  });

  it('outer UDP: to 4789, checksum 0, source port from the flow in 49152–65535', () => {
    const { frame: f } = splitVnet(encapsulate(frame).out);
    const { udp, ip } = openVxlan(f);
    expect(udp.dstPort).toBe(4789);
    expect(udp.checksum).toBe(0);
    expect(udp.length).toBe(ip.totalLength - 20);
    expect(udp.srcPort).toBeGreaterThanOrEqual(VXLAN_SOURCE_PORT_MIN);
    expect(udp.srcPort).toBeLessThanOrEqual(VXLAN_SOURCE_PORT_MAX);
  });

  it('two packets of one flow share a source port; the outer IPv4 ID moves on', () => {
    const n = node1();
    const sent = n.fromPods(
      podUdp({ dst: REMOTE_POD.ip, id: 1 }),
      podUdp({ dst: REMOTE_POD.ip, id: 2, payload: Buffer.from('second') }),
    );
    const [a, b] = sent.underlay.map((o) => openVxlan(splitVnet(o).frame));
    expect(a.udp.srcPort).toBe(b.udp.srcPort);
    expect(b.ip.id).not.toBe(a.ip.id);
  });

  it('VXLAN header: flags 0x08, every reserved bit zero, VNI 1', () => {
    const { frame: f } = splitVnet(encapsulate(frame).out);
    const { vxlanBytes, vxlan } = openVxlan(f);
    expect([...vxlanBytes]).toEqual([0x08, 0, 0, 0, 0, 0, 1, 0]);
    expect(vxlan.vni).toBe(1);
  });

  it('inner frame: VTEP MAC to VTEP MAC, TTL − 1 with a valid checksum, the rest unchanged', () => {
    const { frame: f } = splitVnet(encapsulate(Buffer.from(frame)).out);
    const inner = openVxlan(f).inner;
    expect(mac(inner, 0)).toBe(mac(NODE2.vtepMac));
    expect(mac(inner, 6)).toBe(mac(NODE1.vtepMac));
    expect(mac(inner, 0)).toBe('0e:77:ac:1c:00:0c');
    expect(ipOf(inner).ttl).toBe(63);
    expect(ipChecksumOk(inner)).toBe(true);
    expect(inner.subarray(14 + 12)).toEqual(frame.subarray(14 + 12));
  });

  it('no offload in → an all-zero virtio_net_hdr out', () => {
    expect(encapsulate(frame).out.subarray(0, VNET_HDR_SIZE)).toEqual(VNET_ZERO);
  });

  it('NEEDS_CSUM in → NEEDS_CSUM out, csum_start moved past the 50 outer bytes, and it completes correctly', () => {
    const offloaded = podUdp({ dst: REMOTE_POD.ip, checksum: 'partial' });
    const { vnet, frame: f } = splitVnet(encapsulate(offloaded, partialCsumVnet(offloaded)).out);
    expect(vnet).toEqual({
      flags: VNET_HDR_F_NEEDS_CSUM,
      gsoType: 0,
      hdrLen: 0,
      gsoSize: 0,
      csumStart: 34 + 50,
      csumOffset: 6,
    });
    const copy = Buffer.from(f);
    expect(completePartialChecksum(copy, 0, copy.length, vnet.csumStart, vnet.csumOffset)).toBe(true);
    const inner = openVxlan(copy).inner;
    expect(udpOf(inner).checksum).toBe(computeUdpChecksum(inner, 14));
  });

  it('counts what it sent', () => {
    const n = node1();
    n.fromPods(frame);
    expect(n.pipeline.counters.vxlanTx).toBe(1);
    expect(n.pipeline.counters.vxlanTxBytes).toBe(frame.length + 50);
  });
});

describe('batches', () => {
  it('a frame longer than its slot (recvmmsg reports the full length) → truncated, nothing sent', () => {
    const n = node1();
    const rx = rxBatch([podUdp({ dst: POD_B.ip })]);
    rx.lengths[0] = rx.slotSize + 1;
    n.pipeline.processFromPods(rx);
    expect(n.podPort.frames).toHaveLength(0);
    expect(n.drops()).toEqual({ truncated: 1 });
  });

  it('more frames than a tx batch holds go out in several sends, in order, none lost', () => {
    const n = node1({ maxTxFrames: 4 });
    const frames = Array.from({ length: 10 }, (_, i) => podUdp({ dst: i % 2 ? POD_B.ip : REMOTE_POD.ip, id: i }));
    const sent = n.fromPods(...frames);
    expect(sent.pods.map((o) => ipOf(splitVnet(o).frame).id)).toEqual([1, 3, 5, 7, 9]);
    expect(sent.underlay.map((o) => ipOf(openVxlan(splitVnet(o).frame).inner).id)).toEqual([0, 2, 4, 6, 8]);
    expect(n.podPort.sends).toBe(2);
    expect(n.underlayPort.sends).toBe(2);
  });

  it('frames the socket refuses are counted as tx-queue-full', () => {
    const n = node1({ accept: 1 });
    n.fromPods(podUdp({ dst: POD_B.ip, id: 1 }), podUdp({ dst: POD_B.ip, id: 2 }), podUdp({ dst: POD_B.ip, id: 3 }));
    expect(n.drops()).toEqual({ 'tx-queue-full': 2 });
  });

  it('frames the kernel rejects are tx-rejected, the ones it had no room for tx-queue-full', () => {
    const n = node1({ accept: 1, reject: 1 });
    n.fromPods(podUdp({ dst: POD_B.ip, id: 1 }), podUdp({ dst: POD_B.ip, id: 2 }), podUdp({ dst: POD_B.ip, id: 3 }));
    expect(n.drops()).toEqual({ 'tx-rejected': 1, 'tx-queue-full': 1 });
  });
});
