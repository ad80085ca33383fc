import { loadAddon, type NativeAddon } from './addon.js';
import { NativeError } from './errors.js';
import type { RxBatch, TxBatch } from './batch.js';
import { withoutOutgoing } from './bpf.js';

export interface PacketSocketOptions {
  /** Prepend a virtio_net_hdr to every frame (GSO and checksum-offload metadata). */
  vnetHdr?: boolean;
  /** Do not deliver frames this host transmits on the interface (our own sends included). */
  ignoreOutgoing?: boolean;
  /** Hand frames straight to the driver, skipping the qdisc layer. */
  qdiscBypass?: boolean;
  promiscuous?: boolean;
  rcvbufBytes?: number;
  sndbufBytes?: number;
  /** Kernel receive timestamps per frame (SO_TIMESTAMPNS), for captures. */
  timestamps?: boolean;
  /** A classic BPF program (struct sock_filter[], 8 bytes each); see bpf.ts. */
  filter?: Buffer;
  /**
   * Join this PACKET_FANOUT group (1..65535, per network namespace) in
   * rollover mode: frames go to the group's oldest member while it has room,
   * to the next only when it has not, and wholly once it leaves. A second
   * socket can so stand by and take an interface over without a gap.
   */
  fanoutGroup?: number;
}

/**
 * An AF_PACKET socket bound to one interface, moving frames in batches.
 * Never throws on the hot path: recv/send return counts, errors are counted.
 */
export class PacketSocket {
  readonly fd: number;
  readonly ifindex: number;
  readonly mac: Buffer;
  /** frames the kernel refused in the last send() (skipped, not retried) */
  lastRejected = 0;
  /** all refused frames, and the errno of the latest refusal */
  rejected = 0;
  lastSendErrno = 0;
  private readonly sendOut = new Uint32Array(2);
  private poller: { stop(): void } | null = null;
  private closed = false;

  private constructor(
    private readonly addon: NativeAddon,
    readonly ifname: string,
    opened: { fd: number; ifindex: number; mac: Buffer },
  ) {
    this.fd = opened.fd;
    this.ifindex = opened.ifindex;
    this.mac = opened.mac;
  }

  static open(ifname: string, options: PacketSocketOptions = {}): PacketSocket {
    const addon = loadAddon();
    try {
      // in a fanout group the socket's own ignore-outgoing is not honoured: its filter does it (bpf.ts)
      const opts =
        options.fanoutGroup && options.ignoreOutgoing
          ? { ...options, filter: withoutOutgoing(options.filter) }
          : options;
      return new PacketSocket(addon, ifname, addon.open(ifname, { ...opts }));
    } catch (cause) {
      const errno = (cause as { errno?: number }).errno;
      if (errno === 1 /* EPERM */) {
        throw new NativeError('ERR_NOT_ROOT', `opening a packet socket on ${ifname} needs root (CAP_NET_RAW)`, {
          cause,
        });
      }
      if (errno === 19 /* ENODEV */) {
        throw new NativeError('ERR_NO_SUCH_INTERFACE', `no interface named ${ifname} in this network namespace`, {
          cause,
        });
      }
      throw new NativeError('ERR_SOCKET', `packet socket on ${ifname}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Receive up to batch.capacity frames without blocking; returns the count. */
  recv(batch: RxBatch): number {
    const n = batch.ifindexes
      ? this.addon.recvBatch(
          this.fd,
          batch.buf,
          batch.slotSize,
          batch.capacity,
          batch.lengths,
          batch.pkttypes ?? undefined,
          batch.times ?? undefined,
          batch.ifindexes,
        )
      : batch.times
        ? this.addon.recvBatch(
            this.fd,
            batch.buf,
            batch.slotSize,
            batch.capacity,
            batch.lengths,
            batch.pkttypes!,
            batch.times,
          )
        : batch.pkttypes
          ? this.addon.recvBatch(this.fd, batch.buf, batch.slotSize, batch.capacity, batch.lengths, batch.pkttypes)
          : this.addon.recvBatch(this.fd, batch.buf, batch.slotSize, batch.capacity, batch.lengths);
    batch.count = n > 0 ? n : 0;
    return batch.count;
  }

  /**
   * Send every queued frame; returns how many the kernel took. Frames it
   * refused are skipped (lastRejected); frames left when the queue filled are
   * the caller's to count as drops. Resets the batch.
   */
  send(batch: TxBatch): number {
    if (batch.count === 0) return 0;
    this.sendOut[0] = 0;
    const n = this.addon.sendBatch(this.fd, batch.scratch, batch.payload, batch.desc, batch.count, this.sendOut);
    this.lastRejected = this.sendOut[0];
    if (this.lastRejected) {
      this.rejected += this.lastRejected;
      this.lastSendErrno = this.sendOut[1];
    }
    if (n < 0) this.lastSendErrno = -n;
    batch.reset();
    return n > 0 ? n : 0;
  }

  /** Calls `onReadable` from the event loop whenever frames are waiting. */
  onReadable(onReadable: () => void): void {
    this.poller?.stop();
    this.poller = new this.addon.Poller(this.fd, () => onReadable());
  }

  /** Kernel-side counters since the last call: frames seen and frames dropped for a full buffer. */
  kernelStats(): { packets: number; drops: number } {
    return this.addon.stats(this.fd);
  }

  /**
   * In a fanout group: take no new frame (the smallest receive buffer, so
   * rollover passes every new one to the next member); what is queued stays
   * to be read. An agent handing its node over drains, then closes.
   */
  stopTaking(): void {
    this.addon.stopTaking(this.fd);
  }

  /** An interface's index in this network namespace (0: none), as frames' ifindexes name it. */
  static ifIndex(name: string): number {
    return loadAddon().ifIndex(name);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller?.stop();
    this.poller = null;
    this.addon.close(this.fd);
  }
}
