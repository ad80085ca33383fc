import { describe, it, expect } from 'vitest';
import { parseIpv4 } from '../../../src/packet/index.js';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  VERDICT_DENY,
  VERDICT_OPEN,
  compilePolicies,
  policyNamespaceOf,
  policyOf,
  policyPodOf,
  type PolicyCounters,
  type PolicyNamespace,
  type PolicyPod,
} from '../../../src/policy/index.js';
import { NAMESPACES, PODS, ipOf, np } from '../support/policy-cluster.js';

// From API objects to the model's inputs (which pods are pods to policy),
// namespaces' name label, and the per-policy counters the agent exports.

type Obj = Record<string, any>;
const podObj = (name: string, ip: string | undefined, extra: Obj = {}, spec: Obj = {}): Obj => ({
  metadata: { name, namespace: 'x', labels: { pod: name } },
  spec: {
    nodeName: 'node1',
    containers: [
      {
        name: 'c',
        ports: [
          { name: 'http', containerPort: 8080 },
          { containerPort: 53, protocol: 'UDP' },
        ],
      },
    ],
    ...spec,
  },
  status: { phase: 'Running', ...(ip === undefined ? {} : { podIP: ip }), ...extra },
});

describe('policyPodOf: which pods are pods to policy', () => {
  it('a running pod with an IPv4 address, its labels and its containers’ ports (init containers too)', () => {
    const p = policyPodOf(
      podObj(
        'a',
        '10.244.1.9',
        {},
        { initContainers: [{ name: 'i', ports: [{ name: 'metrics', containerPort: 9090, protocol: 'SCTP' }] }] },
      ),
    );
    expect(p).toEqual({
      namespace: 'x',
      name: 'a',
      ip: parseIpv4('10.244.1.9'),
      labels: { pod: 'a' },
      nodeName: 'node1',
      ports: [
        { name: 'metrics', port: 9090, proto: 132 },
        { name: 'http', port: 8080, proto: 6 },
        { name: undefined, port: 53, proto: 17 },
      ],
    });
  });

  it('not a pod to policy: no IP yet, an IPv6 one, a hostNetwork pod (its IP is the node’s), a finished pod', () => {
    expect(policyPodOf(podObj('a', undefined))).toBeNull();
    expect(policyPodOf(podObj('a', ''))).toBeNull();
    expect(policyPodOf(podObj('a', 'fd00::5'))).toBeNull();
    expect(policyPodOf(podObj('a', '172.28.0.11', {}, { hostNetwork: true }))).toBeNull();
    expect(policyPodOf(podObj('a', '10.244.1.9', { phase: 'Succeeded' }))).toBeNull();
    expect(policyPodOf(podObj('a', '10.244.1.9', { phase: 'Failed' }))).toBeNull();
    expect(policyPodOf(podObj('a', 'not-an-ip'))).toBeNull();
  });

  it('a hostNetwork pod is never matched by a podSelector: its traffic is the node’s (ipBlock may match it)', () => {
    const host = podObj('b', '172.28.0.11', {}, { hostNetwork: true });
    const pods = [podObj('a', '10.244.1.9'), host].map(policyPodOf).filter((p): p is PolicyPod => p !== null);
    const s = compilePolicies(
      [
        policyOf({
          metadata: { name: 'p', namespace: 'x' },
          spec: {
            podSelector: {},
            ingress: [
              { from: [{ podSelector: { matchLabels: { pod: 'b' } } }] },
              { from: [{ ipBlock: { cidr: '172.28.0.11/32' } }], ports: [{ port: 22 }] },
            ],
          },
        }),
      ],
      pods,
      [],
    );
    const a = parseIpv4('10.244.1.9');
    const node = parseIpv4('172.28.0.11');
    expect(s.isolation(node)).toBe(0); // not selected: not a pod
    expect(s.judge(DIR_INGRESS, a, node, 6, 80)).toBe(VERDICT_DENY);
    expect(s.judge(DIR_INGRESS, a, node, 6, 22)).toBeGreaterThan(0);
  });
});

describe('namespaces and policies from API objects', () => {
  it('policyNamespaceOf: the kubernetes.io/metadata.name label, even when the object lacks it', () => {
    expect(policyNamespaceOf({ metadata: { name: 'y', labels: { team: 'blue' } } })).toEqual({
      name: 'y',
      labels: { 'kubernetes.io/metadata.name': 'y', team: 'blue' },
    });
  });

  it('compilePolicies gives every namespace its name label: listed without it, or not listed at all', () => {
    const byName = (n: string) =>
      np('p', {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': n } } }] }],
      });
    const bare: PolicyNamespace[] = [
      { name: 'x', labels: {} },
      { name: 'y', labels: { team: 'blue' } },
    ];
    for (const namespaces of [bare, []]) {
      const s = compilePolicies([byName('y')], PODS, namespaces);
      expect(s.judge(DIR_INGRESS, ipOf('x/a'), ipOf('y/b'), 6, 80)).toBeGreaterThan(0);
      expect(s.judge(DIR_INGRESS, ipOf('x/a'), ipOf('z/b'), 6, 80)).toBe(VERDICT_DENY);
    }
  });

  it('policyOf: name, namespace (default when absent) and spec', () => {
    expect(policyOf({ metadata: { name: 'p', uid: 'u' }, spec: { podSelector: {} }, status: {} })).toEqual({
      metadata: { name: 'p', namespace: 'default' },
      spec: { podSelector: {} },
    });
  });
});

describe('count(): per-policy counters', () => {
  it('allowed counts for the policy of the rule, denied for every policy isolating the pod, open for none; kept across compiles', () => {
    const counters = new Map<string, PolicyCounters>();
    const policies = [
      np('deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      np('allow-b', {
        podSelector: { matchLabels: { pod: 'a' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }],
      }),
    ];
    const s = compilePolicies(policies, PODS, NAMESPACES, { counters });
    const judgeAndCount = (dir: 0 | 1, pod: string, peer: string) => {
      const v = s.judge(dir, ipOf(pod), ipOf(peer), 6, 80);
      s.count(dir, ipOf(pod), v);
      return v;
    };
    expect(judgeAndCount(DIR_INGRESS, 'x/a', 'x/b')).toBeGreaterThan(0);
    expect(judgeAndCount(DIR_INGRESS, 'x/a', 'x/c')).toBe(VERDICT_DENY);
    expect(judgeAndCount(DIR_INGRESS, 'x/a', 'x/c')).toBe(VERDICT_DENY);
    expect(judgeAndCount(DIR_EGRESS, 'x/b', 'x/a')).toBe(VERDICT_DENY);
    expect(judgeAndCount(DIR_INGRESS, 'y/a', 'x/a')).toBe(VERDICT_OPEN);
    expect(Object.fromEntries(counters)).toEqual({
      'x/allow-b': { ingressAllowed: 1, ingressDenied: 2, egressAllowed: 0, egressDenied: 0 },
      'x/deny-all': { ingressAllowed: 0, ingressDenied: 2, egressAllowed: 0, egressDenied: 1 },
    });
    // a recompile (a policy changed) keeps counting into the same objects
    const again = compilePolicies(policies, PODS, NAMESPACES, { counters });
    again.count(DIR_INGRESS, ipOf('x/a'), again.judge(DIR_INGRESS, ipOf('x/a'), ipOf('x/b'), 6, 80));
    expect(counters.get('x/allow-b')!.ingressAllowed).toBe(2);
    expect(again.policies.map((p) => [p.key, p.selected])).toEqual([
      ['x/allow-b', 1],
      ['x/deny-all', 3],
    ]);
  });
});
