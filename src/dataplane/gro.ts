import {
  ETHERNET_HEADER_SIZE,
  VNET_HDR_SIZE,
  VNET_HDR_F_NEEDS_CSUM,
  VNET_HDR_F_DATA_VALID,
  VNET_HDR_GSO_TCPV4,
  sum16,
  finishChecksum,
  fold16,
  pseudoHeaderSumV4,
  TCP_ACK,
  TCP_PSH,
} from '../packet/index.js';
import { TX_FROM_PAYLOAD, TX_FROM_SCRATCH, type TxBatch } from '../native/index.js';

/**
 * Receive-side coalescing (userspace GRO) for frames the agent hands a pod
 * after decapsulation: in-order, full-sized segments of one TCP flow become
 * one TCPv4 GSO frame, sent as one message whose iovecs are the first
 * segment's headers and every segment's payload, straight from the receive
 * buffer. The pod's kernel then processes one skb instead of dozens, exactly
 * as after GRO on a NIC.
 *
 * Rules follow Linux's tcp_gro_receive: same flow, no IP options, identical
 * TCP header length and option bytes, same ACK number, TTL and TOS, flags
 * only ACK (PSH ends the run), sequence contiguous, every segment but the
 * last exactly the first one's size, at most 64 KiB. A segment is merged
 * only if the kernel vouched for its checksum (virtio NEEDS_CSUM or
 * DATA_VALID); others go out alone and the pod verifies them.
 */
const MAX_SEGMENTS = 60;
const MAX_PAYLOAD = 65535 - 20 - 60;
const ETH = ETHERNET_HEADER_SIZE;

class Run {
  active = false;
  buf: Buffer = Buffer.alloc(0);
  slot = 0; // vnet hdr offset of the first segment in buf
  frameLen = 0; // first segment's frame length (headers + payload)
  src = 0;
  dst = 0;
  ports = 0;
  ack = 0;
  nextSeq = 0;
  mss = 0;
  lastLen = 0;
  headerLen = 0; // Ethernet + IPv4 + TCP
  tcpHeaderLen = 0;
  ttlTos = 0;
  total = 0; // payload bytes
  psh = false;
  count = 0;
  readonly payloadOffs = new Uint32Array(MAX_SEGMENTS);
  readonly payloadLens = new Uint32Array(MAX_SEGMENTS);
}

export interface GroSink {
  /** make room for a frame of `iovs` slices and `scratch` header bytes (flushing if needed) */
  room(scratch: number, iovs: number): boolean;
  readonly tx: TxBatch;
  delivered(frames: number, bytes: number): void;
}

export class Gro {
  private readonly runs = [new Run(), new Run(), new Run(), new Run()];
  coalesced = 0;

  constructor(private readonly sink: GroSink) {}

  /**
   * Offer a frame ready for a pod (virtio hdr at slot, Ethernet after it,
   * MACs and TTL already rewritten). Returns false if GRO does not take it;
   * the caller then sends it alone — after calling flushFlowOf(), so a
   * flow's frames never overtake each other.
   */
  offer(buf: Buffer, slot: number, len: number): boolean {
    const f = slot + VNET_HDR_SIZE;
    const ip = f + ETH;
    if (buf[ip] !== 0x45 || buf[ip + 9] !== 6) return false; // IPv4 without options, TCP
    if ((buf.readUInt16BE(ip + 6) & 0x3fff) !== 0) return false; // MF or an offset: a fragment
    const vflags = buf[slot];
    if ((vflags & (VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID)) === 0 || buf[slot + 1] !== 0) return false;
    const tcp = ip + 20;
    const thl = (buf[tcp + 12] >>> 4) * 4;
    const ipLen = buf.readUInt16BE(ip + 2);
    const payload = ipLen - 20 - thl;
    if (thl < 20 || payload <= 0 || f + ETH + ipLen > slot + len) return false;
    const flags = buf[tcp + 13];
    if ((flags & ~(TCP_ACK | TCP_PSH)) !== 0 || (flags & TCP_ACK) === 0) return false;

    const src = buf.readUInt32BE(ip + 12);
    const dst = buf.readUInt32BE(ip + 16);
    const ports = buf.readUInt32BE(tcp);
    const seq = buf.readUInt32BE(tcp + 4);
    const ack = buf.readUInt32BE(tcp + 8);
    const ttlTos = (buf[ip + 8] << 8) | buf[ip + 1];
    const payloadOff = f + ETH + 20 + thl;

    let run = this.find(src, dst, ports);
    if (run) {
      if (
        seq === run.nextSeq &&
        ack === run.ack &&
        thl === run.tcpHeaderLen &&
        ttlTos === run.ttlTos &&
        run.lastLen === run.mss &&
        payload <= run.mss &&
        run.total + payload <= MAX_PAYLOAD &&
        run.count < MAX_SEGMENTS &&
        buf.compare(
          run.buf,
          run.slot + VNET_HDR_SIZE + ETH + 40,
          run.slot + VNET_HDR_SIZE + ETH + 20 + thl,
          tcp + 20,
          tcp + thl,
        ) === 0
      ) {
        run.payloadOffs[run.count] = payloadOff;
        run.payloadLens[run.count] = payload;
        run.count++;
        run.total += payload;
        run.nextSeq = (seq + payload) >>> 0;
        run.lastLen = payload;
        if (flags & TCP_PSH) {
          run.psh = true;
          this.flushRun(run);
        }
        return true;
      }
      this.flushRun(run);
    }
    if (flags & TCP_PSH) return false; // a lone PSH segment goes straight out
    run = this.free();
    run.active = true;
    run.buf = buf;
    run.slot = slot;
    run.frameLen = ETH + ipLen;
    run.src = src;
    run.dst = dst;
    run.ports = ports;
    run.ack = ack;
    run.nextSeq = (seq + payload) >>> 0;
    run.mss = payload;
    run.lastLen = payload;
    run.headerLen = ETH + 20 + thl;
    run.tcpHeaderLen = thl;
    run.ttlTos = ttlTos;
    run.total = payload;
    run.psh = false;
    run.count = 1;
    return true;
  }

  /** Send any run of this frame's flow first (ordering), before the frame goes out alone. */
  flushFlowOf(buf: Buffer, slot: number, len: number): void {
    const ip = slot + VNET_HDR_SIZE + ETH;
    const l4 = ip + (buf[ip] & 0x0f) * 4;
    if (buf[ip + 9] !== 6 || l4 + 4 > slot + len || l4 + 4 > buf.length) return; // no ports: it cannot be in a run
    const run = this.find(buf.readUInt32BE(ip + 12), buf.readUInt32BE(ip + 16), buf.readUInt32BE(l4));
    if (run) this.flushRun(run);
  }

  flushAll(): void {
    for (const r of this.runs) if (r.active) this.flushRun(r);
  }

  private find(src: number, dst: number, ports: number): Run | undefined {
    for (const r of this.runs) if (r.active && r.src === src && r.dst === dst && r.ports === ports) return r;
    return undefined;
  }

  private free(): Run {
    for (const r of this.runs) if (!r.active) return r;
    const victim = this.runs[0];
    this.flushRun(victim);
    return victim;
  }

  private flushRun(run: Run): void {
    run.active = false;
    const { buf, slot } = run;
    const tx = this.sink.tx;
    if (run.count === 1) {
      if (!this.sink.room(0, 1)) return;
      tx.pushScratchPayload(0, 0, slot, VNET_HDR_SIZE + run.frameLen);
      this.sink.delivered(1, run.frameLen);
      return;
    }
    if (!this.sink.room(VNET_HDR_SIZE, run.count + 1)) return;
    const f = slot + VNET_HDR_SIZE;
    const ip = f + ETH;
    const tcp = ip + 20;
    const ipLen = 20 + run.tcpHeaderLen + run.total;
    buf.writeUInt16BE(ipLen, ip + 2);
    buf[ip + 10] = 0;
    buf[ip + 11] = 0;
    buf.writeUInt16BE(finishChecksum(sum16(buf, ip, 20)), ip + 10);
    if (run.psh) buf[tcp + 13] |= TCP_PSH;
    buf.writeUInt16BE(fold16(pseudoHeaderSumV4(run.src, run.dst, 6, run.tcpHeaderLen + run.total)), tcp + 16);
    const off = tx.alloc(VNET_HDR_SIZE);
    const sc = tx.scratch;
    sc[off] = VNET_HDR_F_NEEDS_CSUM;
    sc[off + 1] = VNET_HDR_GSO_TCPV4;
    sc.writeUInt16LE(run.headerLen, off + 2);
    sc.writeUInt16LE(run.mss, off + 4);
    sc.writeUInt16LE(ETH + 20, off + 6);
    sc.writeUInt16LE(16, off + 8);
    tx.beginFrame();
    tx.addSlice(TX_FROM_SCRATCH, off, VNET_HDR_SIZE);
    tx.addSlice(TX_FROM_PAYLOAD, f, run.headerLen + run.mss);
    for (let i = 1; i < run.count; i++) tx.addSlice(TX_FROM_PAYLOAD, run.payloadOffs[i], run.payloadLens[i]);
    tx.endFrame();
    this.coalesced += run.count - 1;
    this.sink.delivered(1, run.headerLen + run.total);
  }
}
