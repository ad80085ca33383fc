import { PacketSocket, RxBatch, PACKET_OUTGOING } from '../native/index.js';
import {
  sectionHeader,
  interfaceDescription,
  enhancedPacket,
  nowUs,
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
} from './pcapng.js';
import { pcapGlobalHeader, pcapRecord } from './pcap.js';
import { frameMatches, type CaptureFilter } from './filter.js';

export interface IfaceCaptureOptions {
  ifname: string;
  label: string;
  format: 'pcapng' | 'pcap';
  filter: CaptureFilter;
  promiscuous?: boolean;
  count?: number;
  write: (chunk: Buffer) => void;
}

/**
 * Capture on an interface of *this* network namespace (the CLI runs it
 * inside the pod's, node's or underlay's namespace): both directions, whole
 * frames (GSO super-frames appear as the kernel hands them, as with tcpdump).
 */
export function captureInterface(opts: IfaceCaptureOptions): { stop(): void; done: Promise<number> } {
  const sock = PacketSocket.open(opts.ifname, {
    promiscuous: opts.promiscuous ?? false,
    rcvbufBytes: 16 << 20,
    timestamps: true,
  });
  const rx = new RxBatch(65536 + 256, 64, true, true);
  opts.write(
    opts.format === 'pcapng'
      ? Buffer.concat([sectionHeader(), interfaceDescription(opts.label, `captured by podwire on ${opts.ifname}`)])
      : pcapGlobalHeader(),
  );
  let packets = 0;
  let resolveDone!: (n: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    sock.close();
    resolveDone(packets);
  };
  sock.onReadable(() => {
    while (!stopped && sock.recv(rx) > 0) {
      for (let i = 0; i < rx.count && !stopped; i++) {
        const off = rx.slotOffset(i);
        const orig = rx.lengths[i];
        const len = Math.min(orig, rx.slotSize);
        if (!frameMatches(rx.buf, off, len, opts.filter)) continue;
        const data = Buffer.from(rx.buf.subarray(off, off + len));
        const kt = rx.times![i];
        const ts = kt > 0 ? BigInt(Math.round(kt * 1e6)) : nowUs(); // the kernel's receive time
        const outbound = rx.pkttypes![i] === PACKET_OUTGOING;
        opts.write(
          opts.format === 'pcapng'
            ? enhancedPacket(data, {
                timestampUs: ts,
                originalLength: orig,
                direction: outbound ? DIRECTION_OUTBOUND : DIRECTION_INBOUND,
              })
            : pcapRecord(data, ts, orig),
        );
        packets++;
        if (opts.count && packets >= opts.count) stop();
      }
    }
  });
  return { stop, done };
}
