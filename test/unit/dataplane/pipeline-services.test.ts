// The Service stage on real frames: node1 (see node1.ts) with a ClusterIP
// Service whose backends are pod B (here) and a pod on node2, a NodePort,
// and egress to an outside host on the underlay. Each test reads back what
// node1 would have put on the wire, checksums recomputed from scratch.

import { describe, expect, it } from 'vitest';
import {
  IPPROTO_TCP,
  TCP_ACK,
  TCP_SYN,
  VNET_HDR_SIZE,
  computeTcpChecksum,
  computeUdpChecksum,
  completePartialChecksum,
  ipv4ToString,
  macToString,
  parseIpv4,
  parseMac,
  internetChecksum,
  writeIpv4Header,
} from '../../../src/packet/index.js';
import { LbState, serviceSnatIp, parseCidr, type NatEvent, type PipelineTracer } from '../../../src/dataplane/index.js';
import { compileService, type Frontend } from '../../../src/lb/index.js';
import { partialCsumVnet, splitVnet, tcpFrame, udpFrame } from '../support/frames.js';
import { ipChecksumOk, ipOf, openVxlan, tcpOf, udpOf } from '../support/inspect.js';
import { GATEWAY, NODE1, NODE2, POD_A, POD_B, REMOTE_POD, fromNode2, node1, podTcp, podUdp } from './node1.js';

const VIP = '10.96.0.20';
const SNAT_IP = '10.244.1.254';
const OUTSIDE = { ip: '172.28.0.200', mac: parseMac('02:42:ac:1c:00:c8') };
const CLIENT = { ip: '172.28.0.100', mac: parseMac('02:42:ac:1c:00:64') };

function service(
  name: string,
  spec: Record<string, unknown>,
  endpoints: { ip: string; node: string; ready?: boolean }[],
  port = 8080,
) {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'default', name },
    spec: {
      type: 'ClusterIP',
      clusterIP: VIP,
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: port }],
      ...spec,
    },
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: `${name}-abcde`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node,
      conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: false },
    })),
  };
  return { svc, slice };
}

/** node1 with the Service stage on, `services` programmed, the outside's MAC known. */
function lbNode(services: ReturnType<typeof service>[], opts: { scheduler?: 'rr' | 'maglev' } = {}) {
  const n = node1();
  const lb = new LbState({
    snatIp: serviceSnatIp(parseCidr('10.244.1.0/24')),
    serviceCidr: parseCidr('10.96.0.0/12'),
    clusterCidr: parseCidr('10.244.0.0/16'),
  });
  for (const { svc, slice } of services) {
    const c = compileService(
      svc as never,
      [slice as never],
      { name: 'node1' },
      { defaultScheduler: opts.scheduler ?? 'rr' },
    );
    lb.table.setService(c.service, c.frontends);
  }
  n.pipeline.setLoadBalancer(lb);
  (n.pipeline as unknown as { id: { underlayCidr: unknown } }).id.underlayCidr = parseCidr('172.28.0.0/24');
  n.pipeline.underlayNeighbors.learn(parseIpv4(OUTSIDE.ip), OUTSIDE.mac, 0, 0);
  n.pipeline.underlayNeighbors.learn(parseIpv4(CLIENT.ip), CLIENT.mac, 0, 0);
  return { ...n, lb };
}

const tcpOk = (frame: Buffer) => computeTcpChecksum(frame, 14) === tcpOf(frame).checksum;
const twoLocal = () => service('web', {}, [{ ip: POD_B.ip, node: 'node1' }]);
const localAndRemote = () =>
  service('web', {}, [
    { ip: POD_B.ip, node: 'node1' },
    { ip: REMOTE_POD.ip, node: 'node2' },
  ]);

describe('ClusterIP: DNAT on the way in, reverse NAT on the way back', () => {
  it('a SYN to the VIP reaches the local backend with its address and port, checksums right; the reply comes back from the VIP', () => {
    const n = lbNode([twoLocal()]);
    const sent = n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    expect(sent.pods).toHaveLength(1);
    const { frame } = splitVnet(sent.pods[0]);
    expect(macToString(frame, 0)).toBe(macToString(POD_B.mac));
    expect(ipv4ToString(ipOf(frame).src)).toBe(POD_A.ip); // the client's address is kept
    expect(ipv4ToString(ipOf(frame).dst)).toBe(POD_B.ip);
    expect(tcpOf(frame).dstPort).toBe(8080);
    expect(ipChecksumOk(frame) && tcpOk(frame)).toBe(true);
    expect(n.lb.conntrack.size).toBe(1);

    const reply = n.fromPods(
      tcpFrame({
        srcMac: POD_B.mac,
        dstMac: GATEWAY.mac,
        src: POD_B.ip,
        dst: POD_A.ip,
        srcPort: 8080,
        dstPort: 40000,
        flags: TCP_SYN | TCP_ACK,
        payload: Buffer.alloc(0),
      }),
    );
    const back = splitVnet(reply.pods[0]).frame;
    expect(ipv4ToString(ipOf(back).src)).toBe(VIP);
    expect(tcpOf(back).srcPort).toBe(80);
    expect(ipv4ToString(ipOf(back).dst)).toBe(POD_A.ip);
    expect(ipChecksumOk(back) && tcpOk(back)).toBe(true);
    expect(n.lb.conntrack.row(0).state).toMatch(/SYN_RECV/i);
  });

  it('a backend on node2 gets the packet over VXLAN; its reply from node2 is un-NATed before pod A sees it', () => {
    const n = lbNode([service('web', {}, [{ ip: REMOTE_POD.ip, node: 'node2' }])]);
    const out = n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    const inner = openVxlan(splitVnet(out.underlay[0]).frame).inner;
    expect(ipv4ToString(ipOf(inner).dst)).toBe(REMOTE_POD.ip);
    expect(tcpOk(inner)).toBe(true);
    const replyInner = tcpFrame({
      srcMac: NODE2.vtepMac,
      dstMac: NODE1.vtepMac,
      src: REMOTE_POD.ip,
      dst: POD_A.ip,
      srcPort: 8080,
      dstPort: 40000,
      flags: TCP_SYN | TCP_ACK,
      payload: Buffer.alloc(0),
    });
    const back = splitVnet(n.fromUnderlay(fromNode2(replyInner)).pods[0]).frame;
    expect(ipv4ToString(ipOf(back).src)).toBe(VIP);
    expect(tcpOf(back).srcPort).toBe(80);
    expect(tcpOk(back)).toBe(true);
  });

  it('partial checksums (a pod with TX offload) stay partial and complete to the right value', () => {
    const n = lbNode([twoLocal()]);
    const f = podTcp({ dst: VIP, dstPort: 80, checksum: 'partial', payload: Buffer.alloc(100, 7) });
    const sent = n.fromPods({ frame: f, vnet: partialCsumVnet(f) });
    const { frame } = splitVnet(sent.pods[0]);
    expect(splitVnet(sent.pods[0]).vnet.flags & 1).toBe(1); // still NEEDS_CSUM
    completePartialChecksum(frame, 0, frame.length, 14 + 20, 16);
    expect(tcpOk(frame)).toBe(true);
  });

  it('round robin spreads new flows over the backends; packets of one flow stay with its backend', () => {
    const n = lbNode([localAndRemote()]);
    const where = (port: number) => {
      const s = n.fromPods(podTcp({ dst: VIP, dstPort: 80, srcPort: port, flags: TCP_SYN }));
      return s.pods.length ? 'local' : 'remote';
    };
    expect([where(1001), where(1002), where(1003), where(1004)].sort()).toEqual(['local', 'local', 'remote', 'remote']);
    const first = where(1001);
    expect(where(1001)).toBe(first);
    expect(where(1001)).toBe(first);
  });

  it('hairpin: a backend reaching itself through its Service is SNATed to the node’s Service SNAT address (not the gateway: the kernel owns that), and the reply finds its way back', () => {
    const n = lbNode([twoLocal()]);
    const syn = tcpFrame({
      srcMac: POD_B.mac,
      dstMac: GATEWAY.mac,
      src: POD_B.ip,
      dst: VIP,
      srcPort: 5555,
      dstPort: 80,
      flags: TCP_SYN,
      payload: Buffer.alloc(0),
    });
    const inFrame = splitVnet(n.fromPods(syn).pods[0]).frame;
    expect(ipv4ToString(ipOf(inFrame).src)).toBe(SNAT_IP);
    expect(ipv4ToString(ipOf(inFrame).dst)).toBe(POD_B.ip);
    const reply = tcpFrame({
      srcMac: POD_B.mac,
      dstMac: GATEWAY.mac,
      src: POD_B.ip,
      dst: SNAT_IP,
      srcPort: 8080,
      dstPort: tcpOf(inFrame).srcPort,
      flags: TCP_SYN | TCP_ACK,
      payload: Buffer.alloc(0),
    });
    const back = splitVnet(n.fromPods(reply).pods[0]).frame;
    expect([
      ipv4ToString(ipOf(back).src),
      tcpOf(back).srcPort,
      ipv4ToString(ipOf(back).dst),
      tcpOf(back).dstPort,
    ]).toEqual([VIP, 80, POD_B.ip, 5555]);
    expect(tcpOk(back)).toBe(true);
  });
});

describe("the node's own traffic (its host port pwh0)", () => {
  const HOST_MAC = parseMac('0a:58:0a:f4:01:fe');
  it('the node calling a ClusterIP is SNATed to the SNAT address; the reply is handed to the node through pwh0', () => {
    const n = lbNode([twoLocal()]);
    (n.pipeline as unknown as { id: { hostMac: Buffer } }).id.hostMac = HOST_MAC;
    const syn = tcpFrame({
      srcMac: HOST_MAC,
      dstMac: GATEWAY.mac,
      src: GATEWAY.ip,
      dst: VIP,
      srcPort: 50000,
      dstPort: 80,
      flags: TCP_SYN,
      payload: Buffer.alloc(0),
    });
    const toPod = splitVnet(n.fromPods(syn).pods[0]).frame;
    expect([ipv4ToString(ipOf(toPod).src), ipv4ToString(ipOf(toPod).dst)]).toEqual([SNAT_IP, POD_B.ip]);
    const reply = tcpFrame({
      srcMac: POD_B.mac,
      dstMac: GATEWAY.mac,
      src: POD_B.ip,
      dst: SNAT_IP,
      srcPort: 8080,
      dstPort: tcpOf(toPod).srcPort,
      flags: TCP_SYN | TCP_ACK,
      payload: Buffer.alloc(0),
    });
    const back = splitVnet(n.fromPods(reply).pods[0]).frame;
    expect(macToString(back, 0)).toBe(macToString(HOST_MAC));
    expect([
      ipv4ToString(ipOf(back).src),
      tcpOf(back).srcPort,
      ipv4ToString(ipOf(back).dst),
      tcpOf(back).dstPort,
    ]).toEqual([VIP, 80, GATEWAY.ip, 50000]);
    expect(tcpOk(back)).toBe(true);
  });
  it('a remote pod answering the node (over VXLAN) is handed to pwh0, not dropped', () => {
    const n = lbNode([]);
    (n.pipeline as unknown as { id: { hostMac: Buffer } }).id.hostMac = HOST_MAC;
    const inner = tcpFrame({
      srcMac: NODE2.vtepMac,
      dstMac: NODE1.vtepMac,
      src: REMOTE_POD.ip,
      dst: GATEWAY.ip,
      srcPort: 8080,
      dstPort: 50001,
      flags: TCP_SYN | TCP_ACK,
      payload: Buffer.alloc(0),
    });
    const out = n.fromUnderlay(fromNode2(inner));
    expect(macToString(splitVnet(out.pods[0]).frame, 0)).toBe(macToString(HOST_MAC));
    expect(n.drops()).toEqual({});
  });
});

describe('a client reusing its source port', () => {
  it('for a second Service with the same backend: the new flow gets another source port, nothing throws, replies find both clients', () => {
    const a = service('web', {}, [{ ip: POD_B.ip, node: 'node1' }]);
    const b = service('web2', { clusterIP: '10.96.0.21' }, [{ ip: POD_B.ip, node: 'node1' }]);
    const n = lbNode([a, b]);
    const first = splitVnet(
      n.fromPods(podTcp({ dst: VIP, dstPort: 80, srcPort: 40000, flags: TCP_SYN })).pods[0],
    ).frame;
    const second = splitVnet(
      n.fromPods(podTcp({ dst: '10.96.0.21', dstPort: 80, srcPort: 40000, flags: TCP_SYN })).pods[0],
    ).frame;
    expect(tcpOf(first).srcPort).toBe(40000);
    expect(tcpOf(second).srcPort).not.toBe(40000);
    expect(tcpOk(second)).toBe(true);
    expect(n.pipeline.counters.snapshot().drops).toEqual({});
    const reply = tcpFrame({
      srcMac: POD_B.mac,
      dstMac: GATEWAY.mac,
      src: POD_B.ip,
      dst: POD_A.ip,
      srcPort: 8080,
      dstPort: tcpOf(second).srcPort,
      flags: TCP_SYN | TCP_ACK,
      payload: Buffer.alloc(0),
    });
    const back = splitVnet(n.fromPods(reply).pods[0]).frame;
    expect([ipv4ToString(ipOf(back).src), tcpOf(back).srcPort, tcpOf(back).dstPort]).toEqual(['10.96.0.21', 80, 40000]);
  });
});

describe('refusals and drops have reasons', () => {
  it('no endpoints: TCP gets a reset from the VIP at once, dropped as no-endpoints with the Service named', () => {
    const n = lbNode([service('web', {}, [])]);
    const dropped: string[] = [];
    n.pipeline.setTracer({
      dropped: (_r, _p, _b, _o, _l, detail) => dropped.push(String(detail)),
    } satisfies PipelineTracer);
    const sent = n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    expect(n.drops()).toEqual({ 'no-endpoints': 1 });
    expect(dropped).toEqual(['default/web']);
    const rst = splitVnet(sent.pods[0]).frame;
    expect(ipv4ToString(ipOf(rst).src)).toBe(VIP);
    expect(tcpOf(rst).flags & 0x04).toBe(0x04);
    expect(tcpOk(rst)).toBe(true);
  });

  it('no endpoints, UDP: ICMP port unreachable from the VIP', () => {
    const svc = service('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }] }, []);
    const n = lbNode([svc]);
    const sent = n.fromPods(podUdp({ dst: VIP, dstPort: 53 }));
    const icmp = splitVnet(sent.pods[0]).frame;
    expect(ipv4ToString(ipOf(icmp).src)).toBe(VIP);
    expect([icmp[34], icmp[35]]).toEqual([3, 3]);
    expect(n.drops()).toEqual({ 'no-endpoints': 1 });
  });

  it('a VIP port the Service does not have → no-service-port', () => {
    const n = lbNode([twoLocal()]);
    n.fromPods(podTcp({ dst: VIP, dstPort: 81, flags: TCP_SYN }));
    expect(n.drops()).toEqual({ 'no-service-port': 1 });
  });

  it('a full conntrack table refuses new flows (conntrack-full) and keeps the old ones', () => {
    const n = lbNode([twoLocal()]);
    const ct = n.lb.conntrack;
    for (let p = 1; ct.size < ct.maxEntries; p++) {
      if (ct.create(IPPROTO_TCP, p, 1, 2, 3, 3, 4, p, 1, -1, 0) < 0) break;
    }
    n.fromPods(podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN }));
    expect(n.drops()).toEqual({ 'conntrack-full': 1 });
  });
});

describe('ICMP errors about translated flows (conntrack RELATED)', () => {
  it("a backend's port unreachable reaches the client from the VIP, quoting the datagram the client sent", () => {
    const dns = service('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] }, [
      { ip: POD_B.ip, node: 'node1' },
    ]);
    (dns.slice.ports[0] as Record<string, unknown>).name = 'dns';
    (dns.slice.ports[0] as Record<string, unknown>).protocol = 'UDP';
    (dns.slice.ports[0] as Record<string, unknown>).port = 5353;
    const n = lbNode([dns]);
    const q = splitVnet(n.fromPods(podUdp({ dst: VIP, dstPort: 53, srcPort: 41000 })).pods[0]).frame;
    // pod B's kernel answers: ICMP port unreachable quoting what it got (A -> B:5353)
    const quoted = q.subarray(14, 14 + 28);
    const icmpLen = 8 + quoted.length;
    const err = Buffer.alloc(14 + 20 + icmpLen);
    POD_B.mac.copy(err, 6);
    GATEWAY.mac.copy(err, 0);
    err.writeUInt16BE(0x0800, 12);
    writeIpv4Header(err, 14, parseIpv4(POD_B.ip), parseIpv4(POD_A.ip), 1, icmpLen);
    err[34] = 3;
    err[35] = 3;
    quoted.copy(err, 42);
    err.writeUInt16BE(internetChecksum(err, 34, icmpLen), 36);
    const back = splitVnet(n.fromPods(err).pods[0]).frame;
    expect([ipv4ToString(back.readUInt32BE(26)), ipv4ToString(back.readUInt32BE(30))]).toEqual([VIP, POD_A.ip]);
    expect([ipv4ToString(back.readUInt32BE(42 + 12)), ipv4ToString(back.readUInt32BE(42 + 16))]).toEqual([
      POD_A.ip,
      VIP,
    ]);
    expect([back.readUInt16BE(62), back.readUInt16BE(64)]).toEqual([41000, 53]);
    expect(internetChecksum(back, 34, icmpLen)).toBe(0);
    expect(ipChecksumOk(back)).toBe(true);
    expect(internetChecksum(back, 42, 20)).toBe(0); // the quoted IPv4 header's checksum still holds
  });
});

describe('fragments, short headers, ETP Local from inside', () => {
  it('a fragmented UDP datagram to a VIP: the first fragment is DNATed by its ports, the later one follows it by IP id', () => {
    const dns = service('dns', { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }] }, [
      { ip: POD_B.ip, node: 'node1' },
    ]);
    (dns.slice.ports[0] as Record<string, unknown>).name = 'dns';
    (dns.slice.ports[0] as Record<string, unknown>).protocol = 'UDP';
    (dns.slice.ports[0] as Record<string, unknown>).port = 53;
    const n = lbNode([dns]);
    const first = podUdp({ dst: VIP, dstPort: 53, df: false, id: 4242, payload: Buffer.alloc(1000, 1) });
    first.writeUInt16BE(0x2000, 14 + 6); // MF, offset 0
    first.writeUInt16BE(0, 14 + 10);
    first.writeUInt16BE(internetChecksum(first, 14, 20), 14 + 10);
    const later = Buffer.from(first.subarray(0, 14 + 20 + 200));
    later.writeUInt16BE(20 + 200, 14 + 2);
    later.writeUInt16BE(1008 / 8, 14 + 6); // offset 1008, last
    later.writeUInt16BE(0, 14 + 10);
    later.writeUInt16BE(internetChecksum(later, 14, 20), 14 + 10);
    const sent = n.fromPods(first, later).pods.map((f) => splitVnet(f).frame);
    expect(sent.map((f) => ipv4ToString(ipOf(f).dst))).toEqual([POD_B.ip, POD_B.ip]);
    expect(sent.every((f) => ipChecksumOk(f))).toBe(true);
    expect(n.drops()).toEqual({});
  });

  it('a TCP header cut short on its way to a VIP is malformed-l4', () => {
    const n = lbNode([twoLocal()]);
    const f = podTcp({ dst: VIP, dstPort: 80, flags: TCP_SYN });
    const cut = Buffer.from(f.subarray(0, 14 + 20 + 10));
    cut.writeUInt16BE(30, 14 + 2);
    cut.writeUInt16BE(0, 14 + 10);
    cut.writeUInt16BE(internetChecksum(cut, 14, 20), 14 + 10);
    n.fromPods(cut);
    expect(n.drops()).toEqual({ 'malformed-l4': 1 });
  });

  it('externalTrafficPolicy Local: from outside only local pods, but a pod calling the NodePort reaches any endpoint', () => {
    const s = service(
      'web',
      {
        type: 'NodePort',
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }],
      },
      [{ ip: REMOTE_POD.ip, node: 'node2' }],
    );
    const n = lbNode([s]);
    const out = n.fromPods(podTcp({ dst: NODE1.ip, dstPort: 30080, flags: TCP_SYN }));
    const inner = openVxlan(splitVnet(out.underlay[0]).frame).inner;
    expect([ipv4ToString(ipOf(inner).src), ipv4ToString(ipOf(inner).dst)]).toEqual([POD_A.ip, REMOTE_POD.ip]);
    n.fromUnderlay(
      tcpFrame({
        srcMac: CLIENT.mac,
        dstMac: NODE1.mac,
        src: CLIENT.ip,
        dst: NODE1.ip,
        srcPort: 45000,
        dstPort: 30080,
        flags: TCP_SYN,
        payload: Buffer.alloc(0),
      }),
    );
    expect(n.drops()).toEqual({ 'etp-local-no-endpoint': 1 });
  });
});

describe('NodePort and egress', () => {
  const nodePortSvc = () =>
    service(
      'web',
      { type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }] },
      [{ ip: REMOTE_POD.ip, node: 'node2' }],
    );

  it('a client on the underlay reaches a backend on node2 through node1:30080; SNAT to the node’s SNAT address; the reply goes straight back to the client', () => {
    const n = lbNode([nodePortSvc()]);
    const syn = tcpFrame({
      srcMac: CLIENT.mac,
      dstMac: NODE1.mac,
      src: CLIENT.ip,
      dst: NODE1.ip,
      srcPort: 45000,
      dstPort: 30080,
      flags: TCP_SYN,
      payload: Buffer.alloc(0),
    });
    const out = n.fromUnderlay(syn);
    const inner = openVxlan(splitVnet(out.underlay[0]).frame).inner;
    expect([ipv4ToString(ipOf(inner).src), ipv4ToString(ipOf(inner).dst), tcpOf(inner).dstPort]).toEqual([
      SNAT_IP,
      REMOTE_POD.ip,
      8080,
    ]);
    expect(tcpOk(inner)).toBe(true);
    const replyInner = tcpFrame({
      srcMac: NODE2.vtepMac,
      dstMac: NODE1.vtepMac,
      src: REMOTE_POD.ip,
      dst: SNAT_IP,
      srcPort: 8080,
      dstPort: tcpOf(inner).srcPort,
      flags: TCP_SYN | TCP_ACK,
      payload: Buffer.alloc(0),
    });
    const back = n.fromUnderlay(fromNode2(replyInner));
    expect(back.pods).toHaveLength(0);
    const f = splitVnet(back.underlay[0]).frame;
    expect(macToString(f, 0)).toBe(macToString(CLIENT.mac));
    expect([ipv4ToString(ipOf(f).src), tcpOf(f).srcPort, ipv4ToString(ipOf(f).dst), tcpOf(f).dstPort]).toEqual([
      NODE1.ip,
      30080,
      CLIENT.ip,
      45000,
    ]);
    expect(ipChecksumOk(f) && tcpOk(f)).toBe(true);
  });

  it('externalTrafficPolicy Local with no local endpoint: etp-local-no-endpoint', () => {
    const s = nodePortSvc();
    (s.svc.spec as Record<string, unknown>).externalTrafficPolicy = 'Local';
    const n = lbNode([s]);
    n.fromUnderlay(
      tcpFrame({
        srcMac: CLIENT.mac,
        dstMac: NODE1.mac,
        src: CLIENT.ip,
        dst: NODE1.ip,
        srcPort: 45000,
        dstPort: 30080,
        flags: TCP_SYN,
        payload: Buffer.alloc(0),
      }),
    );
    expect(n.drops()).toEqual({ 'etp-local-no-endpoint': 1 });
  });

  it('a pod talking to a host outside the cluster is masqueraded to the node IP; the reply is un-NATed to the pod', () => {
    const n = lbNode([]);
    const events: NatEvent[] = [];
    n.pipeline.setTracer({ dropped() {}, natCreated: (e) => events.push(e) });
    const out = n.fromPods(podUdp({ dst: OUTSIDE.ip, dstPort: 7, payload: Buffer.from('echo') }));
    const f = splitVnet(out.underlay[0]).frame;
    expect(macToString(f, 0)).toBe(macToString(OUTSIDE.mac));
    expect(macToString(f, 6)).toBe(macToString(NODE1.mac));
    expect(ipv4ToString(ipOf(f).src)).toBe(NODE1.ip);
    const natPort = udpOf(f).srcPort;
    expect(natPort).toBeGreaterThanOrEqual(61000);
    expect(computeUdpChecksum(f, 14)).toBe(udpOf(f).checksum);
    expect(events.map((e) => e.kind)).toEqual(['masquerade']);
    const reply = udpFrame({
      srcMac: OUTSIDE.mac,
      dstMac: NODE1.mac,
      src: OUTSIDE.ip,
      dst: NODE1.ip,
      srcPort: 7,
      dstPort: natPort,
      payload: Buffer.from('echo'),
    });
    const back = splitVnet(n.fromUnderlay(reply).pods[0]).frame;
    expect([ipv4ToString(ipOf(back).dst), udpOf(back).dstPort]).toEqual([POD_A.ip, 40000]);
    expect(computeUdpChecksum(back, 14)).toBe(udpOf(back).checksum);
  });

  it('the first packet to an outside host whose MAC is unknown waits for the ARP answer instead of being lost', () => {
    const n = lbNode([]);
    const other = { ip: '172.28.0.201', mac: parseMac('02:42:ac:1c:00:c9') };
    const out = n.fromPods(podTcp({ dst: other.ip, dstPort: 443, flags: TCP_SYN }));
    expect(out.underlay.map((f) => splitVnet(f).frame.readUInt16BE(12))).toEqual([0x0806]); // only the ARP request
    expect(n.drops()).toEqual({});
    const reply = Buffer.alloc(42);
    NODE1.mac.copy(reply, 0);
    other.mac.copy(reply, 6);
    reply.writeUInt16BE(0x0806, 12);
    reply.writeUInt16BE(1, 14);
    reply.writeUInt16BE(0x0800, 16);
    reply[18] = 6;
    reply[19] = 4;
    reply.writeUInt16BE(2, 20);
    other.mac.copy(reply, 22);
    reply.writeUInt32BE(parseIpv4(other.ip), 28);
    NODE1.mac.copy(reply, 32);
    reply.writeUInt32BE(parseIpv4(NODE1.ip), 38);
    const sent = n.fromUnderlay(reply).underlay.map((f) => splitVnet(f).frame);
    expect(sent).toHaveLength(1);
    expect(macToString(sent[0], 0)).toBe(macToString(other.mac));
    expect([ipv4ToString(ipOf(sent[0]).src), ipv4ToString(ipOf(sent[0]).dst), ipOf(sent[0]).ttl]).toEqual([
      NODE1.ip,
      other.ip,
      63,
    ]);
    expect(ipChecksumOk(sent[0]) && tcpOk(sent[0])).toBe(true);
  });

  it('a packet for the node in the NAT port range that no flow owns → not-ours', () => {
    const n = lbNode([]);
    n.fromUnderlay(
      udpFrame({
        srcMac: OUTSIDE.mac,
        dstMac: NODE1.mac,
        src: OUTSIDE.ip,
        dst: NODE1.ip,
        srcPort: 7,
        dstPort: 62000,
        payload: Buffer.from('x'),
      }),
    );
    expect(n.drops()).toEqual({ 'not-ours': 1 });
  });
});

export type { Frontend };
