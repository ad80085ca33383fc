// The NetworkPolicy stage on real frames: node1 (node1.ts) with pods A and B
// here and a pod on node2, the Service stage on (its conntrack is shared),
// and policies compiled by src/policy. Each case reads back what node1 put
// on the wire, what it dropped and why.

import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_SYN, ipv4ToString, parseIpv4 } from '../../../src/packet/index.js';
import {
  LbState,
  serviceSnatIp,
  parseCidr,
  dropReasonName,
  type PipelineTracer,
} from '../../../src/dataplane/index.js';
import { compileService } from '../../../src/lb/index.js';
import { compilePolicies, type NetworkPolicyLite, type PolicyPod } from '../../../src/policy/index.js';
import { splitVnet, tcpFrame, udpFrame, icmpEchoFrame } from '../support/frames.js';
import { ipOf, openVxlan } from '../support/inspect.js';
import { GATEWAY, NODE1, NODE2, POD_A, POD_B, REMOTE_POD, fromNode2, node1, podPing, podTcp, podUdp } from './node1.js';

const PODS: PolicyPod[] = [
  { namespace: 'x', name: 'a', ip: parseIpv4(POD_A.ip), labels: { pod: 'a' }, ports: [] },
  {
    namespace: 'x',
    name: 'b',
    ip: parseIpv4(POD_B.ip),
    labels: { pod: 'b' },
    ports: [{ name: 'http', port: 8080, proto: 6 }],
  },
  { namespace: 'y', name: 'r', ip: parseIpv4(REMOTE_POD.ip), labels: { pod: 'r' }, ports: [] },
];
const NSS = [
  { name: 'x', labels: { 'kubernetes.io/metadata.name': 'x' } },
  { name: 'y', labels: { 'kubernetes.io/metadata.name': 'y' } },
];

const np = (name: string, spec: NetworkPolicyLite['spec']): NetworkPolicyLite => ({
  metadata: { name, namespace: 'x' },
  spec,
});
const denyIngressB = np('deny-b', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'] });
const denyEgressAll = np('deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
const allowAtoBHttp = np('allow-a-http', {
  podSelector: { matchLabels: { pod: 'b' } },
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }],
});

function policyNode(policies: NetworkPolicyLite[]) {
  const n = node1();
  const lb = new LbState({
    snatIp: serviceSnatIp(parseCidr('10.244.1.0/24')),
    serviceCidr: parseCidr('10.96.0.0/12'),
    clusterCidr: parseCidr('10.244.0.0/16'),
  });
  n.pipeline.setLoadBalancer(lb);
  n.pipeline.setPolicy(compilePolicies(policies, PODS, NSS));
  const details: string[] = [];
  const tracer: PipelineTracer = {
    dropped: (reason, _p, _b, _o, _l, detail) => details.push(`${dropReasonName(reason)}: ${detail}`),
  };
  n.pipeline.setTracer(tracer);
  return { ...n, lb, details, set: (p: NetworkPolicyLite[]) => n.pipeline.setPolicy(compilePolicies(p, PODS, NSS)) };
}

const bToA = (flags: number, srcPort = 8080) =>
  tcpFrame({
    srcMac: POD_B.mac,
    dstMac: GATEWAY.mac,
    src: POD_B.ip,
    dst: POD_A.ip,
    srcPort,
    dstPort: 40000,
    flags,
    payload: Buffer.alloc(0),
  });

describe('NetworkPolicy stage', () => {
  it('an ingress-isolated pod gets nothing; the drop names direction, pods and the isolating policy', () => {
    const n = policyNode([denyIngressB]);
    const sent = n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 8080, flags: TCP_SYN }));
    expect(sent.pods).toHaveLength(0);
    expect(n.drops()['policy-denied-ingress']).toBe(1);
    expect(n.details).toEqual([
      'policy-denied-ingress: ingress to x/b (10.244.1.3) from x/a (10.244.1.2) TCP/8080 denied: isolated by x/deny-b; no rule allowed it',
    ]);
    // B itself may still reach A (only its ingress is isolated)
    expect(n.fromPods(bToA(TCP_SYN, 5000)).pods).toHaveLength(1);
  });

  it('a rule with a named port admits A on B\'s "http" port only, and the counters say which policy', () => {
    const n = policyNode([denyIngressB, allowAtoBHttp]);
    expect(n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 8080, flags: TCP_SYN })).pods).toHaveLength(1);
    expect(n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 8081, srcPort: 40001, flags: TCP_SYN })).pods).toHaveLength(0);
    const c = n.pipeline.policy!.policies.map((p) => [p.key, p.counters.ingressAllowed, p.counters.ingressDenied]);
    expect(c).toEqual([
      ['x/allow-a-http', 1, 1],
      ['x/deny-b', 0, 1],
    ]);
  });

  it('connections are stateful: the reply of an allowed connection passes an egress-isolated pod', () => {
    const n = policyNode([
      denyEgressAll,
      np('allow-a-out', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{}] }),
    ]);
    expect(n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 8080, flags: TCP_SYN })).pods).toHaveLength(1);
    expect(n.fromPods(bToA(TCP_SYN | TCP_ACK)).pods).toHaveLength(1); // B's egress is denied, but this is a reply
    expect(n.fromPods(bToA(TCP_SYN, 5555)).pods).toHaveLength(0); // a new connection from B is not
    expect(n.drops()['policy-denied-egress']).toBe(1);
    expect(n.lb.conntrack.size).toBe(1);
  });

  it('an established connection outlives a policy that would deny it; a new one does not', () => {
    const n = policyNode([]);
    expect(n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 8080, flags: TCP_SYN })).pods).toHaveLength(1);
    expect(n.fromPods(bToA(TCP_SYN | TCP_ACK)).pods).toHaveLength(1);
    n.set([denyIngressB]);
    expect(n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 8080, flags: TCP_ACK })).pods).toHaveLength(1);
    expect(n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 8080, srcPort: 40002, flags: TCP_SYN })).pods).toHaveLength(0);
  });

  it('egress is judged on the Service backend and its target port, after DNAT; a denied flow leaves no conntrack entry', () => {
    const n = policyNode([
      np('a-to-8080', {
        podSelector: { matchLabels: { pod: 'a' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ protocol: 'TCP', port: 8080 }] }],
      }),
    ]);
    const svc = (port: number) => ({
      svc: {
        metadata: { namespace: 'x', name: `web${port}` },
        spec: {
          type: 'ClusterIP',
          clusterIP: `10.96.0.${port - 8000}`,
          ports: [{ port: 80, protocol: 'TCP', targetPort: port }],
        },
      },
      slice: {
        metadata: { namespace: 'x', name: `web${port}-1`, labels: { 'kubernetes.io/service-name': `web${port}` } },
        addressType: 'IPv4',
        ports: [{ port, protocol: 'TCP' }],
        endpoints: [{ addresses: [REMOTE_POD.ip], nodeName: 'node2', conditions: { ready: true } }],
      },
    });
    for (const s of [svc(8080), svc(8081)]) {
      const c = compileService(s.svc as never, [s.slice as never], { name: 'node1' }, { defaultScheduler: 'rr' });
      n.lb.table.setService(c.service, c.frontends);
    }
    const ok = n.fromPods(podTcp({ dst: '10.96.0.80', dstPort: 80, flags: TCP_SYN }));
    expect(ipv4ToString(ipOf(openVxlan(splitVnet(ok.underlay[0]).frame).inner).dst)).toBe(REMOTE_POD.ip);
    const no = n.fromPods(podTcp({ dst: '10.96.0.81', dstPort: 80, srcPort: 40003, flags: TCP_SYN }));
    expect(no.underlay).toHaveLength(0);
    expect(n.details[0]).toMatch(
      /^policy-denied-egress: egress from x\/a \(10\.244\.1\.2\) to y\/r \(10\.244\.2\.5\) TCP\/8081 denied/,
    );
    expect(n.lb.conntrack.size).toBe(1);
  });

  it('from a peer node: the destination judges ingress; the reply passes back out', () => {
    const n = policyNode([
      np('from-y', {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }] }],
      }),
    ]);
    const inner = (dstPort: number, srcPort: number) =>
      udpFrame({
        srcMac: NODE2.vtepMac,
        dstMac: NODE1.vtepMac,
        src: REMOTE_POD.ip,
        dst: POD_B.ip,
        srcPort,
        dstPort,
        payload: Buffer.from('q'),
      });
    expect(n.fromUnderlay(fromNode2(inner(53, 3333))).pods).toHaveLength(1);
    const reply = udpFrame({
      srcMac: POD_B.mac,
      dstMac: GATEWAY.mac,
      src: POD_B.ip,
      dst: REMOTE_POD.ip,
      srcPort: 53,
      dstPort: 3333,
      payload: Buffer.from('a'),
    });
    expect(n.fromPods(reply).underlay).toHaveLength(1);
    // pod A (namespace x) is not in y: denied
    expect(n.fromPods(podUdp({ dst: POD_B.ip, dstPort: 53 })).pods).toHaveLength(0);
  });

  it('the node itself always reaches its pods; ping follows rules without ports and its reply is tracked', () => {
    const n = policyNode([
      denyIngressB,
      np('b-out-none', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Egress'] }),
    ]);
    const fromGateway = tcpFrame({
      srcMac: GATEWAY.mac,
      dstMac: GATEWAY.mac,
      src: GATEWAY.ip,
      dst: POD_B.ip,
      srcPort: 1234,
      dstPort: 8080,
      flags: TCP_SYN,
      payload: Buffer.alloc(0),
    });
    expect(n.fromPods(fromGateway).pods).toHaveLength(1);
    expect(n.fromPods(podPing({ dst: POD_B.ip })).pods).toHaveLength(0);
    n.set([
      np('ping-b', { podSelector: { matchLabels: { pod: 'b' } }, ingress: [{ from: [{ podSelector: {} }] }] }),
      np('b-out-none', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Egress'] }),
    ]);
    expect(n.fromPods(podPing({ dst: POD_B.ip, ident: 77 })).pods).toHaveLength(1);
    const echoReply = icmpEchoFrame({
      srcMac: POD_B.mac,
      dstMac: GATEWAY.mac,
      src: POD_B.ip,
      dst: POD_A.ip,
      ident: 77,
    });
    echoReply[34] = 0; // type 0: echo reply (the checksum is not the pipeline's to check)
    expect(n.fromPods(echoReply).pods).toHaveLength(1);
  });
});

describe('anti-spoofing (a policy that trusts a forged source protects nothing)', () => {
  it("pod A's frames with B's IP, with another MAC, or from 1.2.3.4 are dropped as spoofed-source; its own pass", () => {
    const n = policyNode([]);
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip, src: POD_B.ip })).underlay).toHaveLength(0);
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip, src: '1.2.3.4' })).underlay).toHaveLength(0);
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip, srcMac: POD_B.mac })).underlay).toHaveLength(0);
    expect(n.drops()['spoofed-source']).toBe(3);
    expect(n.details).toEqual([
      'spoofed-source: 10.244.1.3 from 0a:58:0a:f4:01:02',
      'spoofed-source: 1.2.3.4 from 0a:58:0a:f4:01:02',
      'spoofed-source: 10.244.1.2 from 0a:58:0a:f4:01:03',
    ]);
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip })).underlay).toHaveLength(1);
  });

  it('can be turned off (PipelineOptions.antiSpoofing false), for experiments', () => {
    const n = node1({ antiSpoofing: false });
    expect(n.fromPods(podUdp({ dst: REMOTE_POD.ip, src: '1.2.3.4' })).underlay).toHaveLength(1);
  });
});
