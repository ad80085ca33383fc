/**
 * Frame batches: the shapes in which frames cross between JS and the kernel.
 *
 * RxBatch: one Buffer cut into fixed slots; recvmmsg fills slot i with one
 * frame (virtio_net_hdr first) and records its length.
 *
 * TxBatch: descriptors for sendmmsg. A frame is a list of slices, each from
 * the batch's own `scratch` buffer (headers we build: source 0) or from the
 * `payload` buffer (typically the RxBatch the frame arrived in: source 1).
 * So encapsulation, decapsulation and TCP segmentation write only headers;
 * payload bytes are never copied in JS.
 */
/** sll_pkttype values (linux/if_packet.h) */
export const PACKET_HOST = 0;
export const PACKET_OUTGOING = 4;

export class RxBatch {
  readonly buf: Buffer;
  readonly lengths: Uint32Array;
  /** per frame sll_pkttype, when the batch was made with `withPacketTypes` (captures) */
  readonly pkttypes: Uint8Array | null;
  /** per frame kernel receive time (s since the epoch), for sockets opened with timestamps */
  readonly times: Float64Array | null;
  /** per frame sll_ifindex: for a socket on every interface, the one the frame was on */
  readonly ifindexes: Uint32Array | null;
  count = 0;
  constructor(
    readonly slotSize: number,
    readonly capacity: number,
    withPacketTypes = false,
    withTimes = false,
    withIfindexes = false,
  ) {
    this.buf = Buffer.allocUnsafe(slotSize * capacity);
    this.lengths = new Uint32Array(capacity);
    this.pkttypes = withPacketTypes || withTimes ? new Uint8Array(capacity) : null;
    this.times = withTimes ? new Float64Array(capacity) : null;
    this.ifindexes = withIfindexes ? new Uint32Array(capacity) : null;
  }
  slotOffset(i: number): number {
    return i * this.slotSize;
  }
  /** true when the kernel had more bytes than the slot held. */
  truncated(i: number): boolean {
    return this.lengths[i] > this.slotSize;
  }
}

export const TX_FROM_SCRATCH = 0;
export const TX_FROM_PAYLOAD = 1;

export class TxBatch {
  readonly scratch: Buffer;
  readonly desc: Uint32Array;
  scratchUsed = 0;
  descUsed = 0;
  count = 0;
  /** bytes queued, for counters */
  bytes = 0;
  payload: Buffer | null = null;
  private frameStart = -1;

  constructor(
    scratchBytes: number,
    readonly maxFrames: number,
    readonly maxIovPerFrame = 64,
  ) {
    this.scratch = Buffer.alloc(scratchBytes);
    this.desc = new Uint32Array(maxFrames * (1 + 3 * 2) + maxIovPerFrame * 3 * 4);
  }

  /** Room for one more frame of `iovs` slices and `scratchLen` header bytes? */
  hasRoom(scratchLen: number, iovs = 2): boolean {
    return (
      this.count < this.maxFrames &&
      this.scratchUsed + scratchLen <= this.scratch.length &&
      this.descUsed + 1 + 3 * iovs <= this.desc.length
    );
  }

  /** Reserve `len` bytes of scratch; returns their offset. Check hasRoom first. */
  alloc(len: number): number {
    const off = this.scratchUsed;
    this.scratchUsed += (len + 7) & ~7; // keep slices 8-byte aligned
    return off;
  }

  beginFrame(): void {
    this.frameStart = this.descUsed;
    this.desc[this.descUsed++] = 0;
  }
  addSlice(source: number, off: number, len: number): void {
    const d = this.desc;
    d[this.descUsed++] = source;
    d[this.descUsed++] = off;
    d[this.descUsed++] = len;
    d[this.frameStart]++;
    this.bytes += len;
  }
  endFrame(): void {
    this.count++;
    this.frameStart = -1;
  }

  /** A frame made of one scratch slice. */
  pushScratch(off: number, len: number): void {
    this.beginFrame();
    this.addSlice(TX_FROM_SCRATCH, off, len);
    this.endFrame();
  }
  /** A frame made of a scratch header followed by a payload slice. */
  pushScratchPayload(aOff: number, aLen: number, bOff: number, bLen: number): void {
    this.beginFrame();
    if (aLen > 0) this.addSlice(TX_FROM_SCRATCH, aOff, aLen);
    this.addSlice(TX_FROM_PAYLOAD, bOff, bLen);
    this.endFrame();
  }

  reset(): void {
    this.scratchUsed = 0;
    this.descUsed = 0;
    this.count = 0;
    this.bytes = 0;
    this.payload = null;
  }
}
