// Userspace GRO on the way to a pod: in-order, full-sized TCP segments that
// arrived over VXLAN leave as one TCPv4 GSO frame. Whatever it merges, the
// pod's kernel must get back exactly the segments node2 sent — same bytes,
// same sequence numbers, same flags, valid checksums, per-flow order kept.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_GSO_TCPV4,
  completePartialChecksum,
  computeTcpChecksum,
  type VnetHdr,
} from '../../../src/packet/index.js';
import { splitVnet, tcpFrame, type RxFrame } from '../support/frames.js';
import { ipChecksumOk, ipOf, tcpOf } from '../support/inspect.js';
import { NODE1, NODE2, POD_A, REMOTE_POD, fromNode2, node1 } from './node1.js';

const TIMESTAMPS = Buffer.from([1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78]);
const MSS = 1398;

interface Seg {
  port: number;
  seq: number;
  flags: number;
  payload: Buffer;
  /** the sender left the checksum to offload (NEEDS_CSUM), as podwire's TSO does */
  offloaded: boolean;
}

/** A TCP segment from the remote pod to pod A, in VXLAN from node2, with the underlay virtio_net_hdr. */
function tunnelled(s: Seg): RxFrame {
  const inner = tcpFrame({
    srcMac: NODE2.vtepMac,
    dstMac: NODE1.vtepMac,
    src: REMOTE_POD.ip,
    dst: POD_A.ip,
    ttl: 64,
    srcPort: s.port,
    dstPort: 40000,
    seq: s.seq,
    ack: 777,
    flags: s.flags,
    payload: s.payload,
    options: TIMESTAMPS,
    checksum: s.offloaded ? 'partial' : 'full',
  });
  const vnet: VnetHdr = s.offloaded ? { flags: VNET_HDR_F_NEEDS_CSUM, csumStart: 50 + 34, csumOffset: 16 } : {};
  return { frame: fromNode2(inner), vnet };
}

interface Delivered {
  port: number;
  seq: number;
  flags: number;
  payload: Buffer;
}

/**
 * What the pod's kernel ends up with: each frame checked (MACs, TTL, IPv4
 * checksum, TCP checksum once completed) and, if it is a GSO frame,
 * segmented the way Linux does (gso_size pieces, PSH/FIN only on the last).
 */
function receive(captured: Buffer[]): Delivered[] {
  const out: Delivered[] = [];
  for (const c of captured) {
    const { vnet, frame } = splitVnet(c);
    const f = Buffer.from(frame);
    expect(f.subarray(0, 6)).toEqual(POD_A.mac);
    expect(ipOf(f).ttl).toBe(63);
    expect(ipChecksumOk(f)).toBe(true);
    if (vnet.flags & VNET_HDR_F_NEEDS_CSUM) {
      expect(vnet.csumStart).toBe(34);
      expect(vnet.csumOffset).toBe(16);
      expect(completePartialChecksum(f, 0, f.length, vnet.csumStart, vnet.csumOffset)).toBe(true);
    }
    const tcp = tcpOf(f);
    expect(tcp.checksum).toBe(computeTcpChecksum(f, 14));
    const payload = f.subarray(tcp.payloadOffset, 14 + ipOf(f).totalLength);
    if (vnet.gsoType === 0) {
      out.push({ port: tcp.srcPort, seq: tcp.seq, flags: tcp.flags, payload });
      continue;
    }
    expect(vnet.gsoType).toBe(VNET_HDR_GSO_TCPV4);
    expect(vnet.hdrLen).toBe(tcp.payloadOffset);
    for (let off = 0; off < payload.length; off += vnet.gsoSize) {
      const last = off + vnet.gsoSize >= payload.length;
      out.push({
        port: tcp.srcPort,
        seq: (tcp.seq + off) >>> 0,
        flags: last ? tcp.flags : tcp.flags & ~(TCP_PSH | TCP_FIN),
        payload: payload.subarray(off, off + vnet.gsoSize),
      });
    }
  }
  return out;
}

const asSent = (segs: Seg[]): Delivered[] =>
  segs.map(({ port, seq, flags, payload }) => ({ port, seq, flags, payload }));

function stream(port: number, sizes: number[], seq0 = 1_000_000, lastFlags = TCP_ACK | TCP_PSH): Seg[] {
  let seq = seq0;
  return sizes.map((n, i) => {
    const payload = Buffer.alloc(n, (port + i) & 0xff);
    const s = { port, seq, flags: i === sizes.length - 1 ? lastFlags : TCP_ACK, payload, offloaded: true };
    seq = (seq + n) >>> 0;
    return s;
  });
}

describe('GRO for decapsulated TCP', () => {
  it('four full segments and a short PSH one become one GSO frame that resegments to the originals', () => {
    const n = node1();
    const segs = stream(5201, [MSS, MSS, MSS, MSS, 500]);
    const sent = n.fromUnderlay(...segs.map(tunnelled));
    expect(sent.pods).toHaveLength(1);
    const { vnet, frame } = splitVnet(sent.pods[0]);
    expect(vnet).toEqual({
      flags: VNET_HDR_F_NEEDS_CSUM,
      gsoType: VNET_HDR_GSO_TCPV4,
      hdrLen: 66,
      gsoSize: MSS,
      csumStart: 34,
      csumOffset: 16,
    });
    expect(ipOf(frame).totalLength).toBe(20 + 32 + 4 * MSS + 500);
    expect(receive(sent.pods)).toEqual(asSent(segs));
    expect(n.pipeline.counters.localTx).toBe(1);
  });

  it('segments whose checksum nobody vouched for go out one by one, untouched', () => {
    const n = node1();
    const segs = stream(5201, [MSS, MSS, 100]).map((s) => ({ ...s, offloaded: false }));
    const sent = n.fromUnderlay(...segs.map(tunnelled));
    expect(sent.pods).toHaveLength(3);
    expect(sent.pods.every((c) => splitVnet(c).vnet.gsoType === 0)).toBe(true);
    expect(receive(sent.pods)).toEqual(asSent(segs));
  });

  it('a gap in the sequence ends the run; nothing is reordered', () => {
    const n = node1();
    const first = stream(5201, [MSS, MSS], 1000, TCP_ACK);
    const later = stream(5201, [MSS, 10], 1000 + 10 * MSS);
    const segs = [...first, ...later];
    const sent = n.fromUnderlay(...segs.map(tunnelled));
    expect(receive(sent.pods)).toEqual(asSent(segs));
  });

  it('property: any interleaving of three flows reaches the pod as exactly the segments sent, in per-flow order', () => {
    const size = fc.oneof(
      { weight: 3, arbitrary: fc.constant(MSS) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: MSS }) },
    );
    const flags = fc.oneof(
      { weight: 5, arbitrary: fc.constant(TCP_ACK) },
      { weight: 1, arbitrary: fc.constantFrom(TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN) },
    );
    const segment = fc.record({
      flow: fc.integer({ min: 0, max: 2 }),
      size,
      flags,
      offloaded: fc.boolean(),
      gap: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 80 }), (plan) => {
        const nextSeq = [1000, 2_000_000, 0xffffff00];
        const segs: Seg[] = plan.map((p, i) => {
          if (p.gap && i % 7 === 0) nextSeq[p.flow] = (nextSeq[p.flow] + 5000) >>> 0;
          const s = {
            port: 5000 + p.flow,
            seq: nextSeq[p.flow],
            flags: p.flags,
            payload: Buffer.alloc(p.size, i & 0xff),
            offloaded: p.offloaded,
          };
          nextSeq[p.flow] = (nextSeq[p.flow] + p.size) >>> 0;
          return s;
        });
        const n = node1();
        const got = receive(n.fromUnderlay(...segs.map(tunnelled)).pods);
        for (const port of [5000, 5001, 5002]) {
          expect(got.filter((d) => d.port === port)).toEqual(asSent(segs.filter((s) => s.port === port)));
        }
        expect(n.drops()).toEqual({});
      }),
      { numRuns: 60 },
    );
  });
});
