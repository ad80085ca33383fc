// NetworkPolicy's verdicts where a learner looks: the pcapng drop comment,
// observe's events (the drop with its policies, the allow with its rule, the
// --policy filter) and the per-policy Prometheus counters, all from real
// frames through node1's pipeline (dataplane/node1.ts).

import { describe, expect, it } from 'vitest';
import { TCP_SYN } from '../../../src/packet/index.js';
import { LbState, serviceSnatIp, parseCidr } from '../../../src/dataplane/index.js';
import { compilePolicies, type NetworkPolicyLite, type PolicyPod } from '../../../src/policy/index.js';
import { parseIpv4 } from '../../../src/packet/index.js';
import { DropCapture, readPcapng } from '../../../src/capture/index.js';
import { FlowLog, agentMetrics, formatFlow, matchFlow, type FlowEvent } from '../../../src/observe/index.js';
import { TracerHub } from '../../../src/agent/tracer-hub.js';
import { node1, podTcp, POD_A, POD_B } from '../dataplane/node1.js';

const PODS: PolicyPod[] = [
  { namespace: 'x', name: 'a', ip: parseIpv4(POD_A.ip), labels: { pod: 'a' }, ports: [] },
  { namespace: 'x', name: 'b', ip: parseIpv4(POD_B.ip), labels: { pod: 'b' }, ports: [] },
];
const deny: NetworkPolicyLite = {
  metadata: { name: 'deny-b', namespace: 'x' },
  spec: { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'] },
};
const allow80: NetworkPolicyLite = {
  metadata: { name: 'allow-80', namespace: 'x' },
  spec: {
    podSelector: { matchLabels: { pod: 'b' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }], ports: [{ protocol: 'TCP', port: 80 }] }],
  },
};

function policyNode() {
  const n = node1();
  n.pipeline.setLoadBalancer(
    new LbState({
      snatIp: serviceSnatIp(parseCidr('10.244.1.0/24')),
      serviceCidr: parseCidr('10.96.0.0/12'),
      clusterCidr: parseCidr('10.244.0.0/16'),
    }),
  );
  n.pipeline.setPolicy(compilePolicies([deny, allow80], PODS, [{ name: 'x', labels: {} }]));
  return n;
}

describe('NetworkPolicy verdicts, seen', () => {
  it('a denied SYN is a pcapng drop whose comment names the direction, the pods and the isolating policies', () => {
    const n = policyNode();
    const chunks: Buffer[] = [];
    n.pipeline.setTracer(
      new DropCapture(
        'node1',
        (c) => (chunks.push(c), true),
        () => 0,
      ),
    );
    n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 81, flags: TCP_SYN }));
    expect(readPcapng(Buffer.concat(chunks)).map((p) => p.comment)).toEqual([
      'podwire drop: policy-denied-ingress (ingress to x/b (10.244.1.3) from x/a (10.244.1.2) TCP/81 denied: isolated by x/allow-80, x/deny-b; no rule allowed it) — NetworkPolicy: the destination pod is isolated for ingress and no rule of the policies selecting it allowed this connection (node node1)',
    ]);
  });

  it('observe: the allow names its policy and rule, the drop its policies; --policy keeps both', () => {
    const n = policyNode();
    const events: FlowEvent[] = [];
    const log = new FlowLog(
      'node1',
      (e) => events.push(e),
      () => Date.parse('2026-12-07T00:00:00Z'),
    );
    const hub = new TracerHub(n.pipeline);
    hub.add(log);
    n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 80, flags: TCP_SYN }));
    n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 81, srcPort: 40001, flags: TCP_SYN }));
    hub.remove(log);
    const name = (ip: string) => ({ [POD_A.ip]: 'a', [POD_B.ip]: 'b' })[ip];
    const verdicts = events.filter((e) => e.kind === 'policy-verdict' || e.verdict === 'DROPPED');
    expect(verdicts.map((e) => formatFlow(e, name))).toEqual([
      '00:00:00.000  node1  policy-verdict: a:40000 (10.244.1.2) -> b:80 (10.244.1.3)  TCP  INGRESS ALLOWED by x/allow-80 ingress[0]',
      '00:00:00.000  node1  a:40001 (10.244.1.2) -> b:81 (10.244.1.3)  TCP [SYN]  DROPPED (policy-denied-ingress: ingress to x/b (10.244.1.3) from x/a (10.244.1.2) TCP/81 denied: isolated by x/allow-80, x/deny-b; no rule allowed it)  1 pkt 68 B',
    ]);
    expect(verdicts.filter((e) => matchFlow(e, { policy: 'deny-b' })).map((e) => e.kind)).toEqual(['drop']);
    expect(verdicts.filter((e) => matchFlow(e, { policy: 'x/allow-80' })).map((e) => e.kind)).toEqual([
      'policy-verdict',
      'drop',
    ]);
    expect(verdicts.filter((e) => matchFlow(e, { policy: 'other' }))).toEqual([]);
  });

  it('/metrics: verdicts per policy and direction', async () => {
    const n = policyNode();
    n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 80, flags: TCP_SYN }));
    n.fromPods(podTcp({ dst: POD_B.ip, dstPort: 81, srcPort: 40001, flags: TCP_SYN }));
    const text = await agentMetrics({
      node: 'node1',
      pipeline: n.pipeline,
      podName: () => undefined,
      peerName: () => undefined,
      kernelDrops: () => ({ pods: 0, underlay: 0 }),
      internalErrors: () => 0,
    }).metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('podwire_polic'));
    expect(lines).toEqual([
      'podwire_policy_verdicts_total{policy="x/allow-80",direction="ingress",verdict="allowed",node="node1"} 1',
      'podwire_policy_verdicts_total{policy="x/allow-80",direction="ingress",verdict="denied",node="node1"} 1',
      'podwire_policy_verdicts_total{policy="x/deny-b",direction="ingress",verdict="denied",node="node1"} 1',
      'podwire_policies{node="node1"} 2',
      'podwire_policy_isolated_pods{node="node1"} 1',
    ]);
  });
});
