import { PacketSocket, RxBatch, TxBatch, TX_FROM_PAYLOAD, compileFilter, bpf, type BpfInsn } from '../native/index.js';
import {
  VNET_HDR_SIZE,
  ETHERNET_HEADER_SIZE,
  ArpView,
  writeArpReply,
  writeArpRequest,
  copyMac,
} from '../packet/index.js';
import type { Balancer, LbDecision } from './balancer.js';
import type { IpRange } from './pool.js';

/** GSO super-frames (a client's TSO through the veths) plus the virtio_net_hdr fit one slot. */
const SLOT = 65536 + 128;
const SLOTS = 32;
const BATCHES_PER_TURN = 8;
/** As the agent's sockets: the default (~200 KiB) overflows under one TCP upload and the kernel drops. */
const SOCKET_BUFFER_BYTES = 32 << 20;

const ACCEPT = 0x40000;
const BPF_JGE = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const BPF_JGT = 0x25; // BPF_JMP | BPF_JGT | BPF_K

/**
 * The socket filter: ARP, and IPv4 to an address of the pool — equivalent to
 * tcpdump's `arp or dst net <pool>`. Everything else (the load balancer's own
 * health checks and API traffic) never wakes the process.
 */
export function poolFilter(pool: IpRange): BpfInsn[] {
  return [
    bpf.ldhAbs(12), //                                       0: ethertype
    bpf.jeq(0x0806, 4, 0), //                                1: ARP -> accept
    bpf.jeq(0x0800, 0, 4), //                                2: not IPv4 -> drop
    bpf.ldwAbs(30), //                                       3: destination address
    { code: BPF_JGE, jt: 0, jf: 2, k: pool.first }, //       4: below the pool -> drop
    { code: BPF_JGT, jt: 1, jf: 0, k: pool.last }, //        5: above the pool -> drop
    bpf.ret(ACCEPT), //                                      6
    bpf.ret(0), //                                           7
  ];
}

/**
 * The load balancer's data path on its eth0: one AF_PACKET socket with
 * PACKET_VNET_HDR, so a frame's offload metadata (GSO, partial checksum)
 * travels on with it to the node exactly as it arrived — the frame is
 * forwarded from the receive buffer with only its two MAC addresses
 * rewritten (destination: the node's, source: ours).
 */
export class Forwarder {
  private readonly sock: PacketSocket;
  private readonly rx = new RxBatch(SLOT, SLOTS);
  private readonly tx = new TxBatch(64 * 1024, SLOTS * 2);
  private readonly arp = new ArpView();
  private timers: NodeJS.Timeout[] = [];
  internalErrors = 0;

  constructor(
    ifname: string,
    pool: IpRange,
    readonly ownIp: number,
    private readonly balancer: Balancer,
    private readonly log: (msg: string) => void,
    private readonly onDecision?: (d: LbDecision) => void,
  ) {
    this.sock = PacketSocket.open(ifname, {
      vnetHdr: true,
      ignoreOutgoing: true,
      rcvbufBytes: SOCKET_BUFFER_BYTES,
      sndbufBytes: SOCKET_BUFFER_BYTES,
      filter: compileFilter(poolFilter(pool)),
    });
  }

  get mac(): Buffer {
    return this.sock.mac;
  }

  start(): void {
    this.sock.onReadable(() => {
      for (let b = 0; b < BATCHES_PER_TURN; b++) {
        if (this.sock.recv(this.rx) === 0) break;
        try {
          this.process();
        } catch (err) {
          this.internalErrors++;
          this.tx.reset();
          this.log(`internal error (batch dropped): ${(err as Error).stack ?? err}`);
        }
      }
    });
    // Nodes' MACs: ask for the missing every 500 ms, refresh the known every 10 s.
    let tick = 0;
    const t = setInterval(() => {
      tick++;
      for (const n of this.balancer.nodes.values())
        if (!n.mac || tick % 20 === 0) this.queueArpRequest(n.ip, this.ownIp);
      this.flush();
    }, 500);
    t.unref();
    const sweep = setInterval(() => this.balancer.flows.sweep(Date.now()), 10_000);
    sweep.unref();
    this.timers.push(t, sweep);
  }

  private process(): void {
    const rx = this.rx;
    this.tx.payload = rx.buf;
    const now = Date.now();
    for (let i = 0; i < rx.count; i++) {
      const slot = rx.slotOffset(i);
      const len = rx.lengths[i];
      if (len > rx.slotSize || len < VNET_HDR_SIZE + ETHERNET_HEADER_SIZE) continue;
      const f = slot + VNET_HDR_SIZE;
      const flen = len - VNET_HDR_SIZE;
      const d = this.balancer.decide(rx.buf, f, flen, now);
      this.onDecision?.(d);
      if (d.kind === 'forward') {
        if (!this.tx.hasRoom(0, 1)) this.flush();
        this.tx.payload = rx.buf;
        copyMac(d.node.mac!, 0, rx.buf, f);
        copyMac(this.sock.mac, 0, rx.buf, f + 6);
        this.tx.beginFrame();
        this.tx.addSlice(TX_FROM_PAYLOAD, slot, len);
        this.tx.endFrame();
      } else if (d.kind === 'arp-reply') {
        if (!this.tx.hasRoom(VNET_HDR_SIZE + 64, 1)) this.flush();
        const off = this.tx.alloc(VNET_HDR_SIZE + 64);
        this.tx.scratch.fill(0, off, off + VNET_HDR_SIZE);
        const n = writeArpReply(
          this.tx.scratch,
          off + VNET_HDR_SIZE,
          this.arp.wrap(rx.buf, f + ETHERNET_HEADER_SIZE, flen - ETHERNET_HEADER_SIZE),
          this.sock.mac,
        );
        this.tx.pushScratch(off, VNET_HDR_SIZE + n);
      } else if (d.kind === 'drop' && d.reason === 'node-mac-unresolved' && d.node) {
        this.queueArpRequest(d.node.ip, this.ownIp);
      }
    }
    this.flush();
  }

  /** "who has ip? tell ours" (or a gratuitous ARP when ip is ours to announce). */
  private queueArpRequest(targetIp: number, senderIp: number): void {
    if (!this.tx.hasRoom(VNET_HDR_SIZE + 64, 1)) this.flush();
    const off = this.tx.alloc(VNET_HDR_SIZE + 64);
    this.tx.scratch.fill(0, off, off + VNET_HDR_SIZE);
    const n = writeArpRequest(this.tx.scratch, off + VNET_HDR_SIZE, this.sock.mac, senderIp, targetIp);
    this.tx.pushScratch(off, VNET_HDR_SIZE + n);
  }

  /**
   * Gratuitous ARP for an address just taken (what MetalLB and keepalived
   * send): every machine that cached another MAC for it learns ours now.
   */
  announce(ip: number): void {
    this.queueArpRequest(ip, ip);
    this.flush();
  }

  private flush(): void {
    if (this.tx.count) this.sock.send(this.tx);
    else this.tx.reset();
  }

  private kernelDrops = 0;

  stats(): { rejected: number; lastSendErrno: number; kernelDrops: number } {
    this.kernelDrops += this.sock.kernelStats().drops;
    return { rejected: this.sock.rejected, lastSendErrno: this.sock.lastSendErrno, kernelDrops: this.kernelDrops };
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.sock.close();
  }
}
