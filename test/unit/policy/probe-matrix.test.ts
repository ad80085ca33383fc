import { describe, it, expect } from 'vitest';
import { compilePolicies, type NetworkPolicyLite, type PolicyPod } from '../../../src/policy/index.js';
import { parseIpv4 } from '../../../src/packet/ipv4-address.js';
import {
  assembleMatrix,
  expectConnection,
  formatMatrix,
  markOf,
  matrixFailed,
  planProbes,
  type ProbeResult,
  type SourceOutcome,
} from '../../../src/probe/index.js';

// The truth table from the model's expectations and what probers saw:
// x/a, x/b on two nodes, y/a; x denies all ingress, and x/allow-y-to-b lets
// namespace y reach x/b on TCP/80 only.
const pod = (namespace: string, name: string, ip: string, nodeName: string): PolicyPod => ({
  namespace,
  name,
  ip: parseIpv4(ip),
  labels: { pod: name },
  nodeName,
  ports: [
    { name: 'serve-80-tcp', port: 80, proto: 6 },
    { name: 'serve-80-udp', port: 80, proto: 17 },
  ],
});
const XA = pod('x', 'a', '10.244.1.2', 'node1');
const XB = pod('x', 'b', '10.244.2.2', 'node2');
const YA = pod('y', 'a', '10.244.1.3', 'node1');
const PODS = [YA, XB, XA]; // the plan sorts them
const POLICIES: NetworkPolicyLite[] = [
  { metadata: { namespace: 'x', name: 'deny-ingress' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
  {
    metadata: { namespace: 'x', name: 'allow-y-to-b' },
    spec: {
      podSelector: { matchLabels: { pod: 'b' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ protocol: 'TCP', port: 80 }] },
      ],
    },
  },
];
const NAMESPACES = [
  { name: 'x', labels: { ns: 'x' } },
  { name: 'y', labels: { ns: 'y' } },
];
const set = compilePolicies(POLICIES, PODS, NAMESPACES);

/** What a prober would report if the dataplane did exactly what the model says, with exceptions. */
function observedAsExpected(from: PolicyPod, except: Record<string, ProbeResult> = {}): SourceOutcome {
  const plan = planProbes({ pods: PODS, ports: [80], protocols: ['tcp', 'udp'], to: 'pods' });
  const results = new Map<string, ProbeResult>();
  for (const p of plan.probes[plan.pods.indexOf(from)]) {
    const [ti, pi] = p.id.split(':').map(Number);
    const allowed = expectConnection(set, from, plan.pods[pi], plan.tables[ti].proto, 80).allowed;
    results.set(
      p.id,
      except[p.id] ??
        (allowed
          ? { observed: 'connected', detail: 'connected (1 ms)', ms: 1 }
          : { observed: 'blocked', detail: 'no answer in 1000 ms', ms: 1000 }),
    );
  }
  return { results };
}

describe('expected verdicts from the policy model', () => {
  it('both directions must allow; a pod to itself always; same-node pods are judged', () => {
    expect(expectConnection(set, XA, XA, 'tcp', 80)).toEqual({
      allowed: true,
      why: 'a pod to itself: the traffic never leaves the pod',
    });
    // y/a and x/a share node1: still judged (only the node itself is exempt)
    expect(expectConnection(set, YA, XA, 'tcp', 80)).toEqual({
      allowed: false,
      why: 'ingress to x/a (10.244.1.2) from y/a (10.244.1.3) TCP/80 denied: isolated by x/deny-ingress; no rule allowed it',
    });
    expect(expectConnection(set, XA, YA, 'udp', 80).allowed).toBe(true);
    expect(expectConnection(set, YA, XB, 'tcp', 80)).toEqual({
      allowed: true,
      why: 'egress from y/a (10.244.1.3) to x/b (10.244.2.2) TCP/80 allowed: no policy isolates it for egress; ingress to x/b (10.244.2.2) from y/a (10.244.1.3) TCP/80 allowed by x/allow-y-to-b ingress[0]: from every pod in namespaces ns=y on TCP/80',
    });
    expect(expectConnection(set, YA, XB, 'udp', 80).allowed).toBe(false);
  });

  it('marks: connected where allowed, nothing through where blocked; anything else is a mismatch', () => {
    expect(markOf('allowed', 'connected')).toBe('.');
    expect(markOf('allowed', 'refused')).toBe('!');
    expect(markOf('allowed', 'blocked')).toBe('!');
    expect(markOf('allowed', 'dns-failed')).toBe('!');
    expect(markOf('blocked', 'blocked')).toBe('X');
    expect(markOf('blocked', 'unreachable')).toBe('X');
    expect(markOf('blocked', 'dns-failed')).toBe('X');
    expect(markOf('blocked', 'connected')).toBe('!');
    expect(markOf('blocked', 'refused')).toBe('!');
    expect(markOf('blocked', 'error')).toBe('?');
    expect(markOf('allowed', 'not-probed')).toBe('?');
    expect(markOf('allowed', 'no-target')).toBe('-');
  });
});

describe('the matrix and its table', () => {
  const plan = planProbes({ pods: PODS, ports: [80], protocols: ['tcp', 'udp'], to: 'pods' });
  // y/a -> x/b TCP/80 reached the pod but nothing listened; x/b's prober could not run
  const outcomes: SourceOutcome[] = [
    observedAsExpected(XA),
    { error: 'could not probe from x/b: pod x/b has no running container' },
    observedAsExpected(YA, { '0:1': { observed: 'refused', detail: 'connection refused (1 ms)', ms: 1 } }),
  ];
  const m = assembleMatrix(plan, set, outcomes, ['SCTP: not probed: the kernel has no SCTP (no /proc/net/sctp)']);

  it('counts cells: correct, wrong, not probed', () => {
    expect(m.summary).toEqual({ cells: 18, compared: 12, correct: 11, wrong: 1, notProbed: 6, noTarget: 0 });
    expect(matrixFailed(m)).toBe(true);
    expect(m.pods).toEqual([
      { pod: 'x/a', ip: '10.244.1.2', node: 'node1' },
      { pod: 'x/b', ip: '10.244.2.2', node: 'node2' },
      { pod: 'y/a', ip: '10.244.1.3', node: 'node1' },
    ]);
  });

  it('prints one table per protocol/port, the legend, the summary and every mismatch with the model’s reason', () => {
    expect(formatMatrix(m)).toBe(
      [
        'SCTP: not probed: the kernel has no SCTP (no /proc/net/sctp)',
        '',
        'TCP/80   x/a   x/b   y/a',
        'x/a      .     X     .',
        'x/b      ?     ?     ?',
        'y/a      X     !     .',
        '',
        'UDP/80   x/a   x/b   y/a',
        'x/a      .     X     .',
        'x/b      ?     ?     ?',
        'y/a      X     X     .',
        '',
        '. allowed as expected   X blocked as expected   ! observed differs from expected   ? not probed   - no target',
        '11/18 correct, 1 wrong, 6 not probed',
        'wrong:',
        '  y/a -> x/b TCP/80: expected allowed, observed refused: connection refused (1 ms)',
        '      model: egress from y/a (10.244.1.3) to x/b (10.244.2.2) TCP/80 allowed: no policy isolates it for egress; ingress to x/b (10.244.2.2) from y/a (10.244.1.3) TCP/80 allowed by x/allow-y-to-b ingress[0]: from every pod in namespaces ns=y on TCP/80',
        'not probed:',
        ...['TCP/80', 'UDP/80'].flatMap((t) =>
          ['x/a', 'x/b', 'y/a'].map(
            (to) => `  x/b -> ${to} ${t}: could not probe from x/b: pod x/b has no running container`,
          ),
        ),
      ].join('\n'),
    );
  });

  it('JSON has every cell: expected and why, observed and detail, the mark', () => {
    const json = JSON.parse(JSON.stringify(m));
    expect(json.tables.map((t: { name: string }) => t.name)).toEqual(['TCP/80', 'UDP/80']);
    expect(json.tables[0].rows[2][0]).toEqual({
      from: 'y/a',
      to: 'x/a',
      expected: 'blocked',
      why: 'ingress to x/a (10.244.1.2) from y/a (10.244.1.3) TCP/80 denied: isolated by x/deny-ingress; no rule allowed it',
      observed: 'blocked',
      detail: 'no answer in 1000 ms',
      mark: 'X',
    });
    expect(json.tables[1].rows[1][2]).toMatchObject({
      from: 'x/b',
      to: 'y/a',
      expected: 'allowed',
      observed: 'not-probed',
      mark: '?',
    });
  });

  it('all as expected: the summary says so and the run passes', () => {
    const ok = assembleMatrix(plan, set, [observedAsExpected(XA), observedAsExpected(XB), observedAsExpected(YA)]);
    expect(ok.summary).toEqual({ cells: 18, compared: 18, correct: 18, wrong: 0, notProbed: 0, noTarget: 0 });
    expect(matrixFailed(ok)).toBe(false);
    expect(formatMatrix(ok).split('\n').slice(-2)).toEqual([
      '. allowed as expected   X blocked as expected   ! observed differs from expected   ? not probed   - no target',
      '18/18 correct, 0 wrong',
    ]);
  });
});
