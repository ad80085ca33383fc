import { describe, it, expect } from 'vitest';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  ISOLATED_EGRESS,
  ISOLATED_INGRESS,
  VERDICT_DENY,
  VERDICT_OPEN,
  ruleText,
} from '../../../src/policy/index.js';
import { compile, destinationsFrom, everyoneBut, ipOf, np, sourcesTo } from '../support/policy-cluster.js';

// The policy model as truth tables (networking/v1 NetworkPolicy semantics):
// selectors, the AND of one peer's two selectors vs the OR of two peers,
// policyTypes and their defaulting, deny-all vs allow-all rules, the union
// of the policies selecting a pod. Ports and ipBlocks: policy-ports.test.ts.
// Every expected list is written by hand from the spec, not computed.

const xa = (...from: string[]) => from;

describe('selection: who is isolated', () => {
  it('with no policy every pod is open to everyone, both ways', () => {
    const s = compile();
    expect(sourcesTo(s, 'x/a')).toEqual(everyoneBut('x/a'));
    expect(destinationsFrom(s, 'x/a')).toEqual(everyoneBut('x/a'));
    expect(s.isolation(ipOf('x/a'))).toBe(0);
    expect(s.judge(DIR_INGRESS, ipOf('x/a'), ipOf('y/b'), 6, 80)).toBe(VERDICT_OPEN);
    expect(s.isolatedPods).toBe(0);
  });

  it('a pod that no policy selects stays open; an empty podSelector selects every pod of its namespace only', () => {
    const s = compile(np('deny-all', { podSelector: {}, policyTypes: ['Ingress'] }));
    for (const p of ['x/a', 'x/b', 'x/c']) expect(sourcesTo(s, p), p).toEqual([]);
    expect(sourcesTo(s, 'y/a')).toEqual(everyoneBut('y/a'));
    expect(sourcesTo(s, 'z/c')).toEqual(everyoneBut('z/c'));
    expect(s.isolatedPods).toBe(3);
    expect(s.isolatedBy(ipOf('x/b'), DIR_INGRESS).map((p) => p.key)).toEqual(['x/deny-all']);
    expect(s.isolatedBy(ipOf('y/b'), DIR_INGRESS)).toEqual([]);
  });

  it('podSelector picks pods by label, in the policy’s namespace only', () => {
    const s = compile(np('iso-a', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [] }));
    expect(s.isolation(ipOf('x/a'))).toBe(ISOLATED_INGRESS);
    expect(s.isolation(ipOf('x/b'))).toBe(0);
    expect(s.isolation(ipOf('y/a'))).toBe(0);
  });

  it('podSelector matchExpressions: In, NotIn (also pods without the label), Exists, DoesNotExist', () => {
    const isolated = (expr: object) => {
      const s = compile(np('p', { podSelector: { matchExpressions: [expr as never] }, ingress: [] }));
      return ['x/a', 'x/b', 'x/c'].filter((p) => s.isolation(ipOf(p)) !== 0);
    };
    expect(isolated({ key: 'tier', operator: 'In', values: ['web', 'cache'] })).toEqual(['x/a']);
    expect(isolated({ key: 'tier', operator: 'NotIn', values: ['web'] })).toEqual(['x/b', 'x/c']);
    expect(isolated({ key: 'tier', operator: 'Exists' })).toEqual(['x/a', 'x/b']);
    expect(isolated({ key: 'tier', operator: 'DoesNotExist' })).toEqual(['x/c']);
  });

  it('matchLabels and matchExpressions in one selector are ANDed', () => {
    const s = compile(
      np('p', {
        podSelector: {
          matchLabels: { tier: 'db' },
          matchExpressions: [{ key: 'pod', operator: 'In', values: ['a', 'b'] }],
        },
        ingress: [],
      }),
    );
    expect(['x/a', 'x/b', 'x/c'].filter((p) => s.isolation(ipOf(p)) !== 0)).toEqual(['x/b']);
  });
});

describe('peers: podSelector, namespaceSelector, both', () => {
  const into = (peers: object[]) =>
    sourcesTo(
      compile(np('allow', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: peers as never }] })),
      'x/a',
    );

  it('a podSelector peer admits those pods of the policy’s own namespace', () => {
    expect(into([{ podSelector: { matchLabels: { pod: 'b' } } }])).toEqual(xa('x/b'));
    expect(into([{ podSelector: {} }])).toEqual(xa('x/b', 'x/c'));
  });

  it('a namespaceSelector peer admits every pod of the namespaces it selects (never www or a node)', () => {
    expect(into([{ namespaceSelector: { matchLabels: { team: 'blue' } } }])).toEqual(xa('y/a', 'y/b', 'y/c'));
    expect(into([{ namespaceSelector: {} }])).toEqual(xa('x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'));
  });

  it('every namespace carries kubernetes.io/metadata.name', () => {
    expect(into([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'z' } } }])).toEqual(
      xa('z/a', 'z/b', 'z/c'),
    );
    expect(
      into([
        {
          namespaceSelector: {
            matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['x', 'z'] }],
          },
        },
      ]),
    ).toEqual(xa('x/b', 'x/c', 'z/a', 'z/b', 'z/c'));
  });

  it('namespaceSelector matchExpressions: NotIn matches a namespace without the label; Exists; DoesNotExist', () => {
    const ns = (expr: object) => into([{ namespaceSelector: { matchExpressions: [expr] } }]);
    expect(ns({ key: 'env', operator: 'NotIn', values: ['prod'] })).toEqual(
      xa('y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'),
    );
    expect(ns({ key: 'env', operator: 'In', values: ['prod', 'dev'] })).toEqual(xa('x/b', 'x/c', 'y/a', 'y/b', 'y/c'));
    expect(ns({ key: 'team', operator: 'Exists' })).toEqual(xa('y/a', 'y/b', 'y/c'));
    expect(ns({ key: 'env', operator: 'DoesNotExist' })).toEqual(xa('z/a', 'z/b', 'z/c'));
  });

  it('ONE peer with both selectors = AND: those pods, in those namespaces', () => {
    expect(
      into([{ namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchLabels: { pod: 'b' } } }]),
    ).toEqual(xa('y/b'));
    // an empty podSelector next to a namespaceSelector: every pod of those namespaces
    expect(into([{ namespaceSelector: { matchLabels: { ns: 'z' } }, podSelector: {} }])).toEqual(
      xa('z/a', 'z/b', 'z/c'),
    );
    // both selectors with matchExpressions
    expect(
      into([
        {
          namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] },
          podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
        },
      ]),
    ).toEqual(xa('x/c', 'y/c'));
  });

  it('TWO peers with one selector each = OR: every pod of those namespaces, or those pods of the own namespace', () => {
    expect(
      into([{ namespaceSelector: { matchLabels: { team: 'blue' } } }, { podSelector: { matchLabels: { pod: 'b' } } }]),
    ).toEqual(xa('x/b', 'y/a', 'y/b', 'y/c'));
  });

  it('peers of one rule and rules of one policy are ORed', () => {
    const s = compile(
      np('allow', {
        podSelector: { matchLabels: { pod: 'a' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { pod: 'b' } } }] },
          { from: [{ namespaceSelector: { matchLabels: { ns: 'z' } }, podSelector: { matchLabels: { pod: 'c' } } }] },
        ],
      }),
    );
    expect(sourcesTo(s, 'x/a')).toEqual(['x/b', 'z/c']);
    const byB = s.judge(DIR_INGRESS, ipOf('x/a'), ipOf('x/b'), 6, 80);
    const byZc = s.judge(DIR_INGRESS, ipOf('x/a'), ipOf('z/c'), 6, 80);
    expect(ruleText(s.rule(byB)!)).toBe('x/allow ingress[0]: from pods pod=b in namespace x on every port');
    expect(ruleText(s.rule(byZc)!)).toBe('x/allow ingress[1]: from pods pod=c AND in namespaces ns=z on every port');
  });
});

describe('policyTypes and empty rules', () => {
  const selA = { matchLabels: { pod: 'a' } };

  it('no policyTypes and no egress rules: Ingress only (egress stays open)', () => {
    const s = compile(np('p', { podSelector: selA }));
    expect(s.isolation(ipOf('x/a'))).toBe(ISOLATED_INGRESS);
    expect(sourcesTo(s, 'x/a')).toEqual([]);
    expect(destinationsFrom(s, 'x/a')).toEqual(everyoneBut('x/a'));
  });

  it('no policyTypes but egress rules: Ingress AND Egress — its (absent) ingress rules deny all ingress', () => {
    const s = compile(
      np('p', { podSelector: selA, egress: [{ to: [{ podSelector: { matchLabels: { pod: 'b' } } }] }] }),
    );
    expect(s.isolation(ipOf('x/a'))).toBe(ISOLATED_INGRESS | ISOLATED_EGRESS);
    expect(sourcesTo(s, 'x/a')).toEqual([]);
    expect(destinationsFrom(s, 'x/a')).toEqual(['x/b']);
  });

  it('no policyTypes and `egress: []`: Ingress only (an empty list is no egress rule)', () => {
    expect(compile(np('p', { podSelector: selA, egress: [] })).isolation(ipOf('x/a'))).toBe(ISOLATED_INGRESS);
  });

  it('policyTypes [Egress] ignores ingress rules: ingress stays open', () => {
    const s = compile(
      np('p', {
        podSelector: selA,
        policyTypes: ['Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }],
        egress: [],
      }),
    );
    expect(s.isolation(ipOf('x/a'))).toBe(ISOLATED_EGRESS);
    expect(sourcesTo(s, 'x/a')).toEqual(everyoneBut('x/a'));
    expect(destinationsFrom(s, 'x/a')).toEqual([]);
  });

  it('an empty rule list denies all; a rule `{}` allows all, outside addresses included', () => {
    const deny = compile(np('p', { podSelector: selA, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] }));
    expect(sourcesTo(deny, 'x/a')).toEqual([]);
    expect(destinationsFrom(deny, 'x/a')).toEqual([]);
    expect(deny.judge(DIR_INGRESS, ipOf('x/a'), ipOf('x/b'), 6, 80)).toBe(VERDICT_DENY);
    const all = compile(
      np('p', { podSelector: selA, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] }),
    );
    expect(sourcesTo(all, 'x/a')).toEqual(everyoneBut('x/a'));
    expect(destinationsFrom(all, 'x/a')).toEqual(everyoneBut('x/a'));
    expect(all.isolation(ipOf('x/a'))).toBe(ISOLATED_INGRESS | ISOLATED_EGRESS);
    // allowed by the rule, not open: the verdict names it
    expect(ruleText(all.rule(all.judge(DIR_EGRESS, ipOf('x/a'), ipOf('www'), 6, 443))!)).toBe(
      'x/p egress[0]: to anywhere on every port',
    );
  });

  it('`from: []` and `ports: []` in a rule mean every peer and every port', () => {
    const s = compile(np('p', { podSelector: selA, ingress: [{ from: [], ports: [] }] }));
    expect(sourcesTo(s, 'x/a', 17, 9999)).toEqual(everyoneBut('x/a'));
  });
});

describe('the union of every policy selecting a pod', () => {
  const b = { podSelector: { matchLabels: { pod: 'b' } } };
  const c = { podSelector: { matchLabels: { pod: 'c' } } };

  it('deny-all plus an allow: the allow wins; both isolate', () => {
    const s = compile(
      np('deny-all', { podSelector: {} }),
      np('allow-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [b] }] }),
    );
    expect(sourcesTo(s, 'x/a')).toEqual(['x/b']);
    expect(sourcesTo(s, 'x/b')).toEqual([]);
    expect(s.isolatedBy(ipOf('x/a'), DIR_INGRESS).map((p) => p.key)).toEqual(['x/allow-b', 'x/deny-all']);
  });

  it('two allows add up, whatever their order', () => {
    const p1 = np('allow-b', { podSelector: {}, ingress: [{ from: [b] }] });
    const p2 = np('allow-c', { podSelector: { matchLabels: { tier: 'web' } }, ingress: [{ from: [c] }] });
    expect(sourcesTo(compile(p1, p2), 'x/a')).toEqual(['x/b', 'x/c']);
    expect(sourcesTo(compile(p2, p1), 'x/a')).toEqual(['x/b', 'x/c']);
    expect(sourcesTo(compile(p1, p2), 'x/c')).toEqual(['x/b']);
  });

  it('an Ingress-only and an Egress-only policy together isolate both directions', () => {
    const s = compile(
      np('in', { podSelector: {}, policyTypes: ['Ingress'] }),
      np('out', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [c] }] }),
    );
    expect(s.isolation(ipOf('x/a'))).toBe(ISOLATED_INGRESS | ISOLATED_EGRESS);
    expect(s.isolation(ipOf('x/b'))).toBe(ISOLATED_INGRESS);
    // x/a may send only to x/c, and x/c (isolated for ingress, no rule) admits nobody
    expect(destinationsFrom(s, 'x/a')).toEqual([]);
    expect(s.judge(DIR_EGRESS, ipOf('x/a'), ipOf('x/c'), 6, 80)).toBeGreaterThan(0);
    expect(s.judge(DIR_INGRESS, ipOf('x/c'), ipOf('x/a'), 6, 80)).toBe(VERDICT_DENY);
  });

  it('a connection needs egress at the source AND ingress at the destination', () => {
    const s = compile(
      np('a-to-y', {
        podSelector: { matchLabels: { pod: 'a' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }],
      }),
      np(
        'y-from-x-a',
        {
          podSelector: { matchLabels: { pod: 'b' } },
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { ns: 'x' } }, podSelector: { matchLabels: { pod: 'a' } } }] },
          ],
        },
        'y',
      ),
    );
    expect(destinationsFrom(s, 'x/a')).toEqual(['y/a', 'y/b', 'y/c']);
    expect(sourcesTo(s, 'y/b')).toEqual(['x/a']);
  });
});

describe('a selector the API server would refuse (In with no values) in one policy', () => {
  it('matches nothing there, and every other policy keeps its verdicts', async () => {
    const {
      compilePolicies: compile,
      DIR_INGRESS: IN,
      VERDICT_DENY: DENY,
    } = await import('../../../src/policy/index.js');
    const pods = [
      { namespace: 'x', name: 'a', ip: 1, labels: { pod: 'a' }, ports: [] },
      { namespace: 'x', name: 'b', ip: 2, labels: { pod: 'b' }, ports: [] },
    ];
    const bad = {
      metadata: { name: 'bad', namespace: 'x' },
      spec: {
        podSelector: { matchLabels: { pod: 'a' } },
        ingress: [
          { from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In' as const, values: [] }] } }] },
        ],
      },
    };
    const good = {
      metadata: { name: 'good', namespace: 'x' },
      spec: {
        podSelector: { matchLabels: { pod: 'b' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }],
      },
    };
    const set = compile([bad, good], pods, [{ name: 'x', labels: {} }]);
    expect(set.judge(IN, 1, 2, 6, 80)).toBe(DENY);
    expect(set.judge(IN, 2, 1, 6, 80)).toBeGreaterThan(0);
  });
});
