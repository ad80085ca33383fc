import { describe, it, expect } from 'vitest';
import { formatConntrack, matchConntrack, type ConntrackRow } from '../../../src/cli/conntrack.js';

const row = (over: Partial<ConntrackRow> = {}): ConntrackRow & { node: string } => ({
  node: 'node1',
  proto: 'TCP',
  state: 'ESTABLISHED',
  secondsLeft: 86399,
  ageSeconds: 1,
  orig: { src: '10.244.1.2', sport: 41000, dst: '10.96.1.2', dport: 8080 },
  reply: { src: '10.244.2.4', sport: 8080, dst: '10.244.1.2', dport: 41000 },
  nat: ['dnat'],
  backend: 'backend-7d9f-x2',
  packets: [6, 4],
  bytes: [398, 538],
  ...over,
});

describe('podwire conntrack list', () => {
  it('prints the original and reply tuples, NAT, backend and both directions’ counters, as conntrack -L does', () => {
    const masq = row({
      proto: 'UDP',
      state: 'UNREPLIED',
      secondsLeft: 29,
      orig: { src: '10.244.1.2', sport: 40000, dst: '172.28.0.200', dport: 53 },
      reply: { src: '172.28.0.200', sport: 53, dst: '172.28.0.11', dport: 61000 },
      nat: ['masquerade'],
      backend: undefined,
      packets: [1, 0],
      bytes: [60, 0],
    });
    expect(formatConntrack([row(), masq])).toBe(
      [
        'NODE    PROTO   STATE         TIMEOUT   ORIGINAL                              REPLY                                  NAT          BACKEND           PACKETS   BYTES',
        'node1   TCP     ESTABLISHED   86399s    10.244.1.2:41000 -> 10.96.1.2:8080    10.244.2.4:8080 -> 10.244.1.2:41000    dnat         backend-7d9f-x2   6/4       398/538',
        'node1   UDP     UNREPLIED     29s       10.244.1.2:40000 -> 172.28.0.200:53   172.28.0.200:53 -> 172.28.0.11:61000   masquerade   -                 1/0       60/0',
        '2 flow entries have been shown.',
      ].join('\n'),
    );
    expect(formatConntrack([])).toBe('0 flow entries have been shown.');
  });

  it('filters on the original tuple: protocol, the Service address asked for, source, destination port', () => {
    expect(matchConntrack(row(), { proto: 'tcp', serviceIp: '10.96.1.2', port: 8080, src: '10.244.1.2' })).toBe(true);
    expect(matchConntrack(row(), { proto: 'udp' })).toBe(false);
    expect(matchConntrack(row(), { serviceIp: '10.244.2.4' })).toBe(false); // the backend is the reply's source, not what the client asked
    expect(matchConntrack(row(), { port: 80 })).toBe(false);
  });
});
