import { describe, it, expect } from 'vitest';
import { FlowLog, formatFlow, matchFlow, type FlowEvent } from '../../src/observe/index.js';
import { DROP, FWD_VXLAN, FWD_LOCAL_POD } from '../../src/dataplane/index.js';
import { ethernetHeader, ipv4Header, tcpHeader, parseIpv4, parseMac } from '../../src/packet/index.js';

function tcpFrame(flags: number, payload = 0): Buffer {
  const tcp = tcpHeader.encode({ srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags, window: 1000, checksum: 0, urgentPointer: 0, options: Buffer.alloc(0) } as never);
  const ip = ipv4Header.encode({ src: parseIpv4('10.244.1.2'), dst: parseIpv4('10.244.2.2'), protocol: 6, ttl: 63, payloadLength: tcp.length + payload } as never);
  const eth = ethernetHeader.encode({ dst: parseMac('0e:77:ac:1c:00:0c'), src: parseMac('0e:77:ac:1c:00:0b'), etherType: 0x0800 });
  return Buffer.concat([eth, ip, tcp, Buffer.alloc(payload)]);
}

describe('flow log (monitor aggregation)', () => {
  it('emits new flow, TCP flag events and one aggregated update per tick, not one line per packet', () => {
    let now = Date.UTC(2026, 10, 23, 11, 0, 0);
    const events: FlowEvent[] = [];
    const log = new FlowLog('node1', (e) => events.push(e), () => now);
    const peer = parseIpv4('172.28.0.12');
    const syn = tcpFrame(0x02);
    log.forwarded(FWD_VXLAN, 0, syn, 0, syn.length, peer, 1);
    const data = tcpFrame(0x10, 1000);
    for (let i = 0; i < 100; i++) log.forwarded(FWD_VXLAN, 0, data, 0, data.length, peer, 1);
    expect(events.map((e) => e.kind)).toEqual(['new']);
    expect(events[0]).toMatchObject({ verdict: 'FORWARDED', proto: 'TCP', src: '10.244.1.2', dst: '10.244.2.2', srcPort: 40000, dstPort: 80, tcpFlags: 'SYN', to: 'vxlan', peerNode: '172.28.0.12', packets: 1 });
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
    const log = new FlowLog('node1', (e) => events.push(e), () => Date.UTC(2026, 10, 23, 11, 0, 0, 123));
    const f = tcpFrame(0x02);
    log.dropped(DROP['ttl-expired'], 0, f, 0, f.length);
    log.dropped(DROP['malformed-ethernet'], 0, Buffer.alloc(5), 0, 5);
    expect(events[0]).toMatchObject({ verdict: 'DROPPED', reason: 'ttl-expired', kind: 'drop', dst: '10.244.2.2' });
    expect(events[1]).toMatchObject({ verdict: 'DROPPED', reason: 'malformed-ethernet', proto: 'truncated' });
    const names = new Map([['10.244.1.2', 'client'], ['10.244.2.2', 'web-2']]);
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
});
