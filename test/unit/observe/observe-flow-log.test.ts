import { describe, it, expect } from 'vitest';
import { FlowLog, formatFlow, matchFlow, type FlowEvent } from '../../../src/observe/index.js';
import { DROP, FWD_VXLAN, FWD_LOCAL_POD, FWD_UNDERLAY } from '../../../src/dataplane/index.js';
import { ethernetHeader, ipv4Header, tcpHeader, parseIpv4, parseMac } from '../../../src/packet/index.js';

function tcpFrame(flags: number, payload = 0): Buffer {
  const tcp = tcpHeader.encode({
    srcPort: 40000,
    dstPort: 80,
    seq: 1,
    ack: 0,
    flags,
    window: 1000,
    checksum: 0,
    urgentPointer: 0,
    options: Buffer.alloc(0),
  } as never);
  const ip = ipv4Header.encode({
    src: parseIpv4('10.244.1.2'),
    dst: parseIpv4('10.244.2.2'),
    protocol: 6,
    ttl: 63,
    payloadLength: tcp.length + payload,
  } as never);
  const eth = ethernetHeader.encode({
    dst: parseMac('0e:77:ac:1c:00:0c'),
    src: parseMac('0e:77:ac:1c:00:0b'),
    etherType: 0x0800,
  });
  return Buffer.concat([eth, ip, tcp, Buffer.alloc(payload)]);
}

describe('flow log (monitor aggregation)', () => {
  it('emits new flow, TCP flag events and one aggregated update per tick, not one line per packet', () => {
    let now = Date.UTC(2026, 10, 23, 11, 0, 0);
    const events: FlowEvent[] = [];
    const log = new FlowLog(
      'node1',
      (e) => events.push(e),
      () => now,
    );
    const peer = parseIpv4('172.28.0.12');
    const syn = tcpFrame(0x02);
    log.forwarded(FWD_VXLAN, 0, syn, 0, syn.length, peer, 1);
    const data = tcpFrame(0x10, 1000);
    for (let i = 0; i < 100; i++) log.forwarded(FWD_VXLAN, 0, data, 0, data.length, peer, 1);
    expect(events.map((e) => e.kind)).toEqual(['new']);
    expect(events[0]).toMatchObject({
      verdict: 'FORWARDED',
      proto: 'TCP',
      src: '10.244.1.2',
      dst: '10.244.2.2',
      srcPort: 40000,
      dstPort: 80,
      tcpFlags: 'SYN',
      to: 'vxlan',
      peerNode: '172.28.0.12',
      packets: 1,
    });
    now += 1000;
    log.tick();
    expect(events[1]).toMatchObject({ kind: 'update', packets: 100, bytes: 100 * (data.length - 14) });
    const fin = tcpFrame(0x11);
    log.forwarded(FWD_VXLAN, 0, fin, 0, fin.length, peer, 1);
    expect(events[2]).toMatchObject({ kind: 'flags', tcpFlags: 'ACK|FIN', packets: 1 });
    log.tick();
    expect(events).toHaveLength(3); // nothing moved since: no update line
  });

  it('reports every drop with its reason, and formats it for people', () => {
    const events: FlowEvent[] = [];
    const log = new FlowLog(
      'node1',
      (e) => events.push(e),
      () => Date.UTC(2026, 10, 23, 11, 0, 0, 123),
    );
    const f = tcpFrame(0x02);
    log.dropped(DROP['ttl-expired'], 0, f, 0, f.length);
    log.dropped(DROP['malformed-ethernet'], 0, Buffer.alloc(5), 0, 5);
    expect(events[0]).toMatchObject({ verdict: 'DROPPED', reason: 'ttl-expired', kind: 'drop', dst: '10.244.2.2' });
    expect(events[1]).toMatchObject({ verdict: 'DROPPED', reason: 'malformed-ethernet', proto: 'truncated' });
    const names = new Map([
      ['10.244.1.2', 'client'],
      ['10.244.2.2', 'web-2'],
    ]);
    expect(formatFlow(events[0], (ip) => names.get(ip))).toBe(
      '11:00:00.123  node1  client:40000 (10.244.1.2) -> web-2:80 (10.244.2.2)  TCP [SYN]  DROPPED (ttl-expired)  1 pkt 54 B',
    );
    expect(matchFlow(events[0], { verdict: 'dropped' })).toBe(true);
    expect(matchFlow(events[0], { verdict: 'FORWARDED' })).toBe(false);
    expect(matchFlow(events[0], { port: 80 })).toBe(true);
    expect(matchFlow(events[0], { podIps: new Set(['10.244.9.9']) })).toBe(false);
  });

  it('local deliveries say so', () => {
    const events: FlowEvent[] = [];
    const log = new FlowLog('node1', (e) => events.push(e));
    const f = tcpFrame(0x02);
    log.forwarded(FWD_LOCAL_POD, 1, f, 0, f.length, 0, 1);
    expect(events[0]).toMatchObject({ to: 'local-pod', from: 'from-underlay' });
    expect(events[0].peerNode).toBeUndefined();
  });

  it('a new Service flow is one TRANSLATED event: client -> frontend => backend, and the flows it starts carry the Service', () => {
    const events: FlowEvent[] = [];
    const log = new FlowLog(
      'node1',
      (e) => events.push(e),
      () => Date.UTC(2026, 10, 23, 11, 0, 0, 123),
    );
    const ip = parseIpv4;
    log.natCreated({
      kind: 'dnat',
      service: 'default/backend',
      frontend: '10.96.1.2:8080/TCP',
      frontendType: 'ClusterIP',
      proto: 6,
      src: ip('10.244.1.2'),
      sport: 40000,
      dst: ip('10.96.1.2'),
      dport: 8080,
      newSrc: ip('10.244.1.2'),
      newSport: 40000,
      newDst: ip('10.244.2.2'),
      newDport: 80,
      backend: 'backend-7d9f-x2',
    });
    expect(events[0]).toMatchObject({
      verdict: 'TRANSLATED',
      kind: 'translated',
      from: 'from-pods',
      service: 'default/backend',
      nat: 'dnat',
      newDst: '10.244.2.2',
      newDstPort: 80,
      backend: 'backend-7d9f-x2',
    });
    const names = new Map([['10.244.1.2', 'client']]);
    expect(formatFlow(events[0], (a) => names.get(a))).toBe(
      '11:00:00.123  node1  default/backend: client:40000 (10.244.1.2) -> 10.96.1.2:8080 => 10.244.2.2:80 (backend-7d9f-x2)  TCP  TRANSLATED (ClusterIP)',
    );
    // the translated packet (tcpFrame: 10.244.1.2:40000 -> 10.244.2.2:80) is forwarded next: its flow names the Service
    const syn = tcpFrame(0x02);
    log.forwarded(FWD_VXLAN, 0, syn, 0, syn.length, parseIpv4('172.28.0.12'), 1);
    expect(events[1]).toMatchObject({ verdict: 'FORWARDED', service: 'default/backend' });
    expect(formatFlow(events[1])).toBe(
      '11:00:00.123  node1  10.244.1.2:40000 -> 10.244.2.2:80  TCP [SYN]  FORWARDED via vxlan to 172.28.0.12 (Service default/backend)  1 pkt 40 B',
    );
    expect(matchFlow(events[1], { service: 'backend' })).toBe(true);
    expect(matchFlow(events[1], { service: 'default/backend' })).toBe(true);
    expect(matchFlow(events[1], { service: 'other/backend' })).toBe(false);
    expect(matchFlow(events[0], { verdict: 'translated' })).toBe(true);
  });

  it('SNAT and masquerade say the new source; from the underlay says so', () => {
    const events: FlowEvent[] = [];
    const log = new FlowLog(
      'node1',
      (e) => events.push(e),
      () => Date.UTC(2026, 10, 23, 11, 0, 0, 123),
    );
    const ip = parseIpv4;
    log.natCreated({
      kind: 'dnat',
      service: 'default/frontend',
      frontend: '172.28.0.11:30080/TCP',
      frontendType: 'NodePort',
      proto: 6,
      src: ip('172.28.0.100'),
      sport: 50000,
      dst: ip('172.28.0.11'),
      dport: 30080,
      newSrc: ip('10.244.1.254'),
      newSport: 50000,
      newDst: ip('10.244.2.3'),
      newDport: 3000,
      backend: 'frontend-1',
      fromUnderlay: true,
    });
    log.natCreated({
      kind: 'masquerade',
      proto: 17,
      src: ip('10.244.1.2'),
      sport: 40000,
      dst: ip('172.28.0.200'),
      dport: 53,
      newSrc: ip('172.28.0.11'),
      newSport: 61000,
      newDst: ip('172.28.0.200'),
      newDport: 53,
    });
    expect(events.map((e) => [e.from, e.nat])).toEqual([
      ['from-underlay', 'dnat+snat'],
      ['from-pods', 'masquerade'],
    ]);
    expect(events.map((e) => formatFlow(e))).toEqual([
      '11:00:00.123  node1  default/frontend: 172.28.0.100:50000 -> 172.28.0.11:30080 => 10.244.2.3:3000 (frontend-1) SNAT 10.244.1.254:50000  TCP  TRANSLATED (NodePort)',
      '11:00:00.123  node1  masquerade: 10.244.1.2:40000 -> 172.28.0.200:53 SNAT 172.28.0.11:61000  UDP  TRANSLATED (masquerade)',
    ]);
  });

  it('a drop names what it is about (the Service), and frames out of eth0 are forwarded to the underlay', () => {
    const events: FlowEvent[] = [];
    const log = new FlowLog(
      'node1',
      (e) => events.push(e),
      () => Date.UTC(2026, 10, 23, 11, 0, 0, 123),
    );
    const f = tcpFrame(0x02);
    log.dropped(DROP['no-endpoints'], 0, f, 0, f.length, 'default/web');
    expect(events[0]).toMatchObject({ reason: 'no-endpoints', detail: 'default/web' });
    expect(formatFlow(events[0])).toBe(
      '11:00:00.123  node1  10.244.1.2:40000 -> 10.244.2.2:80  TCP [SYN]  DROPPED (no-endpoints: default/web)  1 pkt 54 B',
    );
    expect(matchFlow(events[0], { service: 'web' })).toBe(true);
    log.forwarded(FWD_UNDERLAY, 0, f, 0, f.length, 0, 1);
    expect(events[1]).toMatchObject({ to: 'underlay' });
    expect(events[1].peerNode).toBeUndefined();
    expect(formatFlow(events[1])).toContain('FORWARDED out of eth0');
  });
});
