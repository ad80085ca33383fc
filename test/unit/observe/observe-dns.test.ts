import { describe, it, expect } from 'vitest';
import packet from 'dns-packet';
import {
  FlowLog,
  DnsWatch,
  decodeDns,
  expansionsOf,
  formatFlow,
  matchFlow,
  type FlowEvent,
} from '../../../src/observe/index.js';
import { FWD_LOCAL_POD, FWD_UNDERLAY, FWD_VXLAN } from '../../../src/dataplane/index.js';
import { parseIpv4, parseMac } from '../../../src/packet/index.js';
import { udpFrame, tcpFrame } from '../support/frames.js';

// Real DNS messages (dns-packet's encoder, as a resolver and CoreDNS write them)
// in real frames, through the flow log as the agent's pipeline hands them over.
const CLIENT = '10.244.1.2';
const COREDNS = '10.244.2.7';
const VIP = '10.96.0.10';
const SEARCH = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
const macs = { srcMac: parseMac('0a:58:0a:f4:01:02'), dstMac: parseMac('0a:58:0a:f4:01:01') };

const query = (id: number, name: string) =>
  packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
function response(id: number, name: string, rcode: 'NOERROR' | 'NXDOMAIN', address?: string): Buffer {
  const p = packet.encode({
    type: 'response',
    id,
    flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | packet.AUTHORITATIVE_ANSWER,
    questions: [{ type: 'A', name }],
    answers: address ? [{ type: 'A', name, ttl: 30, data: address }] : [],
  });
  if (rcode === 'NXDOMAIN') p[3] = (p[3] & 0xf0) | 3;
  return p;
}
const qFrame = (id: number, name: string, port = 41000) =>
  udpFrame({ ...macs, src: CLIENT, dst: COREDNS, srcPort: port, dstPort: 53, payload: query(id, name) });
// the answer as the client's node delivers it: its source translated back to the ClusterIP
const rFrame = (id: number, name: string, rcode: 'NOERROR' | 'NXDOMAIN', address?: string, port = 41000) =>
  udpFrame({ ...macs, src: VIP, dst: CLIENT, srcPort: 53, dstPort: port, payload: response(id, name, rcode, address) });

function harness() {
  let mono = 1000;
  const events: FlowEvent[] = [];
  const log = new FlowLog(
    'node1',
    (e) => events.push(e),
    () => Date.UTC(2026, 10, 23, 11, 0, 0, 5),
    30_000,
    {
      searchOf: (ip) => (ip === CLIENT ? SEARCH : undefined),
      monoMs: () => mono,
    },
  );
  const peer = parseIpv4('172.28.0.12');
  return {
    events,
    dns: () => events.filter((e) => e.dns),
    advance: (ms: number) => (mono += ms),
    /** a query leaving the client pod (towards node2 over VXLAN) */
    sendQuery: (f: Buffer) => log.forwarded(FWD_VXLAN, 0, f, 0, f.length, peer, 1),
    /** a response arriving from the underlay, delivered to the client pod */
    deliver: (f: Buffer) => log.forwarded(FWD_LOCAL_POD, 1, f, 0, f.length, 0, 1),
    log,
  };
}

describe('DNS in the flow log', () => {
  it('the ndots:5 cost of api.example.com: three NXDOMAIN expansions, then the name as it is — each with its latency and expansion', () => {
    const h = harness();
    const steps: [string, 'NOERROR' | 'NXDOMAIN', string?][] = [
      ['api.example.com.default.svc.cluster.local', 'NXDOMAIN'],
      ['api.example.com.svc.cluster.local', 'NXDOMAIN'],
      ['api.example.com.cluster.local', 'NXDOMAIN'],
      ['api.example.com', 'NOERROR', '172.28.0.200'],
    ];
    steps.forEach(([name, rcode, addr], i) => {
      h.sendQuery(qFrame(100 + i, name));
      h.advance(0.5 + i);
      h.deliver(rFrame(100 + i, name, rcode, addr));
    });
    const dns = h.dns();
    expect(dns.map((e) => e.kind)).toEqual([
      'dns-query',
      'dns-response',
      'dns-query',
      'dns-response',
      'dns-query',
      'dns-response',
      'dns-query',
      'dns-response',
    ]);
    expect(dns.map((e) => e.dns!.expansion)).toEqual([
      'search 1/3 of "api.example.com"',
      'search 1/3 of "api.example.com"',
      'search 2/3 of "api.example.com"',
      'search 2/3 of "api.example.com"',
      'search 3/3 of "api.example.com"',
      'search 3/3 of "api.example.com"',
      'as it is, after 3 search domains',
      'as it is, after 3 search domains',
    ]);
    expect(dns[1].dns).toMatchObject({
      name: 'api.example.com.default.svc.cluster.local.',
      type: 'A',
      rcode: 'NXDOMAIN',
      answers: [],
      latencyMs: 0.5,
    });
    expect(dns[7].dns).toMatchObject({ rcode: 'NOERROR', answers: ['A 172.28.0.200'], latencyMs: 3.5 });
    const names = new Map([
      [CLIENT, 'client'],
      [COREDNS, 'coredns-5d78c9869d-x2x7k'],
    ]);
    expect(formatFlow(dns[0], (ip) => names.get(ip))).toBe(
      '11:00:00.005  node1  client:41000 (10.244.1.2) -> coredns-5d78c9869d-x2x7k:53 (10.244.2.7)  UDP  DNS query A api.example.com.default.svc.cluster.local.  [search 1/3 of "api.example.com"]',
    );
    expect(formatFlow(dns[1], (ip) => names.get(ip))).toBe(
      '11:00:00.005  node1  10.96.0.10:53 -> client:41000 (10.244.1.2)  UDP  DNS answer NXDOMAIN A api.example.com.default.svc.cluster.local. 0.5 ms  [search 1/3 of "api.example.com"]',
    );
    expect(formatFlow(dns[7], (ip) => names.get(ip))).toBe(
      '11:00:00.005  node1  10.96.0.10:53 -> client:41000 (10.244.1.2)  UDP  DNS answer NOERROR A api.example.com. A 172.28.0.200 3.5 ms  [as it is, after 3 search domains]',
    );
  });

  it('a short name answered by the first search domain; the flows themselves are still reported', () => {
    const h = harness();
    h.sendQuery(qFrame(7, 'backend.default.svc.cluster.local'));
    h.advance(0.8);
    h.deliver(rFrame(7, 'backend.default.svc.cluster.local', 'NOERROR', '10.96.1.2'));
    expect(h.events.map((e) => e.kind)).toEqual(['new', 'dns-query', 'new', 'dns-response']);
    expect(h.dns()[1].dns).toMatchObject({
      expansion: 'search 1/3 of "backend"',
      answers: ['A 10.96.1.2'],
      latencyMs: 0.8,
    });
  });

  it('reads a chain: backend.default through domain 1, then domain 2 (not "backend" through domain 1)', () => {
    const h = harness();
    h.sendQuery(qFrame(1, 'backend.default.default.svc.cluster.local'));
    h.sendQuery(qFrame(2, 'backend.default.svc.cluster.local'));
    expect(h.dns().map((e) => e.dns!.expansion)).toEqual([
      'search 1/3 of "backend.default"',
      'search 2/3 of "backend.default"',
    ]);
  });

  it('matches a response to its query by id, client port and name: another id or port is not its answer', () => {
    const h = harness();
    h.sendQuery(qFrame(9, 'web.default.svc.cluster.local', 41000));
    h.deliver(rFrame(10, 'web.default.svc.cluster.local', 'NOERROR', '10.96.5.5', 41000));
    h.deliver(rFrame(9, 'web.default.svc.cluster.local', 'NOERROR', '10.96.5.5', 42000));
    expect(
      h
        .dns()
        .slice(1)
        .map((e) => e.dns!.latencyMs),
    ).toEqual([undefined, undefined]);
    h.deliver(rFrame(9, 'WEB.default.svc.cluster.local', 'NOERROR', '10.96.5.5', 41000)); // case is no matter
    expect(h.dns()[3].dns!.latencyMs).toBe(0);
  });

  it('a query never answered is reported after 5 s; --dns and --port 53 select DNS events', () => {
    const h = harness();
    h.sendQuery(qFrame(11, 'nosuch.default.svc.cluster.local'));
    h.log.tick();
    expect(h.dns()).toHaveLength(1);
    h.advance(5000);
    h.log.tick();
    const lost = h.dns()[1];
    expect(lost).toMatchObject({
      kind: 'dns-unanswered',
      src: CLIENT,
      srcPort: 41000,
      dns: { name: 'nosuch.default.svc.cluster.local.', latencyMs: 5000 },
    });
    expect(formatFlow(lost, () => undefined)).toBe(
      '11:00:00.005  node1  10.244.1.2:41000  DNS query A nosuch.default.svc.cluster.local. got no answer in 5000 ms  [search 1/3 of "nosuch"]',
    );
    expect(h.events.filter((e) => matchFlow(e, { dns: true }))).toHaveLength(2);
    expect(matchFlow(lost, { port: 53 })).toBe(true);
    expect(matchFlow(h.events[0], { dns: true })).toBe(false);
  });

  it('each exchange once: not for a query passing through (from the underlay) nor a response leaving for another node', () => {
    const h = harness();
    const q = qFrame(3, 'x.default.svc.cluster.local');
    h.log.forwarded(FWD_LOCAL_POD, 1, q, 0, q.length, 0, 1); // arrived over VXLAN for the local CoreDNS pod
    const r = rFrame(3, 'x.default.svc.cluster.local', 'NXDOMAIN');
    h.log.forwarded(FWD_VXLAN, 0, r, 0, r.length, parseIpv4('172.28.0.11'), 1); // CoreDNS answering a pod elsewhere
    expect(h.dns()).toHaveLength(0);
  });

  it('CoreDNS forwarding upstream through masquerade: the answer to the pod is matched to the query that left as the node', () => {
    const h = harness();
    const pod = parseIpv4(COREDNS);
    const node = parseIpv4('172.28.0.12');
    const www = parseIpv4('172.28.0.200');
    h.log.natCreated({
      kind: 'masquerade',
      proto: 17,
      src: pod,
      sport: 46456,
      dst: www,
      dport: 53,
      newSrc: node,
      newSport: 61010,
      newDst: www,
      newDport: 53,
    });
    const q = udpFrame({
      ...macs,
      src: node,
      dst: www,
      srcPort: 61010,
      dstPort: 53,
      payload: query(77, 'api.example.com'),
    });
    h.log.forwarded(FWD_UNDERLAY, 0, q, 0, q.length, 0, 1);
    h.advance(2.5);
    const r = udpFrame({
      ...macs,
      src: www,
      dst: pod,
      srcPort: 53,
      dstPort: 46456,
      payload: response(77, 'api.example.com', 'NOERROR', '172.28.0.200'),
    });
    h.deliver(r);
    expect(h.dns().map((e) => [e.kind, e.src, e.dns!.latencyMs])).toEqual([
      ['dns-query', '172.28.0.12', undefined],
      ['dns-response', '172.28.0.200', 2.5],
    ]);
  });

  it('DNS over TCP when the message is whole in the segment (length prefix); a message across segments is not followed', () => {
    const h = harness();
    const msg = query(5, 'big.default.svc.cluster.local');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    const whole = tcpFrame({
      ...macs,
      src: CLIENT,
      dst: COREDNS,
      srcPort: 43000,
      dstPort: 53,
      payload: Buffer.concat([len, msg]),
    });
    h.sendQuery(whole);
    const half = tcpFrame({
      ...macs,
      src: CLIENT,
      dst: COREDNS,
      srcPort: 43001,
      dstPort: 53,
      payload: Buffer.concat([len, msg.subarray(0, 10)]),
    });
    h.sendQuery(half);
    expect(h.dns().map((e) => [e.proto, e.dns!.name])).toEqual([['TCP', 'big.default.svc.cluster.local.']]);
  });

  it('never throws on garbage at port 53: random bytes, truncated messages, compression loops, no question', () => {
    const h = harness();
    const bad = [
      Buffer.alloc(0),
      Buffer.from([1, 2, 3]),
      query(1, 'ok.example').subarray(0, 15),
      // a name whose compression pointer points at itself
      Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]),
      packet.encode({ type: 'query', id: 4, questions: [] }),
    ];
    let seed = 42;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.alloc((i * 7) % 200);
      for (let j = 0; j < b.length; j++) b[j] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      bad.push(b);
    }
    for (const payload of bad) {
      const f = udpFrame({ ...macs, src: CLIENT, dst: COREDNS, srcPort: 41000, dstPort: 53, payload });
      expect(() => h.sendQuery(f)).not.toThrow();
      expect(decodeDns(payload, 17) === null || decodeDns(payload, 17)!.questions!.length > 0).toBe(true);
    }
    expect(h.dns().every((e) => e.dns!.name.length > 0)).toBe(true);
  });
});

describe('which expansion a name is', () => {
  it('lists the ways a name ends in a search domain, shortest asked name first', () => {
    expect(expansionsOf('backend.default.svc.cluster.local', SEARCH)).toEqual([
      { prefix: 'backend', index: 1 },
      { prefix: 'backend.default', index: 2 },
      { prefix: 'backend.default.svc', index: 3 },
    ]);
    expect(expansionsOf('api.example.com', SEARCH)).toEqual([]);
  });

  it('without the client’s search list there is no guess', () => {
    const w = new DnsWatch(
      () => undefined,
      () => 0,
    );
    expect(
      w.see({
        proto: 17,
        payload: query(1, 'a.default.svc.cluster.local'),
        clientIp: '10.1.1.1',
        clientPort: 5,
        toServer: true,
      }),
    ).toEqual({ id: 1, name: 'a.default.svc.cluster.local.', type: 'A' });
  });
});
