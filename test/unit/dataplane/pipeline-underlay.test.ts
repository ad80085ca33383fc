// Frames from node2 over VXLAN: checked (RFC 7348), decapsulated in place,
// delivered to the local pod; and what node1 answers back through the tunnel.

import { describe, expect, it } from 'vitest';
import {
  ICMP_ECHO_REPLY,
  IPPROTO_ICMP,
  VNET_HDR_F_NEEDS_CSUM,
  completePartialChecksum,
  computeUdpChecksum,
  ipv4ToString,
  macToString,
  parseMac,
} from '../../../src/packet/index.js';
import { splitVnet, udpFrame } from '../support/frames.js';
import { icmpOf, ipChecksumOk, ipOf, openVxlan, udpOf } from '../support/inspect.js';
import { GATEWAY, NODE1, NODE2, POD_A, POD_B, REMOTE_POD, fromNode2, node1, podUdp, remotePing } from './node1.js';

const mac = (b: Buffer, off = 0) => macToString(b, off);

describe('underlay → pods (decapsulation)', () => {
  it('delivers the inner frame to the pod: MACs rewritten, TTL − 1, nothing else changed', () => {
    const n = node1();
    const inner = remotePing(POD_A.ip, { ttl: 61 });
    const sent = n.fromUnderlay(fromNode2(inner));
    expect(sent.underlay).toHaveLength(0);
    expect(sent.pods).toHaveLength(1);
    const { vnet, frame: f } = splitVnet(sent.pods[0]);
    expect(vnet.flags).toBe(0);
    expect(f.length).toBe(inner.length);
    expect(mac(f, 0)).toBe(mac(POD_A.mac));
    expect(mac(f, 6)).toBe(mac(GATEWAY.mac));
    expect(ipOf(f).ttl).toBe(60);
    expect(ipChecksumOk(f)).toBe(true);
    expect(f.subarray(14 + 12)).toEqual(inner.subarray(14 + 12));
    expect(n.pipeline.counters.vxlanRx).toBe(1);
    expect(n.drops()).toEqual({});
  });

  it.each([
    { what: 'a VNI that is not ours', over: { vni: 2 }, reason: 'vxlan-unknown-vni' },
    { what: 'the I flag clear', over: { flags: 0x00 }, reason: 'vxlan-bad-flags' },
    { what: 'an outer source that is no node', over: { src: '172.28.0.99' }, reason: 'vxlan-unknown-peer' },
    { what: 'an outer destination that is another node', over: { dst: '172.28.0.13' }, reason: 'not-for-node' },
    { what: 'a UDP port that is not VXLAN', over: { dstPort: 8472 }, reason: 'malformed-vxlan' },
  ])('$what → drop $reason, nothing sent', ({ over, reason }) => {
    const n = node1();
    const sent = n.fromUnderlay(fromNode2(remotePing(POD_A.ip), over));
    expect({ pods: sent.pods.length, underlay: sent.underlay.length, drops: n.drops() }).toEqual({
      pods: 0,
      underlay: 0,
      drops: { [reason]: 1 },
    });
  });

  it('reserved bits set next to the I flag are ignored on receipt (RFC 7348 §5)', () => {
    const n = node1();
    const sent = n.fromUnderlay(fromNode2(remotePing(POD_A.ip), { flags: 0xff, reserved: 0xff }));
    expect(sent.pods).toHaveLength(1);
    expect(n.drops()).toEqual({});
  });

  it('a NEEDS_CSUM outer frame keeps the inner checksum partial, csum_start moved back by 50', () => {
    const n = node1();
    const inner = udpFrame({
      srcMac: NODE2.vtepMac,
      dstMac: NODE1.vtepMac,
      src: REMOTE_POD.ip,
      dst: POD_B.ip,
      srcPort: 9000,
      dstPort: 53,
      payload: Buffer.from('partial inside a tunnel'),
      checksum: 'partial',
    });
    const sent = n.fromUnderlay({
      frame: fromNode2(inner),
      vnet: { flags: VNET_HDR_F_NEEDS_CSUM, csumStart: 50 + 34, csumOffset: 6 },
    });
    const { vnet, frame: f } = splitVnet(sent.pods[0]);
    expect(vnet).toEqual({
      flags: VNET_HDR_F_NEEDS_CSUM,
      gsoType: 0,
      hdrLen: 0,
      gsoSize: 0,
      csumStart: 34,
      csumOffset: 6,
    });
    const copy = Buffer.from(f);
    expect(completePartialChecksum(copy, 0, copy.length, vnet.csumStart, vnet.csumOffset)).toBe(true);
    expect(udpOf(copy).checksum).toBe(computeUdpChecksum(copy, 14));
  });

  it('learns node2’s underlay MAC from its VXLAN frames and sends there next', () => {
    const n = node1();
    const moved = parseMac('02:42:ac:1c:00:99');
    n.fromUnderlay(fromNode2(remotePing(POD_A.ip), { srcMac: moved }));
    const [out] = n.fromPods(podUdp({ dst: REMOTE_POD.ip })).underlay;
    expect(mac(splitVnet(out).frame, 0)).toBe('02:42:ac:1c:00:99');
  });

  it('TTL 1 inside the tunnel → ICMP time exceeded back to node2, over VXLAN', () => {
    const n = node1();
    const sent = n.fromUnderlay(fromNode2(remotePing(POD_A.ip, { ttl: 1 })));
    expect(n.drops()).toEqual({ 'ttl-expired': 1 });
    expect(sent.pods).toHaveLength(0);
    const v = openVxlan(splitVnet(sent.underlay[0]).frame);
    expect(ipv4ToString(v.ip.dst)).toBe(NODE2.ip);
    const icmp = icmpOf(v.inner);
    expect([icmp.type, icmp.code]).toEqual([11, 0]);
    expect(ipv4ToString(ipOf(v.inner).src)).toBe(GATEWAY.ip);
    expect(ipv4ToString(ipOf(v.inner).dst)).toBe(REMOTE_POD.ip);
  });

  it('a remote pod pinging the gateway gets an echo reply over VXLAN', () => {
    const n = node1();
    const sent = n.fromUnderlay(fromNode2(remotePing(GATEWAY.ip)));
    const v = openVxlan(splitVnet(sent.underlay[0]).frame);
    expect(mac(v.inner, 0)).toBe(mac(NODE2.vtepMac));
    const ip = ipOf(v.inner);
    expect([ipv4ToString(ip.src), ipv4ToString(ip.dst), ip.protocol]).toEqual([
      GATEWAY.ip,
      REMOTE_POD.ip,
      IPPROTO_ICMP,
    ]);
    expect(icmpOf(v.inner).type).toBe(ICMP_ECHO_REPLY);
    expect(icmpOf(v.inner).isChecksumValid()).toBe(true);
  });
});
