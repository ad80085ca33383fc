import { describe, it, expect } from 'vitest';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  PROTO_ICMP,
  denyDetail,
  lintPolicy,
  peerText,
  portText,
  ruleSpecText,
  selectorText,
  verdictText,
} from '../../../src/policy/index.js';
import { compile, ipOf, np } from '../support/policy-cluster.js';

// Policy in words, compared as exact text: what a rule admits (peers ORed,
// one peer's two selectors ANDed), verdicts with their cause, and the lint.

describe('selectors, peers, ports and rules in words', () => {
  it('selectorText: kubectl’s selector syntax; empty is ""', () => {
    expect(
      selectorText({
        matchLabels: { app: 'web', tier: 'fe' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'dev'] },
          { key: 'x', operator: 'NotIn', values: ['1'] },
          { key: 'y', operator: 'Exists' },
          { key: 'z', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier=fe,env in (prod,dev),x notin (1),y,!z');
    expect(selectorText({})).toBe('');
    expect(selectorText(undefined)).toBe('');
  });

  it('peerText: the AND of one peer says AND; an empty podSelector beside a namespaceSelector adds nothing', () => {
    expect(peerText({ podSelector: { matchLabels: { app: 'b' } } }, 'x')).toBe('pods app=b in namespace x');
    expect(peerText({ podSelector: {} }, 'x')).toBe('every pod in namespace x');
    expect(peerText({ namespaceSelector: { matchLabels: { team: 'y' } } }, 'x')).toBe('every pod in namespaces team=y');
    expect(peerText({ namespaceSelector: {} }, 'x')).toBe('every pod in every namespace');
    expect(
      peerText({ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: { matchLabels: { app: 'b' } } }, 'x'),
    ).toBe('pods app=b AND in namespaces team=y');
    expect(peerText({ namespaceSelector: { matchLabels: { team: 'y' } }, podSelector: {} }, 'x')).toBe(
      'every pod in namespaces team=y',
    );
    expect(peerText({ namespaceSelector: {}, podSelector: { matchLabels: { app: 'b' } } }, 'x')).toBe(
      'pods app=b AND in every namespace',
    );
    expect(peerText({ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '10.2.0.0/16'] } }, 'x')).toBe(
      '10.0.0.0/8 except 10.1.0.0/16, 10.2.0.0/16',
    );
    expect(peerText({ ipBlock: { cidr: '172.28.0.200/32' } }, 'x')).toBe('172.28.0.200/32');
  });

  it('portText: number, range, name, protocol only', () => {
    expect(portText({ port: 80 })).toBe('TCP/80');
    expect(portText({ protocol: 'UDP', port: 53 })).toBe('UDP/53');
    expect(portText({ port: 32000, endPort: 32768 })).toBe('TCP/32000-32768');
    expect(portText({ port: 'http' })).toBe('TCP port named "http"');
    expect(portText({ protocol: 'SCTP' })).toBe('every SCTP port');
    expect(portText({})).toBe('every TCP port');
  });

  it('ruleSpecText: peers ORed in parentheses, ports listed', () => {
    expect(ruleSpecText(DIR_INGRESS, undefined, undefined, 'x')).toBe('from anywhere on every port');
    expect(ruleSpecText(DIR_EGRESS, [], [], 'x')).toBe('to anywhere on every port');
    expect(
      ruleSpecText(
        DIR_INGRESS,
        [{ namespaceSelector: { matchLabels: { team: 'y' } } }, { podSelector: { matchLabels: { app: 'b' } } }],
        [{ port: 80 }, { protocol: 'UDP', port: 53 }],
        'x',
      ),
    ).toBe('from (every pod in namespaces team=y) OR (pods app=b in namespace x) on TCP/80, UDP/53');
    expect(
      ruleSpecText(DIR_EGRESS, [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.0.0/16'] } }], [{ port: 443 }], 'x'),
    ).toBe('to 0.0.0.0/0 except 10.244.0.0/16 on TCP/443');
  });
});

describe('verdicts in words', () => {
  const set = compile(
    np('deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    np('allow-b', {
      podSelector: { matchLabels: { pod: 'a' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 'http' }] }],
    }),
  );
  const say = (dir: 0 | 1, pod: string, peer: string, proto = 6, port = 80) =>
    verdictText(set, dir, ipOf(pod), ipOf(peer), proto, port, set.judge(dir, ipOf(pod), ipOf(peer), proto, port));

  it('allowed by a rule, denied with the isolating policies, open', () => {
    expect(say(DIR_INGRESS, 'x/a', 'x/b')).toBe(
      'ingress to x/a (10.244.1.2) from x/b (10.244.1.3) TCP/80 allowed by x/allow-b ingress[0]: from pods pod=b in namespace x on TCP port named "http"',
    );
    expect(say(DIR_INGRESS, 'x/a', 'x/c')).toBe(
      'ingress to x/a (10.244.1.2) from x/c (10.244.1.4) TCP/80 denied: isolated by x/allow-b, x/deny-all; no rule allowed it',
    );
    expect(say(DIR_EGRESS, 'x/b', 'www')).toBe(
      'egress from x/b (10.244.1.3) to 172.28.0.200 TCP/80 denied: isolated by x/deny-all; no rule allowed it',
    );
    expect(say(DIR_INGRESS, 'y/a', 'x/b', PROTO_ICMP, 0)).toBe(
      'ingress to y/a (10.244.2.2) from x/b (10.244.1.3) ICMP allowed: no policy isolates it for ingress',
    );
    expect(denyDetail(set, DIR_INGRESS, ipOf('x/a'))).toBe(
      'ingress: isolated by x/allow-b, x/deny-all; no rule allowed it',
    );
  });
});

describe('lintPolicy', () => {
  const orMistake = np('allow-frontend', {
    podSelector: { matchLabels: { pod: 'a' } },
    ingress: [
      {
        from: [
          { namespaceSelector: { matchLabels: { team: 'blue' } } },
          { podSelector: { matchLabels: { tier: 'web' } } },
        ],
      },
    ],
  });

  it('two peers with one selector each (OR) where one peer with both (AND) was probably meant', () => {
    expect(lintPolicy(orMistake)).toEqual([
      'ingress[0] lists a namespaceSelector and a podSelector as two peers: they are ORed (any pod in those namespaces, OR those pods in x). ' +
        'For pods matching both, put both selectors in ONE peer (no "-" before podSelector).',
    ]);
  });

  it('no warning for one ANDed peer, for peers of one kind, or for an ipBlock beside a selector', () => {
    expect(
      lintPolicy(
        np('p', {
          ingress: [
            {
              from: [
                { namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchLabels: { tier: 'web' } } },
              ],
            },
          ],
        }),
      ),
    ).toEqual([]);
    expect(
      lintPolicy(
        np('p', {
          ingress: [
            { from: [{ podSelector: { matchLabels: { pod: 'a' } } }, { podSelector: { matchLabels: { pod: 'b' } } }] },
          ],
        }),
      ),
    ).toEqual([]);
    expect(
      lintPolicy(np('p', { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { podSelector: {} }] }] })),
    ).toEqual([]);
  });

  it('a named port none of the selected pods has (ingress), or none of the pods the rule reaches (egress)', () => {
    // pods c have no "http"; every pod has UDP "dns" but no TCP "dns"
    const p = np('named', {
      podSelector: { matchLabels: { pod: 'c' } },
      ingress: [{ ports: [{ port: 'http' }, { port: 'dns', protocol: 'UDP' }] }],
      egress: [
        { to: [{ podSelector: { matchLabels: { pod: 'a' } } }], ports: [{ port: 'http' }, { port: 'dns' }] },
        { to: [{ ipBlock: { cidr: '172.28.0.0/24' } }], ports: [{ port: 'http' }] },
      ],
    });
    expect(lintPolicy(p, compile(p))).toEqual([
      'ingress[0]: no pod it selects has a TCP port named "http" — a named port is resolved on the destination pod (the selected pod), so that entry admits nothing.',
      'egress[0]: no pod this rule lets it reach has a TCP port named "dns" — a named port is resolved on the destination pod (the peer), so that entry admits nothing.',
      'egress[1]: no pod this rule lets it reach has a TCP port named "http" — a named port is resolved on the destination pod (the peer), so that entry admits nothing.',
    ]);
    // selecting pods a and b (both have "http"): no warning for ingress
    const ab = np('named-ab', {
      podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['a', 'b'] }] },
      ingress: [{ ports: [{ port: 'http' }] }],
    });
    expect(lintPolicy(ab, compile(ab))).toEqual([]);
    // the lint finds the policy's own rules in a set holding others
    expect(lintPolicy(p, compile(ab, p, orMistake))).toHaveLength(3);
  });
});
