// Anti-spoofing on real frames (issue #15): a pod may send only from its
// own IP and MAC, and claim only its own address in ARP; a peer node may
// send over VXLAN only from its own pods (its pod CIDR) or its node address.

import { describe, expect, it } from 'vitest';
import { macToString, parseIpv4, parseMac } from '../../../src/packet/index.js';
import { dropReasonName, serviceSnatIp, parseCidr } from '../../../src/dataplane/index.js';
import { splitVnet } from '../support/frames.js';
import {
  GATEWAY,
  NODE2,
  POD_A,
  POD_B,
  REMOTE_POD,
  fromNode2,
  node1,
  podArp,
  podUdp,
  remotePing,
  type Node1,
} from './node1.js';

function traced(n: Node1): string[] {
  const details: string[] = [];
  n.pipeline.setTracer({
    dropped: (reason, _p, _b, _o, _l, detail) => details.push(`${dropReasonName(reason)}: ${detail}`),
  });
  return details;
}

describe('pod source anti-spoofing (from-pods)', () => {
  it('another pod’s IP (local or remote destination) and 1.2.3.4 → spoofed-source; its own → forwarded', () => {
    const n = node1();
    const details = traced(n);
    expect(n.fromPods(podUdp({ dst: POD_B.ip, src: REMOTE_POD.ip }))).toEqual({ pods: [], underlay: [] });
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip, src: POD_B.ip }))).toEqual({ pods: [], underlay: [] });
    expect(n.fromPods(podUdp({ dst: POD_B.ip, src: '1.2.3.4' }))).toEqual({ pods: [], underlay: [] });
    expect(n.drops()).toEqual({ 'spoofed-source': 3 });
    expect(details).toEqual([
      `spoofed-source: ${REMOTE_POD.ip} from ${macToString(POD_A.mac)}`,
      `spoofed-source: ${POD_B.ip} from ${macToString(POD_A.mac)}`,
      `spoofed-source: 1.2.3.4 from ${macToString(POD_A.mac)}`,
    ]);
    expect(n.fromPods(podUdp({ dst: POD_B.ip })).pods).toHaveLength(1);
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip })).underlay).toHaveLength(1);
    expect(n.drops()).toEqual({ 'spoofed-source': 3 });
  });
});

describe('the port a pod frame came in on (its own veth)', () => {
  const A_PORT = 7;
  const B_PORT = 8;
  const withPorts = () => {
    const n = node1();
    n.pipeline.neighbors.register(parseIpv4(POD_A.ip), POD_A.mac, A_PORT);
    n.pipeline.neighbors.register(parseIpv4(POD_B.ip), POD_B.mac, B_PORT);
    return n;
  };

  it('pod B forging A’s IP and MAC both, from B’s veth → spoofed-source; A from its own veth → forwarded', () => {
    const n = withPorts();
    const details = traced(n);
    expect(n.fromPods({ frame: podUdp({ dst: REMOTE_POD.ip }), ifindex: B_PORT })).toEqual({ pods: [], underlay: [] });
    expect(n.drops()).toEqual({ 'spoofed-source': 1 });
    expect(details).toEqual([`spoofed-source: ${POD_A.ip} from ${macToString(POD_A.mac)}`]);
    expect(n.fromPods({ frame: podUdp({ dst: REMOTE_POD.ip }), ifindex: A_PORT }).underlay).toHaveLength(1);
    expect(n.drops()).toEqual({ 'spoofed-source': 1 });
  });

  it('an ARP claiming A’s address with A’s MAC from B’s veth → spoofed-source', () => {
    const n = withPorts();
    const frame = podArp(POD_B.ip, POD_A.ip, POD_A.mac); // A asking for B, as A
    expect(n.fromPods({ frame, ifindex: B_PORT })).toEqual({ pods: [], underlay: [] });
    expect(n.drops()).toEqual({ 'spoofed-source': 1 });
    expect(n.fromPods({ frame, ifindex: A_PORT }).pods).toHaveLength(1);
  });

  it('a frame whose port is not known (0) is judged by its addresses alone, as before', () => {
    const n = withPorts();
    expect(n.fromPods({ frame: podUdp({ dst: REMOTE_POD.ip }), ifindex: 0 }).underlay).toHaveLength(1);
    expect(n.drops()).toEqual({});
  });
});

describe('ARP anti-spoofing (no poisoning, no claiming a free address)', () => {
  it('an ARP from pod A claiming B’s IP → spoofed-source, B’s entry kept, no answer', () => {
    const n = node1();
    const details = traced(n);
    expect(n.fromPods(podArp(GATEWAY.ip, POD_B.ip, POD_A.mac))).toEqual({ pods: [], underlay: [] });
    expect(n.drops()).toEqual({ 'spoofed-source': 1 });
    expect(details).toEqual([`spoofed-source: ARP: ${POD_B.ip} claimed by ${macToString(POD_A.mac)}`]);
    expect(macToString(n.pipeline.neighbors.get(parseIpv4(POD_B.ip))!)).toBe(macToString(POD_B.mac));
  });

  it('an ARP claiming a free address of the pod CIDR is dropped and not learned: traffic to it stays unresolved', () => {
    const n = node1();
    const stranger = { ip: '10.244.1.40', mac: parseMac('02:00:00:00:00:40') };
    n.fromPods(podArp(GATEWAY.ip, stranger.ip, stranger.mac));
    n.fromPods(podArp(GATEWAY.ip, stranger.ip, POD_A.mac));
    expect(n.drops()).toEqual({ 'spoofed-source': 2 });
    expect(n.pipeline.neighbors.get(parseIpv4(stranger.ip))).toBeUndefined();
    const sent = n.fromPods(podUdp({ dst: stranger.ip }));
    expect(sent.pods.map((f) => macToString(splitVnet(f).frame, 0))).toEqual(['ff:ff:ff:ff:ff:ff']); // the gateway asks
  });

  it('A’s own IP with another sender MAC inside the ARP → spoofed-source', () => {
    const n = node1();
    const frame = podArp(POD_B.ip);
    POD_B.mac.copy(frame, 14 + 8); // ARP sender hardware address: B's, while the Ethernet source is A's
    expect(n.fromPods(frame).pods).toHaveLength(0);
    expect(n.drops()).toEqual({ 'spoofed-source': 1 });
  });

  it('A asking for B as itself is answered; a probe (sender 0.0.0.0) is neither dropped nor answered', () => {
    const n = node1();
    expect(n.fromPods(podArp(POD_B.ip)).pods).toHaveLength(1);
    expect(n.fromPods(podArp(POD_A.ip, '0.0.0.0')).pods).toHaveLength(0);
    expect(n.drops()).toEqual({});
  });
});

describe('inner source of VXLAN from a known peer (from-underlay)', () => {
  it.each([
    { what: 'a pod of node2', src: REMOTE_POD.ip },
    { what: 'node2’s Service SNAT address', src: '10.244.2.254' },
    { what: 'node2’s gateway (its agent’s ICMP errors, health probes)', src: '10.244.2.1' },
    { what: 'node2’s own address (a hostNetwork process)', src: NODE2.ip },
  ])('$what → delivered', ({ src }) => {
    const n = node1();
    expect(n.fromUnderlay(fromNode2(remotePing(POD_A.ip, { src }))).pods).toHaveLength(1);
    expect(n.drops()).toEqual({});
  });

  it.each([
    { what: 'a pod of node1 itself', src: POD_B.ip },
    { what: 'a pod of node3', src: '10.244.3.5' },
    { what: 'an outside address', src: '1.2.3.4' },
  ])('$what, sent by node2 → vxlan-spoofed-inner-source, nothing delivered', ({ src }) => {
    const n = node1();
    const details = traced(n);
    expect(n.fromUnderlay(fromNode2(remotePing(POD_A.ip, { src })))).toEqual({ pods: [], underlay: [] });
    expect(n.drops()).toEqual({ 'vxlan-spoofed-inner-source': 1 });
    expect(details).toEqual([`vxlan-spoofed-inner-source: ${src} from node node2 (10.244.2.0/24)`]);
  });

  it('an ICMP error from a router outside (about a flow node2 translated) passes: conntrack keeps its source', () => {
    const n = node1();
    const error = remotePing(POD_A.ip, { src: '1.2.3.4' });
    error[14 + 20] = 3; // destination unreachable (the checksum is not the pipeline's to check)
    expect(n.fromUnderlay(fromNode2(error)).pods).toHaveLength(1);
    const echo = remotePing(POD_A.ip, { src: '1.2.3.4' }); // an echo request from there does not
    expect(n.fromUnderlay(fromNode2(echo)).pods).toHaveLength(0);
    expect(n.drops()).toEqual({ 'vxlan-spoofed-inner-source': 1 });
  });

  it('node2’s SNAT address is in its pod CIDR (so SNATed NodePort traffic passes the check)', () => {
    expect(serviceSnatIp(parseCidr('10.244.2.0/24'))).toBe(parseIpv4('10.244.2.254'));
  });

  it('can be turned off (PipelineOptions.antiSpoofing false)', () => {
    const n = node1({ antiSpoofing: false });
    expect(n.fromUnderlay(fromNode2(remotePing(POD_A.ip, { src: '1.2.3.4' }))).pods).toHaveLength(1);
    expect(n.fromPods(podArp(GATEWAY.ip, POD_B.ip, POD_A.mac)).pods).toHaveLength(0);
    expect(n.drops()).toEqual({});
  });
});
