import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { dissectFrame, parseIpv4, parseMac, TCP_SYN } from '../../../src/packet/index.js';
import { describeFrame, FlowLog, type FlowEvent } from '../../../src/observe/index.js';
import { frameMatches, parseCaptureFilter } from '../../../src/capture/index.js';
import { analyze, decodeFrame, innermost } from '../../../src/analyze/index.js';
import { DROP } from '../../../src/dataplane/index.js';
import { arpRequestFrame, tcpFrame, udpFrame, vxlanFrame } from '../support/frames.js';

const podMac = parseMac('0a:58:0a:f4:01:02');
const gwMac = parseMac('0a:58:0a:f4:01:01');
const inner = tcpFrame({
  srcMac: podMac,
  dstMac: gwMac,
  src: '10.244.1.2',
  dst: '10.244.2.3',
  srcPort: 40000,
  dstPort: 8080,
  flags: TCP_SYN,
  payload: Buffer.alloc(0),
});
const nodeMac1 = parseMac('02:42:ac:1c:00:0b');
const nodeMac2 = parseMac('02:42:ac:1c:00:0c');
/** The overlay frame as an agent started with --vxlan-port 8472 (flannel's port) sends it. */
const overlay8472 = vxlanFrame({
  srcMac: nodeMac1,
  dstMac: nodeMac2,
  src: '172.28.0.11',
  dst: '172.28.0.12',
  srcPort: 55047,
  dstPort: 8472,
  vni: 1,
  inner,
});

describe('dissectFrame (the one decoder of the tools)', () => {
  it('decodes Ethernet → IPv4 → TCP with the fields the tools use', () => {
    const s = dissectFrame(inner, 0, inner.length);
    expect(s.eth?.etherType).toBe(0x0800);
    expect(s.ipv4).toMatchObject({ src: parseIpv4('10.244.1.2'), dst: parseIpv4('10.244.2.3'), protocol: 6 });
    expect(s.tcp).toMatchObject({ srcPort: 40000, dstPort: 8080, flags: TCP_SYN, payloadLength: 0 });
    expect(s.problem).toBeUndefined();
  });

  it('finds VXLAN on the port it is told, and only there', () => {
    expect(dissectFrame(overlay8472, 0, overlay8472.length).vxlan).toBeUndefined(); // 4789 by default
    const s = dissectFrame(overlay8472, 0, overlay8472.length, { vxlanPort: 8472 });
    expect(s.vxlan).toMatchObject({ vni: 1, flagI: true });
    expect(s.vxlan?.inner.tcp).toMatchObject({ srcPort: 40000, dstPort: 8080 });
  });

  it('says where a cut-short frame stopped instead of throwing', () => {
    expect(dissectFrame(inner, 0, 10).problem).toBe('truncated-ethernet');
    expect(dissectFrame(inner, 0, 30).problem).toBe('truncated-ipv4');
    const cut = dissectFrame(inner, 0, 14 + 20 + 10);
    expect(cut.ipv4?.protocol).toBe(6);
    expect(cut.problem).toBe('truncated-tcp');
    const arp = arpRequestFrame({ srcMac: podMac, senderIp: '10.244.1.2', targetIp: '10.244.1.1' });
    expect(dissectFrame(arp, 0, 30).problem).toBe('truncated-arp');
    expect(dissectFrame(arp, 0, arp.length).arp).toMatchObject({ op: 1, senderMac: '0a:58:0a:f4:01:02' });
  });

  it('never throws on any bytes, at any offset and length, with any VXLAN port', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: -5, max: 210 }),
        fc.integer({ min: -5, max: 210 }),
        fc.integer({ min: 0, max: 65535 }),
        (bytes, off, len, vxlanPort) => {
          const s = dissectFrame(Buffer.from(bytes), off, len, { vxlanPort });
          expect(typeof s).toBe('object');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('a non-default VXLAN port (8472) reaches every tool', () => {
  it('observe: a dropped underlay frame is described by the pod packet inside, outer addresses kept', () => {
    const events: FlowEvent[] = [];
    const log = new FlowLog('node2', (e) => events.push(e), Date.now, 30_000, { vxlanPort: 8472 });
    log.dropped(DROP['no-route'], 1, overlay8472, 0, overlay8472.length);
    expect(events[0]).toMatchObject({
      proto: 'TCP',
      src: '10.244.1.2',
      dst: '10.244.2.3',
      srcPort: 40000,
      dstPort: 8080,
      outerSrc: '172.28.0.11',
      outerDst: '172.28.0.12',
    });
    // the same frame with the default port is just UDP between nodes
    const plain: FlowEvent[] = [];
    new FlowLog('node2', (e) => plain.push(e)).dropped(DROP['no-route'], 1, overlay8472, 0, overlay8472.length);
    expect(plain[0]).toMatchObject({ proto: 'UDP', src: '172.28.0.11', dstPort: 8472 });
    expect(plain[0].outerSrc).toBeUndefined();
    expect(describeFrame(overlay8472, 0, overlay8472.length, { vxlanPort: 8472 }).proto).toBe('UDP');
  });

  it('capture filters: --proto vxlan, and the inner packet matched by port and host', () => {
    const vx = parseCaptureFilter({ proto: 'vxlan' }, 8472);
    const port = parseCaptureFilter({ port: '8080' }, 8472);
    const host = parseCaptureFilter({ proto: 'tcp', host: '10.244.2.3' }, 8472);
    for (const f of [vx, port, host]) expect(frameMatches(overlay8472, 0, overlay8472.length, f)).toBe(true);
    // at the default port the frame is not VXLAN, and its inner packet is not looked at
    for (const o of [{ proto: 'vxlan' }, { port: '8080' }, { proto: 'tcp', host: '10.244.2.3' }])
      expect(frameMatches(overlay8472, 0, overlay8472.length, parseCaptureFilter(o))).toBe(false);
    expect(frameMatches(overlay8472, 0, overlay8472.length, parseCaptureFilter({ port: '9999' }, 8472))).toBe(false);
  });

  it('analyze: the inner frame decoded and the VXLAN mapping listed', () => {
    const d = decodeFrame(overlay8472, 1, { vxlanPort: 8472 });
    expect(d.layers).toEqual(['eth', 'ipv4', 'udp', 'vxlan']);
    expect(innermost(d).tcp).toMatchObject({ srcPort: 40000, dstPort: 8080 });
    expect(decodeFrame(overlay8472, 1).layers).toEqual(['eth', 'ipv4', 'udp']);
    const packet = { time: 1, data: overlay8472, originalLength: overlay8472.length, linktype: 1 };
    const a = analyze([packet as never], { vxlanPort: 8472 });
    expect(a.protocols.vxlan).toBe(1);
    expect(a.vxlan).toHaveLength(1);
    expect(analyze([packet as never]).protocols.vxlan).toBeUndefined();
  });

  it('analyze: DNS over UDP is still decoded beside it', () => {
    const q = udpFrame({
      srcMac: podMac,
      dstMac: gwMac,
      src: '10.244.1.2',
      dst: '10.96.0.10',
      srcPort: 33333,
      dstPort: 53,
      payload: Buffer.from('abcd01000001000000000000037777770000010001', 'hex'),
    });
    expect(decodeFrame(q, 1).layers).toEqual(['eth', 'ipv4', 'udp', 'dns']);
  });
});
