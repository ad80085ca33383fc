import { execaRunner } from '../host/index.js';
import { PacketSocket, RxBatch, TxBatch } from '../native/index.js';
import { ARP_REPLY, dissectFrame, parseIpv4, parseMac, writeArpRequest, ipv4ToString } from '../packet/index.js';
import { buildProbe, type ProbeProto } from './probe.js';
import type { InjectReport } from './report.js';

/** Wait for a frame on `sock` that `match` accepts (returns a value), or time out with null. */
function waitForFrame<T>(
  sock: PacketSocket,
  timeoutMs: number,
  match: (buf: Buffer, off: number, len: number) => T | null,
): Promise<T | null> {
  const rx = new RxBatch(65536 + 256, 16);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    sock.onReadable(() => {
      while (sock.recv(rx) > 0) {
        for (let i = 0; i < rx.count; i++) {
          const got = match(rx.buf, rx.slotOffset(i), Math.min(rx.lengths[i], rx.slotSize));
          if (got !== null) {
            clearTimeout(timer);
            resolve(got);
            return;
          }
        }
      }
    });
  });
}

/**
 * Runs inside the source pod's namespace: what the pod's own stack would do
 * (route lookup, gateway ARP), then one tagged probe out of eth0.
 */
export async function injectProbe(o: {
  pod: string;
  dst: string;
  proto: ProbeProto;
  port: number;
  id: number;
  ttl: number;
  size?: number;
}): Promise<InjectReport> {
  const run = execaRunner();
  const report: InjectReport = { pod: o.pod, sent: false };
  const route = await run.run(['ip', '-j', 'route', 'get', o.dst], { allowFailure: true });
  if (route.exitCode !== 0) return { ...report, route: null, error: route.stderr.trim() || 'no route' };
  const r = (JSON.parse(route.stdout) as { gateway?: string; dev?: string; prefsrc?: string }[])[0] ?? {};
  report.route = { gateway: r.gateway, dev: r.dev, src: r.prefsrc };
  const dev = r.dev ?? 'eth0';
  const link = (
    JSON.parse((await run.run(['ip', '-j', 'link', 'show', 'dev', dev])).stdout) as { mtu: number; address: string }[]
  )[0];
  report.mtu = link.mtu;
  const next = r.gateway ?? o.dst;
  report.gateway = next;
  const ourMac = parseMac(link.address);
  const ourIp = parseIpv4(r.prefsrc ?? '0.0.0.0');
  const sock = PacketSocket.open(dev, { ignoreOutgoing: true });
  try {
    const tx = new TxBatch(4096, 4);
    const off = tx.alloc(64);
    const n = writeArpRequest(tx.scratch, off, ourMac, ourIp, parseIpv4(next));
    tx.pushScratch(off, n);
    const t0 = performance.now();
    const want = parseIpv4(next);
    const answer = waitForFrame(sock, 1000, (b, f, len) => {
      const arp = dissectFrame(b, f, len).arp;
      return arp && arp.op === ARP_REPLY && arp.senderIp === want ? arp.senderMac : null;
    });
    sock.send(tx);
    const mac = await answer;
    report.gatewayMac = mac;
    report.arpMs = Math.round((performance.now() - t0) * 100) / 100;
    if (!mac) return report;
    const frame = buildProbe({
      srcMac: ourMac,
      dstMac: parseMac(mac),
      srcIp: ourIp,
      dstIp: parseIpv4(o.dst),
      proto: o.proto,
      port: o.port,
      id: o.id,
      ttl: o.ttl,
      size: o.size ?? link.mtu,
    });
    const ptx = new TxBatch(frame.length + 64, 1);
    const p = ptx.alloc(frame.length);
    frame.copy(ptx.scratch, p);
    ptx.pushScratch(p, frame.length);
    report.sent = sock.send(ptx) === 1;
    if (!report.sent) report.error = `the kernel refused to send the probe (errno ${sock.lastSendErrno})`;
    return report;
  } finally {
    sock.close();
  }
}

/**
 * Runs inside the destination pod's namespace: did the probe arrive on eth0,
 * and with what TTL? `src` may list several addresses, comma-separated (a
 * probe through a Service may arrive SNATed to its node's Service address).
 */
export async function catchProbe(o: {
  src: string;
  id: number;
  timeoutMs: number;
  onReady?: () => void;
}): Promise<{ arrived: boolean; ttl?: number; length?: number; src?: string }> {
  const srcs = new Set(o.src.split(',').map((s) => parseIpv4(s.trim()) >>> 0));
  const sock = PacketSocket.open('eth0', { ignoreOutgoing: true });
  try {
    const waiting = waitForFrame(sock, o.timeoutMs, (b, f, len) => {
      const ip = dissectFrame(b, f, len).ipv4;
      return ip && srcs.has(ip.src) && ip.id === o.id
        ? { ttl: ip.ttl, length: ip.totalLength, src: ipv4ToString(ip.src) }
        : null;
    });
    o.onReady?.();
    const got = await waiting;
    return got ? { arrived: true, ...got } : { arrived: false };
  } finally {
    sock.close();
  }
}

export { ipv4ToString };
