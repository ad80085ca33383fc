// Nothing on the hot path throws: garbage, truncated frames and valid frames
// with hostile bytes all end as a send, a counted drop, or a deliberate
// silence — never an exception that would cost the agent a whole batch.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RxBatch } from '../../../src/native/index.js';
import { type Pipeline } from '../../../src/dataplane/index.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_GSO_TCPV4,
  VNET_HDR_SIZE,
  finishChecksum,
  sum16,
  type VnetHdr,
} from '../../../src/packet/index.js';
import { BIG_SLOT, partialCsumVnet, putFrame, rxBatch, tcpFrame, type RxFrame } from '../support/frames.js';
import {
  GATEWAY,
  NODE1,
  NODE2,
  NODE3,
  POD_A,
  POD_B,
  REMOTE_POD,
  fromNode2,
  node1,
  podArp,
  podPing,
  podTcp,
  podUdp,
  remotePing,
  type Node1,
} from './node1.js';

type Direction = 'pods' | 'underlay';
interface Case extends RxFrame {
  what: string;
  from: Direction;
}

const offloaded = podUdp({ dst: REMOTE_POD.ip, checksum: 'partial' });
const gso = podTcp({ dst: REMOTE_POD.ip, payload: Buffer.alloc(3000, 0x33), checksum: 'partial' });

const remoteTcp = tcpFrame({
  srcMac: NODE2.vtepMac,
  dstMac: NODE1.vtepMac,
  src: REMOTE_POD.ip,
  dst: POD_A.ip,
  srcPort: 5201,
  dstPort: 40000,
  payload: Buffer.alloc(1398, 0x44),
  checksum: 'partial',
});

/** Valid frames reaching every stage the pipeline has. */
const CORPUS: Case[] = [
  { what: 'UDP to a local pod', from: 'pods', frame: podUdp({ dst: POD_B.ip }) },
  { what: 'UDP to node2', from: 'pods', frame: podUdp({ dst: REMOTE_POD.ip }) },
  { what: 'NEEDS_CSUM UDP to node2', from: 'pods', frame: offloaded, vnet: partialCsumVnet(offloaded) },
  {
    what: 'TCP GSO to node2',
    from: 'pods',
    frame: gso,
    vnet: partialCsumVnet(gso, { gsoType: VNET_HDR_GSO_TCPV4, gsoSize: 1398, hdrLen: 54 }),
  },
  { what: 'TCP to the node', from: 'pods', frame: podTcp({ dst: NODE1.ip }) },
  { what: 'TTL 1', from: 'pods', frame: podUdp({ dst: POD_B.ip, ttl: 1 }) },
  { what: 'no route', from: 'pods', frame: podPing({ dst: '10.250.0.9' }) },
  { what: 'too big for the tunnel', from: 'pods', frame: podUdp({ dst: REMOTE_POD.ip, payload: Buffer.alloc(1500) }) },
  { what: 'unresolved peer', from: 'pods', frame: podPing({ dst: '10.244.3.9' }) },
  { what: 'ARP for a pod', from: 'pods', frame: podArp(POD_B.ip) },
  { what: 'ARP for a missing pod', from: 'pods', frame: podArp('10.244.1.99') },
  { what: 'VXLAN to a pod', from: 'underlay', frame: fromNode2(remotePing(POD_A.ip)) },
  { what: 'VXLAN ping to the gateway', from: 'underlay', frame: fromNode2(remotePing(GATEWAY.ip)) },
  { what: 'VXLAN with TTL 1', from: 'underlay', frame: fromNode2(remotePing(POD_B.ip, { ttl: 1 })) },
  { what: 'VXLAN ARP', from: 'underlay', frame: fromNode2(podArp(POD_A.ip, REMOTE_POD.ip)) },
  {
    what: 'VXLAN TCP segment (GRO)',
    from: 'underlay',
    frame: fromNode2(remoteTcp),
    vnet: { flags: VNET_HDR_F_NEEDS_CSUM, csumStart: 50 + 34, csumOffset: 16 },
  },
  { what: 'ARP from node3 on eth0', from: 'underlay', frame: podArp(NODE1.ip, NODE3.spec.nodeIp) },
];

/** How much of a frame is real: the IPv4 datagram or the 28-byte ARP behind the Ethernet header (the rest is padding). */
function realLength(frame: Buffer): number {
  const type = frame.readUInt16BE(12);
  if (type === ETHERTYPE_IPV4) return 14 + frame.readUInt16BE(14 + 2);
  if (type === ETHERTYPE_ARP) return 14 + 28;
  return frame.length;
}

function process(n: Node1, from: Direction, rx: RxBatch): void {
  if (from === 'pods') n.pipeline.processFromPods(rx);
  else n.pipeline.processFromUnderlay(rx);
}

/** Every counter is a finite, non-negative number. */
function countersSane(p: Pipeline): boolean {
  const snap = p.counters.snapshot() as Record<string, unknown>;
  const numbers = [...Object.values(snap).filter((v): v is number => typeof v === 'number'), ...p.counters.drops];
  return numbers.every((v) => Number.isFinite(v) && v >= 0);
}

const totalDrops = (p: Pipeline) => p.counters.drops.reduce((a, b) => a + b, 0);

describe('garbage never throws', () => {
  const slotSize = 2048 + VNET_HDR_SIZE;
  /**
   * Garbage as it comes (the slot's virtio_net_hdr included), or behind a
   * plausible start so it gets past the first checks: an Ethernet header to
   * the gateway (from pods), or a valid VXLAN envelope from node2 (underlay).
   */
  const item = fc.record({
    slot: fc.integer({ min: 0, max: 7 }),
    bytes: fc.uint8Array({ minLength: 0, maxLength: 2000 }),
    wrap: fc.constantFrom('raw', 'ethernet', 'vxlan'),
    /** as recvmmsg reports a frame bigger than the slot */
    oversize: fc.boolean(),
  });
  const ETH_TO_GATEWAY = podUdp({ dst: POD_B.ip }).subarray(0, 14);
  function wrapped(bytes: Uint8Array, wrap: string): Uint8Array {
    if (wrap === 'ethernet') return Buffer.concat([Buffer.alloc(VNET_HDR_SIZE), ETH_TO_GATEWAY, bytes]);
    if (wrap === 'vxlan') return Buffer.concat([Buffer.alloc(VNET_HDR_SIZE), fromNode2(Buffer.from(bytes))]);
    return bytes;
  }

  it('random bytes in random slots, from the pods and from the underlay', () => {
    const n = node1();
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), (items) => {
        for (const from of ['pods', 'underlay'] as const) {
          const rx = new RxBatch(slotSize, 8);
          rx.buf.fill(0);
          rx.count = 8;
          for (const g of items) {
            const bytes = wrapped(g.bytes, g.wrap).subarray(0, slotSize);
            rx.buf.set(bytes, rx.slotOffset(g.slot));
            rx.lengths[g.slot] = g.oversize ? slotSize + bytes.length + 1 : bytes.length;
          }
          const before = from === 'pods' ? n.pipeline.counters.podRx : n.pipeline.counters.underlayRx;
          expect(() => process(n, from, rx)).not.toThrow();
          const after = from === 'pods' ? n.pipeline.counters.podRx : n.pipeline.counters.underlayRx;
          expect(after - before).toBe(8);
        }
        expect(countersSane(n.pipeline)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('every truncation of every valid frame is dropped as malformed, and nothing is sent', () => {
    for (const c of CORPUS) {
      const n = node1();
      const real = realLength(c.frame);
      for (let len = 0; len < real; len++) {
        const sentBefore = n.podPort.frames.length + n.underlayPort.frames.length;
        const dropsBefore = [...n.pipeline.counters.drops];
        const rx = rxBatch([{ frame: c.frame.subarray(0, len), vnet: c.vnet }], BIG_SLOT);
        expect(() => process(n, c.from, rx), `${c.what} cut to ${len}`).not.toThrow();
        expect(n.podPort.frames.length + n.underlayPort.frames.length, `${c.what} cut to ${len}`).toBe(sentBefore);
        const grew = n.pipeline.counters.drops.map((v, i) => v - dropsBefore[i]);
        const reasons = Object.entries(n.drops())
          .filter(([, v]) => v! > 0)
          .map(([k]) => k);
        expect(
          grew.reduce((a, b) => a + b, 0),
          `${c.what} cut to ${len}`,
        ).toBe(1);
        expect(
          reasons.every((r) => r.startsWith('malformed-')),
          `${c.what} cut to ${len}: ${reasons}`,
        ).toBe(true);
      }
      expect(countersSane(n.pipeline)).toBe(true);
    }
  });

  it('each valid frame, whole, is sent, counted or learned from (the corpus reaches a stage each)', () => {
    for (const c of CORPUS) {
      const n = node1();
      const sent = c.from === 'pods' ? n.fromPods(c) : n.fromUnderlay(c);
      // An ARP on eth0 is answered by the kernel; what it leaves is a learned MAC.
      const learned = n.pipeline.underlayNeighbors.entries().length - 1;
      const accounted =
        sent.pods.length + sent.underlay.length + totalDrops(n.pipeline) + n.pipeline.counters.toHost + learned;
      expect(accounted, c.what).toBeGreaterThan(0);
    }
  });

  /**
   * A virtio_net_hdr as the kernel could report it (virtio_net_hdr_from_skb):
   * any flags and GSO fields, but a checksum start and offset inside the frame.
   */
  const kernelVnet = (frameLen: number): fc.Arbitrary<VnetHdr> =>
    fc.record({
      flags: fc.constantFrom(0, VNET_HDR_F_NEEDS_CSUM, 2, 3),
      gsoType: fc.constantFrom(0, 1, 3, 4, 5, 0x81, 0xff),
      hdrLen: fc.integer({ min: 0, max: 0xffff }),
      gsoSize: fc.oneof(fc.constantFrom(0, 1, 2, 1398, 1410, 1411, 0xffff), fc.integer({ min: 0, max: 0xffff })),
      csumStart: fc.integer({ min: 0, max: Math.max(0, frameLen - 2) }),
      csumOffset: fc.constantFrom(0, 6, 16),
    });

  it('valid frames with hostile bytes and any kernel-shaped virtio_net_hdr never throw', () => {
    const n = node1();
    const mutation = fc.integer({ min: 0, max: CORPUS.length - 1 }).chain((i) =>
      fc.record({
        i: fc.constant(i),
        vnet: fc.option(kernelVnet(CORPUS[i].frame.length), { nil: undefined }),
        pokes: fc.array(
          fc.record({ at: fc.nat(CORPUS[i].frame.length - 1), value: fc.integer({ min: 0, max: 255 }) }),
          { maxLength: 4 },
        ),
        fixIpChecksum: fc.boolean(),
        cut: fc.nat(CORPUS[i].frame.length),
      }),
    );
    fc.assert(
      fc.property(mutation, ({ i, vnet, pokes, fixIpChecksum, cut }) => {
        const c = CORPUS[i];
        const frame = Buffer.from(c.frame.subarray(0, Math.max(cut, 14)));
        for (const p of pokes) if (p.at < frame.length) frame[p.at] = p.value;
        if (fixIpChecksum && frame.length >= 34) {
          // Keep the header checksum right so the pokes reach the stages behind it.
          const hl = Math.min((frame[14] & 0x0f) * 4, frame.length - 14);
          frame.writeUInt16BE(0, 24);
          frame.writeUInt16BE(finishChecksum(sum16(frame, 14, hl)), 24);
        }
        const rx = new RxBatch(BIG_SLOT, 1);
        putFrame(rx, 0, frame, vnet ?? c.vnet ?? {});
        expect(() => process(n, c.from, rx)).not.toThrow();
        expect(countersSane(n.pipeline)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  // Regression test (was a bug, now fixed): encapToPeer copies a NEEDS_CSUM csum_start into the outer
  // virtio_net_hdr with writeEncapVnetHdr (vxlan-encap.ts), whose
  // `out.writeUInt16LE(innerCsumStart + OUTER_HEADERS_SIZE, ...)` throws
  // RangeError once csum_start + 50 exceeds 65535. The pipeline never checks
  // csum_start against the frame, so this header — one the kernel would not
  // write, but the pipeline's contract is "nothing here throws on a packet" —
  // throws out of processFromPods and costs the agent the whole batch.
  it('a NEEDS_CSUM frame to node2 with csum_start near 65535 is dropped, not thrown', () => {
    const n = node1();
    const frame = podUdp({ dst: REMOTE_POD.ip });
    expect(() =>
      n.fromPods({ frame, vnet: { flags: VNET_HDR_F_NEEDS_CSUM, csumStart: 0xffff, csumOffset: 6 } }),
    ).not.toThrow();
  });
  // Regression test (was a bug, now fixed): Gro.flushFlowOf (src/dataplane/gro.ts, line 152) reads the TCP
  // ports with buf.readUInt32BE(ip + IHL*4) without checking that the frame
  // holds them. deliverLocal calls it for every decapsulated TCP packet GRO
  // declines, so an inner IPv4 packet that is only a header (protocol TCP,
  // total length 20) reads past its frame — and, when that frame ends the
  // receive buffer, readUInt32BE throws RangeError out of
  // processFromUnderlay, costing the agent the whole batch.
  it('a header-only TCP packet at the very end of the receive buffer is handled, not thrown', () => {
    const n = node1();
    const inner = podTcp({ dst: POD_A.ip, srcMac: NODE2.vtepMac, dstMac: NODE1.vtepMac, src: REMOTE_POD.ip }).subarray(
      0,
      14 + 20,
    );
    inner.writeUInt16BE(20, 14 + 2); // total length: the header alone
    inner.writeUInt16BE(0, 14 + 10);
    inner.writeUInt16BE(finishChecksum(sum16(inner, 14, 20)), 14 + 10);
    const frame = fromNode2(Buffer.from(inner));
    const rx = rxBatch([frame], VNET_HDR_SIZE + frame.length); // the frame fills its slot, the slot ends the buffer
    expect(() => n.pipeline.processFromUnderlay(rx)).not.toThrow();
  });
});
