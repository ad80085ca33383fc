// Userspace TSO: a TCP GSO super-frame from a pod, bound for node2, leaves as
// MSS-sized VXLAN frames whose inner headers are what Linux's GSO would have
// written (RFC 9293 sequence numbers, per-segment IPv4 ID and checksum, CWR
// first / FIN+PSH last, a partial TCP checksum behind NEEDS_CSUM).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TCP_ACK,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_GSO_TCPV4,
  completePartialChecksum,
  computeTcpChecksum,
  fold16,
  sum16,
  pseudoHeaderSumV4,
  type VnetHdr,
} from '../../../src/packet/index.js';
import { BIG_SLOT, partialCsumVnet, rxBatch, splitVnet } from '../support/frames.js';
import { ipChecksumOk, ipOf, openVxlan, tcpOf } from '../support/inspect.js';
import { NODE2, REMOTE_POD, node1, podTcp } from './node1.js';

/** NOP, NOP, timestamps: the 12 option bytes Linux puts on every data segment. */
const TIMESTAMPS = Buffer.from([1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78]);

function payloadOf(len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + (i >>> 8)) & 0xff;
  return b;
}

/** A super-frame as a pod's kernel hands it to its veth: partial checksum, gso_type TCPV4. */
function superFrame(
  payload: Buffer,
  mss: number,
  over: { seq?: number; id?: number; flags?: number; options?: Buffer } = {},
): { frame: Buffer; vnet: VnetHdr } {
  const options = over.options ?? TIMESTAMPS;
  const frame = podTcp({
    dst: REMOTE_POD.ip,
    payload,
    options,
    seq: over.seq ?? 0x10000,
    id: over.id ?? 100,
    flags: over.flags ?? TCP_ACK | TCP_PSH,
    checksum: 'partial',
  });
  return {
    frame,
    vnet: partialCsumVnet(frame, { gsoType: VNET_HDR_GSO_TCPV4, gsoSize: mss, hdrLen: 14 + 20 + 20 + options.length }),
  };
}

interface Segment {
  vnet: Required<VnetHdr>;
  /** the outer frame (after the virtio_net_hdr) */
  frame: Buffer;
  inner: Buffer;
}

function segmentsOf(captured: Buffer[]): Segment[] {
  return captured.map((c) => {
    const { vnet, frame } = splitVnet(c);
    return { vnet, frame, inner: openVxlan(frame).inner };
  });
}

/** The TCP checksum field, once the partial sum is completed as a NIC would, verifies. */
function completedChecksumOk(seg: Segment): boolean {
  const f = Buffer.from(seg.frame);
  if (!completePartialChecksum(f, 0, f.length, seg.vnet.csumStart, seg.vnet.csumOffset)) return false;
  const innerIp = 50 + 14;
  const stored = f.readUInt16BE(seg.vnet.csumStart + seg.vnet.csumOffset);
  // Two independent checks: the codec's own computation, and the receiver's
  // rule (pseudo header + segment, field included, folds to 0xffff).
  const ip = ipOf(f.subarray(50));
  const l4Len = ip.payloadLength;
  const receiver = fold16(sum16(f, seg.vnet.csumStart, l4Len, pseudoHeaderSumV4(ip.src, ip.dst, 6, l4Len)));
  // 0x0000 and 0xffff are the same one's-complement zero; completion (like
  // Linux's skb_checksum_help) stores a zero result as 0xffff.
  const computed = computeTcpChecksum(f, innerIp);
  const same = stored === computed || (stored === 0xffff && computed === 0) || (stored === 0 && computed === 0xffff);
  return same && receiver === 0xffff;
}

/** Everything a correct segmentation of `input` must satisfy. */
function checkSegments(input: { frame: Buffer; vnet: VnetHdr }, segs: Segment[], mss: number): void {
  const inTcp = tcpOf(input.frame);
  const inIp = ipOf(input.frame);
  const payload = input.frame.subarray(inTcp.payloadOffset);
  expect(segs).toHaveLength(Math.ceil(payload.length / mss));
  const sport = openVxlan(segs[0].frame).udp.srcPort;
  let offset = 0;
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    const outer = openVxlan(seg.frame);
    expect(ipChecksumOk(seg.frame)).toBe(true);
    expect(outer.ip.totalLength).toBe(36 + seg.inner.length);
    expect(outer.udp.srcPort).toBe(sport);
    expect(outer.udp.checksum).toBe(0);
    const ip = ipOf(seg.inner);
    const tcp = tcpOf(seg.inner);
    const segPayload = seg.inner.subarray(tcp.payloadOffset);
    expect(ip.totalLength).toBeLessThanOrEqual(1450);
    expect(segPayload.length).toBe(last ? payload.length - offset : mss);
    expect(ipChecksumOk(seg.inner)).toBe(true);
    expect(ip.id).toBe((inIp.id + i) & 0xffff);
    expect(ip.ttl).toBe(inIp.ttl - 1);
    expect(tcp.seq).toBe((inTcp.seq + offset) >>> 0);
    expect(tcp.ack).toBe(inTcp.ack);
    expect(tcp.dataOffsetBytes).toBe(inTcp.dataOffsetBytes);
    expect(tcp.flags & TCP_CWR).toBe(i === 0 ? inTcp.flags & TCP_CWR : 0);
    expect(tcp.flags & (TCP_FIN | TCP_PSH)).toBe(last ? inTcp.flags & (TCP_FIN | TCP_PSH) : 0);
    expect(tcp.flags & ~(TCP_CWR | TCP_FIN | TCP_PSH)).toBe(inTcp.flags & ~(TCP_CWR | TCP_FIN | TCP_PSH));
    expect(seg.vnet).toEqual({
      flags: VNET_HDR_F_NEEDS_CSUM,
      gsoType: 0,
      hdrLen: 0,
      gsoSize: 0,
      csumStart: 50 + 14 + ip.headerLength,
      csumOffset: 16,
    });
    expect(completedChecksumOk(seg)).toBe(true);
    expect(segPayload.equals(payload.subarray(offset, offset + segPayload.length))).toBe(true);
    offset += segPayload.length;
  });
  expect(offset).toBe(payload.length);
}

describe('TCP GSO super-frame to node2', () => {
  const MSS = 1398; // 1450 − 20 (IPv4) − 32 (TCP with timestamps): segments fill the pod MTU exactly

  it('10 000 bytes at gso_size 1398 → 8 VXLAN frames that reassemble to the original', () => {
    const n = node1();
    const input = superFrame(payloadOf(10_000), MSS, { flags: TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR });
    const original = Buffer.from(input.frame);
    const sent = n.fromPods(input);
    expect(sent.pods).toHaveLength(0);
    const segs = segmentsOf(sent.underlay);
    expect(segs).toHaveLength(8);
    checkSegments({ frame: original, vnet: input.vnet }, segs, MSS);
    expect(Buffer.concat(segs.map((s) => s.inner.subarray(tcpOf(s.inner).payloadOffset)))).toEqual(payloadOf(10_000));
    expect(ipOf(segs[0].inner).totalLength).toBe(1450);
    expect(n.pipeline.counters.segmented).toBe(1);
    expect(n.pipeline.counters.vxlanTx).toBe(8);
    expect(n.drops()).toEqual({});
  });

  it('sequence numbers wrap at 2^32 and IPv4 IDs at 2^16', () => {
    const n = node1();
    const input = superFrame(payloadOf(5_000), MSS, { seq: 0xffffffff - 2000, id: 0xfffe });
    const original = Buffer.from(input.frame);
    const segs = segmentsOf(n.fromPods(input).underlay);
    checkSegments({ frame: original, vnet: input.vnet }, segs, MSS);
    expect(segs.map((s) => ipOf(s.inner).id)).toEqual([0xfffe, 0xffff, 0, 1]);
  });

  it('segments of every outer frame go to node2’s underlay MAC', () => {
    const n = node1();
    const segs = segmentsOf(n.fromPods(superFrame(payloadOf(3_000), MSS)).underlay);
    for (const s of segs) expect(s.frame.subarray(0, 6)).toEqual(NODE2.mac);
  });

  it('a tx batch smaller than the segment count is flushed mid-frame without losing a segment', () => {
    const n = node1({ maxTxFrames: 3 });
    const input = superFrame(payloadOf(10_000), MSS);
    const original = Buffer.from(input.frame);
    const segs = segmentsOf(n.fromPods(input).underlay);
    checkSegments({ frame: original, vnet: input.vnet }, segs, MSS);
    expect(n.underlayPort.sends).toBe(3);
  });

  it('a segment whose TCP checksum is one’s-complement zero (payload 2734, gso_size 911, timestamps: found by the property below)', () => {
    const n = node1();
    const input = superFrame(payloadOf(2734), 911, { options: TIMESTAMPS });
    const original = Buffer.from(input.frame);
    n.pipeline.processFromPods(rxBatch([input], BIG_SLOT));
    checkSegments({ frame: original, vnet: input.vnet }, segmentsOf(n.underlayPort.frames), 911);
  });

  it('property: any payload 1..64000 at any gso_size 500..1448 splits correctly, or is dropped as mtu-exceeded when a segment cannot fit 1450', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64_000 }),
        fc.integer({ min: 500, max: 1448 }),
        fc.boolean(),
        (len, mss, timestamps) => {
          const n = node1();
          const options = timestamps ? TIMESTAMPS : Buffer.alloc(0);
          const input = superFrame(payloadOf(len), mss, { options });
          const original = Buffer.from(input.frame);
          const rx = rxBatch([input], BIG_SLOT);
          n.pipeline.processFromPods(rx);
          const segs = segmentsOf(n.underlayPort.frames);
          if (20 + 20 + options.length + mss > 1450) {
            expect(segs).toHaveLength(0);
            expect(n.drops()).toEqual({ 'mtu-exceeded': 1 });
          } else {
            checkSegments({ frame: original, vnet: input.vnet }, segs, mss);
            expect(n.drops()).toEqual({});
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  // Regression test (was a bug, now fixed): segmentTcp drops a super-frame whose gso_size cannot fit the pod MTU
  // (tso.ts segmentTcp, the `plan.ipHeaderLen + plan.tcpHeaderLen + mss
  // > podMtu` branch) with only a counter. Every other too-big path
  // (deliverLocal for GSO frames too, and encapToPeer for plain frames) calls
  // mtuExceeded, which answers a DF packet with ICMP fragmentation needed, as
  // Linux's ip_forward does for GSO packets (skb_gso_validate_network_len).
  // Without it a sender whose MSS is too big for the tunnel never learns the
  // path MTU: a PMTU black hole.
  it('a super-frame whose segments cannot fit the pod MTU gets ICMP fragmentation needed (MTU 1450)', () => {
    const n = node1();
    const sent = n.fromPods(superFrame(payloadOf(4_000), 1448));
    expect(n.drops()).toEqual({ 'mtu-exceeded': 1 });
    expect(sent.pods).toHaveLength(1);
    const icmp = splitVnet(sent.pods[0]).frame.subarray(14 + 20);
    expect([icmp[0], icmp[1], icmp.readUInt16BE(6)]).toEqual([3, 4, 1450]);
  });
});
