import { describe, it, expect } from 'vitest';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  PROTO_ICMP,
  PolicyError,
  VERDICT_DENY,
  type PortSpec,
} from '../../../src/policy/index.js';
import {
  PROTO_SCTP,
  PROTO_TCP,
  PROTO_UDP,
  allowed,
  compile,
  destinationsFrom,
  everyoneBut,
  ipOf,
  np,
  sourcesTo,
} from '../support/policy-cluster.js';

// Ports (number, name, protocol only, endPort), ICMP, and ipBlock with
// except, as truth tables over the fixture cluster (support/policy-cluster).
// Named ports: "http" is TCP 80 on pods a, TCP 8080 on pods b, absent on c;
// "dns" is UDP 53 everywhere; "serve-81-udp" is UDP 81.

const fromB = [{ podSelector: { matchLabels: { pod: 'b' } } }];

/** (proto, port) pairs that x/b may open to `to` when `to` admits ingress on `ports` from x/b only */
function admittedPorts(ports: PortSpec[], to = 'x/a'): string[] {
  const s = compile(np('p', { podSelector: {}, ingress: [{ from: fromB, ports }] }));
  const tries: [string, number, number][] = [
    ['TCP', PROTO_TCP, 79],
    ['TCP', PROTO_TCP, 80],
    ['TCP', PROTO_TCP, 81],
    ['TCP', PROTO_TCP, 82],
    ['TCP', PROTO_TCP, 8080],
    ['UDP', PROTO_UDP, 53],
    ['UDP', PROTO_UDP, 80],
    ['UDP', PROTO_UDP, 81],
    ['SCTP', PROTO_SCTP, 80],
  ];
  return tries.filter(([, proto, port]) => allowed(s, 'x/b', to, proto, port)).map(([t, , port]) => `${t}/${port}`);
}

describe('ports', () => {
  it('by number: that port, TCP when no protocol is given', () => {
    expect(admittedPorts([{ port: 80 }])).toEqual(['TCP/80']);
    expect(admittedPorts([{ protocol: 'UDP', port: 80 }])).toEqual(['UDP/80']);
    expect(admittedPorts([{ protocol: 'SCTP', port: 80 }])).toEqual(['SCTP/80']);
    expect(
      admittedPorts([
        { protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 },
      ]),
    ).toEqual(['TCP/80', 'UDP/53']);
  });

  it('a number written as a string is the number', () => {
    expect(admittedPorts([{ port: '81' }])).toEqual(['TCP/81']);
    expect(admittedPorts([{ port: '80', endPort: 82 }])).toEqual(['TCP/80', 'TCP/81', 'TCP/82']);
  });

  it('protocol only: every port of that protocol', () => {
    expect(admittedPorts([{ protocol: 'UDP' }])).toEqual(['UDP/53', 'UDP/80', 'UDP/81']);
    expect(admittedPorts([{}])).toEqual(['TCP/79', 'TCP/80', 'TCP/81', 'TCP/82', 'TCP/8080']);
  });

  it('endPort: the range port..endPort, inclusive', () => {
    expect(admittedPorts([{ port: 80, endPort: 81 }])).toEqual(['TCP/80', 'TCP/81']);
    expect(admittedPorts([{ protocol: 'UDP', port: 53, endPort: 80 }])).toEqual(['UDP/53', 'UDP/80']);
    expect(admittedPorts([{ port: 80, endPort: 80 }])).toEqual(['TCP/80']);
  });

  it('by name (ingress): resolved on the destination pod, name AND protocol must match', () => {
    expect(admittedPorts([{ port: 'http' }], 'x/a')).toEqual(['TCP/80']);
    expect(admittedPorts([{ port: 'http' }], 'x/c')).toEqual([]); // x/c has no port "http"
    expect(admittedPorts([{ port: 'dns', protocol: 'UDP' }], 'x/a')).toEqual(['UDP/53']);
    expect(admittedPorts([{ port: 'dns' }], 'x/a')).toEqual([]); // "dns" is UDP; the entry means TCP
    expect(admittedPorts([{ port: 'serve-80-tcp', protocol: 'UDP' }], 'x/a')).toEqual([]);
    // x/b's "http" is 8080: a policy selecting every pod admits 80 to a and 8080 to b (from x/c)
    const s = compile(np('p', { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] }));
    expect([80, 8080].filter((port) => allowed(s, 'x/c', 'x/b', PROTO_TCP, port))).toEqual([8080]);
    expect([80, 8080].filter((port) => allowed(s, 'x/c', 'x/a', PROTO_TCP, port))).toEqual([80]);
  });

  it('by name (egress): resolved on the peer pod it goes to; an address that is no pod has no named ports', () => {
    const s = compile(
      np('p', {
        podSelector: { matchLabels: { pod: 'c' } },
        policyTypes: ['Egress'],
        egress: [{ ports: [{ port: 'http' }] }],
      }),
    );
    expect(destinationsFrom(s, 'x/c', PROTO_TCP, 80)).toEqual(['x/a', 'y/a', 'z/a']);
    expect(destinationsFrom(s, 'x/c', PROTO_TCP, 8080)).toEqual(['x/b', 'y/b', 'z/b']);
    expect(s.judge(DIR_EGRESS, ipOf('x/c'), ipOf('www'), PROTO_TCP, 80)).toBe(VERDICT_DENY);
  });

  it('ports and peers of one rule are ANDed', () => {
    const s = compile(
      np('p', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: fromB, ports: [{ port: 80 }] }] }),
    );
    expect(sourcesTo(s, 'x/a', PROTO_TCP, 80)).toEqual(['x/b']);
    expect(sourcesTo(s, 'x/a', PROTO_TCP, 81)).toEqual([]);
  });
});

describe('ICMP and other protocols without ports', () => {
  it('match only rules that list no ports (protocol-only entries included)', () => {
    const noPorts = compile(np('p', { podSelector: {}, ingress: [{ from: fromB }] }));
    expect(noPorts.judge(DIR_INGRESS, ipOf('x/a'), ipOf('x/b'), PROTO_ICMP, 0)).toBeGreaterThan(0);
    for (const ports of [[{ port: 80 }], [{ protocol: 'UDP' }], [{ protocol: 'TCP' }], [{ port: 0, endPort: 65535 }]]) {
      const s = compile(np('p', { podSelector: {}, ingress: [{ from: fromB, ports }] }));
      expect(s.judge(DIR_INGRESS, ipOf('x/a'), ipOf('x/b'), PROTO_ICMP, 0), JSON.stringify(ports)).toBe(VERDICT_DENY);
    }
  });

  it('an open pod answers ICMP from anyone', () => {
    expect(allowed(compile(), 'www', 'x/a', PROTO_ICMP, 0)).toBe(true);
  });
});

describe('ipBlock', () => {
  const into = (ipBlock: object) =>
    sourcesTo(
      compile(np('p', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ ipBlock } as never] }] })),
      'x/a',
    );

  it('matches pod IPs and outside addresses alike; except carves holes', () => {
    expect(into({ cidr: '10.244.2.0/24' })).toEqual(['y/a', 'y/b', 'y/c']);
    expect(into({ cidr: '10.244.2.0/24', except: ['10.244.2.3/32'] })).toEqual(['y/a', 'y/c']);
    expect(into({ cidr: '172.28.0.0/24' })).toEqual(['www', 'node1']);
    expect(into({ cidr: '172.28.0.0/16', except: ['172.28.0.0/28'] })).toEqual(['www']);
    expect(into({ cidr: '0.0.0.0/0', except: ['10.244.0.0/16'] })).toEqual(['www', 'node1']);
    expect(into({ cidr: '0.0.0.0/0' })).toEqual(everyoneBut('x/a'));
    expect(into({ cidr: '10.244.3.4/32' })).toEqual(['z/c']);
  });

  it('host bits in the CIDR are masked off, as Kubernetes does', () => {
    expect(into({ cidr: '10.244.2.77/24' })).toEqual(['y/a', 'y/b', 'y/c']);
  });

  it('an IPv6 block never matches (the cluster is IPv4), an IPv6 except is ignored', () => {
    expect(into({ cidr: '::/0' })).toEqual([]);
    expect(into({ cidr: '10.244.2.0/24', except: ['fd00::/8'] })).toEqual(['y/a', 'y/b', 'y/c']);
  });

  it('for egress: to the lab’s www and nowhere else', () => {
    const s = compile(
      np('p', {
        podSelector: { matchLabels: { pod: 'a' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '172.28.0.200/32' } }], ports: [{ port: 443 }] }],
      }),
    );
    expect(destinationsFrom(s, 'x/a', PROTO_TCP, 443)).toEqual(['www']);
    expect(destinationsFrom(s, 'x/a', PROTO_TCP, 80)).toEqual([]);
  });

  it('a CIDR that is not one is an error naming where it is', () => {
    const bad = (cidr: string) => () =>
      compile(np('bad', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr } }] }] }));
    for (const c of ['10.0.0.0', '10.0.0.0/33', '10.0.0.256/8', 'garbage']) {
      expect(bad(c), c).toThrowError(PolicyError);
      expect(bad(c), c).toThrowError(`x/bad ingress[0] peer 0: "${c}" is not a CIDR`);
    }
  });
});

describe('a pod isolated on one side only', () => {
  it('from an open pod to a pod isolated for ingress on port 80 only', () => {
    const s = compile(
      np('web', { podSelector: { matchLabels: { tier: 'web' } }, ingress: [{ ports: [{ port: 80 }] }] }, 'y'),
    );
    expect(sourcesTo(s, 'y/a', PROTO_TCP, 80)).toEqual(everyoneBut('y/a'));
    expect(sourcesTo(s, 'y/a', PROTO_TCP, 81)).toEqual([]);
    expect(sourcesTo(s, 'y/b', PROTO_TCP, 81)).toEqual(everyoneBut('y/b'));
  });
});
