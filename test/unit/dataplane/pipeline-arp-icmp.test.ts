// The pipeline as the pods' router: proxy ARP for local pods, ARP inside
// the tunnel, ICMP errors back to the sender (RFC 1812), rate limited.

import { describe, expect, it } from 'vitest';
import {
  ARP_REPLY,
  ARP_REQUEST,
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  IPPROTO_ICMP,
  arpPacket,
  ethernetHeader,
  ipv4ToString,
  macToString,
  parseIpv4,
  parseMac,
} from '../../../src/packet/index.js';
import { splitVnet } from '../support/frames.js';
import { icmpOf, ipChecksumOk, ipOf, openVxlan } from '../support/inspect.js';
import {
  GATEWAY,
  NODE1,
  NODE2,
  NODE3,
  POD_A,
  POD_B,
  REMOTE_POD,
  fromNode2,
  node1,
  podArp,
  podPing,
  podTcp,
  podUdp,
  type Sent,
} from './node1.js';

const mac = (b: Buffer, off = 0) => macToString(b, off);

/** A UDP datagram whose IPv4 packet is exactly `ipBytes` long. */
const udpOfSize = (dst: string, ipBytes: number, df = true) =>
  podUdp({ dst, df, payload: Buffer.alloc(ipBytes - 28, 0x5a) });

describe('ARP', () => {
  it('a pod asking for another local pod gets the gateway MAC (proxy ARP)', () => {
    const n = node1();
    const sent = n.fromPods(podArp(POD_B.ip));
    expect(sent.underlay).toHaveLength(0);
    expect(sent.pods).toHaveLength(1);
    const { vnet, frame: f } = splitVnet(sent.pods[0]);
    expect(vnet.flags).toBe(0);
    expect(ethernetHeader.decode(f)).toEqual({ dst: POD_A.mac, src: GATEWAY.mac, etherType: ETHERTYPE_ARP });
    expect(arpPacket.decode(f, 14)).toEqual({
      op: ARP_REPLY,
      senderMac: GATEWAY.mac,
      senderIp: parseIpv4(POD_B.ip),
      targetMac: POD_A.mac,
      targetIp: parseIpv4(POD_A.ip),
    });
    expect(n.pipeline.counters.arpReplies).toBe(1);
  });

  it('for a local IP with no pod: no reply, arp-unresolved, and the gateway asks on the pods’ bridge', () => {
    const n = node1();
    const sent = n.fromPods(podArp('10.244.1.77'));
    expect(n.drops()).toEqual({ 'arp-unresolved': 1 });
    expect(sent.pods).toHaveLength(1);
    const f = splitVnet(sent.pods[0]).frame;
    expect(ethernetHeader.decode(f)).toEqual({ dst: BROADCAST_MAC, src: GATEWAY.mac, etherType: ETHERTYPE_ARP });
    expect(arpPacket.decode(f, 14)).toMatchObject({
      op: ARP_REQUEST,
      senderMac: GATEWAY.mac,
      senderIp: parseIpv4(GATEWAY.ip),
      targetIp: parseIpv4('10.244.1.77'),
    });
  });

  it('asks for the same missing pod at most once a second', () => {
    let now = 5_000;
    const n = node1({ clock: () => now });
    expect(n.fromPods(podArp('10.244.1.77')).pods).toHaveLength(1);
    expect(n.fromPods(podArp('10.244.1.77')).pods).toHaveLength(0);
    now += 1_000;
    expect(n.fromPods(podArp('10.244.1.77')).pods).toHaveLength(1);
  });

  it('for the gateway: no reply, no drop (the node’s kernel answers)', () => {
    const n = node1();
    expect(n.fromPods(podArp(GATEWAY.ip))).toEqual({ pods: [], underlay: [] });
    expect(n.drops()).toEqual({});
  });

  it('with anti-spoofing off, learns a pod it did not make from the pod’s ARP, and delivers to it', () => {
    const n = node1({ antiSpoofing: false });
    const stranger = { ip: '10.244.1.40', mac: parseMac('02:00:00:00:00:40') };
    n.fromPods(podArp(GATEWAY.ip, stranger.ip, stranger.mac));
    const [out] = n.fromPods(podUdp({ dst: stranger.ip })).pods;
    expect(mac(splitVnet(out).frame, 0)).toBe('02:00:00:00:00:40');
  });

  // Regression test (was a bug, now fixed): podArp (src/dataplane/arp.ts) skips only requests
  // whose target equals the sender IP. An RFC 5227 probe has sender IP
  // 0.0.0.0, so a pod probing its own address (arping -D, DHCP clients,
  // address conflict detection) is answered with the gateway MAC and
  // concludes that its address is taken. Linux's proxy ARP never answers a
  // probe (arp_process: sip == 0 gets a reply only for the host's own address).
  it('does not answer an ARP probe (sender 0.0.0.0) for the prober’s own address', () => {
    const n = node1();
    const sent = n.fromPods(podArp(POD_A.ip, '0.0.0.0'));
    expect(sent.pods).toHaveLength(0);
  });

  it('an ARP request inside VXLAN for a local pod → an encapsulated reply to node2 with our VTEP MAC', () => {
    const n = node1();
    const request = podArp(POD_A.ip, REMOTE_POD.ip, NODE2.vtepMac);
    const sent = n.fromUnderlay(fromNode2(request));
    expect(sent.pods).toHaveLength(0);
    expect(sent.underlay).toHaveLength(1);
    const { vnet, frame: f } = splitVnet(sent.underlay[0]);
    expect(vnet.flags).toBe(0);
    const v = openVxlan(f);
    expect(mac(f, 0)).toBe(mac(NODE2.mac));
    expect([ipv4ToString(v.ip.src), ipv4ToString(v.ip.dst)]).toEqual([NODE1.ip, NODE2.ip]);
    expect(ipChecksumOk(f)).toBe(true);
    expect(v.vxlan.vni).toBe(1);
    expect(ethernetHeader.decode(v.inner)).toEqual({
      dst: NODE2.vtepMac,
      src: NODE1.vtepMac,
      etherType: ETHERTYPE_ARP,
    });
    expect(arpPacket.decode(v.inner, 14)).toEqual({
      op: ARP_REPLY,
      senderMac: NODE1.vtepMac,
      senderIp: parseIpv4(POD_A.ip),
      targetMac: NODE2.vtepMac,
      targetIp: parseIpv4(REMOTE_POD.ip),
    });
  });

  it('learns a peer’s underlay MAC from its ARP on eth0', () => {
    const n = node1({ peers: [NODE2.spec, NODE3.spec] });
    const node3Mac = parseMac('02:42:ac:1c:00:0d');
    n.fromUnderlay(podArp(NODE1.ip, NODE3.spec.nodeIp, node3Mac));
    const [out] = n.fromPods(podPing({ dst: '10.244.3.7' })).underlay;
    expect(mac(splitVnet(out).frame, 0)).toBe('02:42:ac:1c:00:0d');
  });
});

describe('errors back to the sender', () => {
  function icmpError(sent: Sent, original: Buffer): { type: number; code: number; rest: number } {
    expect(sent.underlay).toHaveLength(0);
    expect(sent.pods).toHaveLength(1);
    const f = splitVnet(sent.pods[0]).frame;
    expect(ethernetHeader.decode(f)).toEqual({ dst: POD_A.mac, src: GATEWAY.mac, etherType: ETHERTYPE_IPV4 });
    const ip = ipOf(f);
    expect([ipv4ToString(ip.src), ipv4ToString(ip.dst), ip.protocol]).toEqual([GATEWAY.ip, POD_A.ip, IPPROTO_ICMP]);
    expect(ipChecksumOk(f)).toBe(true);
    const icmp = icmpOf(f);
    expect(icmp.isChecksumValid()).toBe(true);
    // The quote starts with the original IPv4 header, exactly as it arrived.
    expect(f.subarray(icmp.payloadOffset, icmp.payloadOffset + 28)).toEqual(original.subarray(14, 14 + 28));
    return { type: icmp.type, code: icmp.code, rest: icmp.restOfHeader };
  }

  it('TTL 1 → ICMP time exceeded from the gateway, to the sender’s MAC; ttl-expired', () => {
    const n = node1();
    const frame = podUdp({ dst: POD_B.ip, ttl: 1 });
    expect(icmpError(n.fromPods(frame), frame)).toEqual({ type: 11, code: 0, rest: 0 });
    expect(n.drops()).toEqual({ 'ttl-expired': 1 });
    expect(n.pipeline.counters.icmpErrors).toBe(1);
  });

  it('no route → ICMP net unreachable; no-route', () => {
    const n = node1();
    const frame = podPing({ dst: '10.250.0.9' });
    expect(icmpError(n.fromPods(frame), frame)).toEqual({ type: 3, code: 0, rest: 0 });
    expect(n.drops()).toEqual({ 'no-route': 1 });
  });

  it('1451-byte DF packet to node2 → ICMP fragmentation needed, next-hop MTU 1450; mtu-exceeded', () => {
    const n = node1();
    const frame = udpOfSize(REMOTE_POD.ip, 1451);
    const err = icmpError(n.fromPods(frame), frame);
    expect(err).toEqual({ type: 3, code: 4, rest: 1450 });
    expect(n.drops()).toEqual({ 'mtu-exceeded': 1 });
  });

  it('to the node’s own address → nothing sent, counted as toHost', () => {
    const n = node1();
    expect(n.fromPods(podPing({ dst: GATEWAY.ip }), podTcp({ dst: NODE1.ip }))).toEqual({ pods: [], underlay: [] });
    expect(n.pipeline.counters.toHost).toBe(2);
    expect(n.drops()).toEqual({});
  });

  it('a peer whose underlay MAC is unknown → peer-unresolved, and onPeerUnresolved names it', () => {
    const n = node1();
    expect(n.fromPods(podPing({ dst: '10.244.3.7' }))).toEqual({ pods: [], underlay: [] });
    expect(n.drops()).toEqual({ 'peer-unresolved': 1 });
    expect(n.unresolved.map(ipv4ToString)).toEqual([NODE3.spec.nodeIp]);
  });

  it('no ICMP error about an ICMP error', () => {
    const n = node1();
    const first = n.fromPods(podPing({ dst: '10.250.0.9' })).pods[0];
    const errorFrame = Buffer.from(splitVnet(first).frame);
    // Send the error itself back in as if pod A had emitted it towards nowhere.
    ethernetHeader.encode({ dst: GATEWAY.mac, src: POD_A.mac, etherType: ETHERTYPE_IPV4 }, errorFrame, 0);
    errorFrame.writeUInt32BE(parseIpv4(POD_A.ip), 14 + 12);
    errorFrame.writeUInt32BE(parseIpv4('10.250.0.9'), 14 + 16);
    errorFrame.writeUInt16BE(0, 14 + 10);
    errorFrame.writeUInt16BE(ipOf(errorFrame).computeHeaderChecksum(), 14 + 10);
    expect(n.fromPods(errorFrame).pods).toHaveLength(0);
    expect(n.drops()).toEqual({ 'no-route': 2 });
  });

  it('ICMP errors are rate limited: a burst of 50, then 200 a second', () => {
    let now = 0;
    const n = node1({ clock: () => now });
    const burst = Array.from({ length: 500 }, (_, i) => podUdp({ dst: POD_B.ip, ttl: 1, id: i }));
    expect(n.fromPods(...burst).pods).toHaveLength(50);
    const c = n.pipeline.counters;
    expect(c.icmpRateLimited).toBe(450);
    expect(n.drops()).toEqual({ 'ttl-expired': 500 });
    now += 1_000; // 200 tokens earned, capped at the burst of 50
    expect(n.fromPods(...burst).pods).toHaveLength(50);
    now += 100; // 20 tokens
    expect(n.fromPods(...burst).pods).toHaveLength(20);
    expect(c.icmpErrors + c.icmpRateLimited).toBe(1500);
  });
});
