import dgram from 'node:dgram';
import net from 'node:net';
import type { Packet, RecordType } from 'dns-packet';
import { encodeOutcome, finalReply, type Handler, type Outcome, type Query } from './chain.js';
import type { DnsMetrics } from './metrics.js';
import type { Logger } from './plugins/log-sink.js';
import {
  bufferSize,
  EDNS_DO,
  encodeMessage,
  errorReply,
  FLAG_RD,
  inZone,
  MAX_QUERY_SIZE,
  optOf,
  readQuery,
  replyTo,
  withEdns,
  type DropReason,
} from './wire.js';

/**
 * A DNS server on one port, UDP and TCP, as CoreDNS's core/dnsserver: each
 * query goes to the server block whose zone holds its name most closely
 * ("." last), through that block's plugin chain; the reply gets the
 * query's EDNS0 (its buffer size and DO bit echoed) and is cut to the
 * client's buffer with the TC bit — 512 bytes without EDNS0 — so the client
 * asks again over TCP, where a reply may be 64 KiB.
 *
 * Garbage is counted (podwire_dns_dropped_total{reason}) and dropped; a
 * query-shaped header with a bad body gets FORMERR, another opcode NOTIMP,
 * another class REFUSED, EDNS version > 0 BADVERS. Nothing thrown by a
 * plugin leaves a packet handler: the client gets SERVFAIL and the log a
 * line, as CoreDNS recovers from a panic. Memory is bounded: at most
 * maxInFlight queries wait for their chain (more are dropped as
 * "overload"), at most maxTcpConnections connections with at most
 * TCP_PIPELINE queries each, and no table grows with the traffic.
 */
export interface BlockRuntime {
  /** lowercase, fully qualified: "cluster.local.", "." */
  zones: string[];
  handler: Handler;
}

export interface DnsServerOptions {
  port: number;
  host?: string;
  metrics?: DnsMetrics | null;
  log: Logger;
  maxInFlight?: number;
  maxTcpConnections?: number;
  /** an idle TCP connection closes after this */
  tcpIdleMs?: number;
  /** CNAME chasing through the chain stops at this depth */
  maxLookupDepth?: number;
}

export const SERVER_DEFAULTS = {
  maxInFlight: 4096,
  maxTcpConnections: 512,
  tcpIdleMs: 8000,
  maxLookupDepth: 8,
  host: '0.0.0.0',
};
const TCP_PIPELINE = 32;

export interface Remote {
  address: string;
  port: number;
  family: 4 | 6;
}

export class DnsServer {
  private blocks: BlockRuntime[] = [];
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly conns = new Set<net.Socket>();
  private inFlight = 0;
  readonly server: string;
  private readonly o: Required<Omit<DnsServerOptions, 'metrics' | 'log'>>;
  /** drops by reason since start (also in the metrics) */
  readonly drops = new Map<string, number>();

  constructor(private readonly opts: DnsServerOptions) {
    this.o = {
      port: opts.port,
      host: opts.host ?? SERVER_DEFAULTS.host,
      maxInFlight: opts.maxInFlight ?? SERVER_DEFAULTS.maxInFlight,
      maxTcpConnections: opts.maxTcpConnections ?? SERVER_DEFAULTS.maxTcpConnections,
      tcpIdleMs: opts.tcpIdleMs ?? SERVER_DEFAULTS.tcpIdleMs,
      maxLookupDepth: opts.maxLookupDepth ?? SERVER_DEFAULTS.maxLookupDepth,
    };
    this.server = `dns://:${opts.port}`;
  }

  /** Replace the server blocks (a reload): queries already in a chain finish in the old one. */
  setBlocks(blocks: BlockRuntime[]): void {
    this.blocks = blocks;
  }

  /** The bound ports (port 0 asks the kernel for one). */
  get ports(): { udp: number; tcp: number } {
    const t = this.tcp?.address();
    return { udp: this.udp?.address().port ?? 0, tcp: t && typeof t === 'object' ? t.port : 0 };
  }

  get pending(): number {
    return this.inFlight;
  }

  async listen(): Promise<void> {
    const tcp = net.createServer((sock) => this.onConnection(sock));
    tcp.maxConnections = this.o.maxTcpConnections;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.o.port, this.o.host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    tcp.on('error', (e) => this.opts.log.error(`${this.server} tcp: ${e.message}`));
    this.tcp = tcp;
    const port = this.ports.tcp;
    const udp = dgram.createSocket({ type: net.isIPv6(this.o.host) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.o.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (e) => this.opts.log.error(`${this.server} udp: ${e.message}`));
    udp.on('message', (buf, rinfo) => this.onDatagram(udp, buf, rinfo));
    this.udp = udp;
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = null;
    this.tcp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private drop(reason: DropReason | 'overload'): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.opts.metrics?.dropped.inc({ server: this.server, reason });
  }

  private onDatagram(udp: dgram.Socket, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const remote: Remote = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 6 : 4 };
    void this.handle(buf, remote, 'udp').then((out) => {
      if (out && this.udp === udp) udp.send(out, rinfo.port, rinfo.address, () => {});
    });
  }

  private onConnection(sock: net.Socket): void {
    this.conns.add(sock);
    const remote: Remote = {
      address: sock.remoteAddress ?? '',
      port: sock.remotePort ?? 0,
      family: sock.remoteFamily === 'IPv6' ? 6 : 4,
    };
    let acc: Buffer = Buffer.alloc(0);
    let pending = 0;
    sock.setTimeout(this.o.tcpIdleMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('data', (chunk: Buffer) => {
      acc = acc.length ? Buffer.concat([acc, chunk]) : chunk;
      while (acc.length >= 2) {
        const n = acc.readUInt16BE(0);
        if (n > MAX_QUERY_SIZE || n === 0) {
          // a length no query has: nothing on this connection can be trusted any more
          this.drop(n === 0 ? 'short' : 'oversize');
          sock.destroy();
          return;
        }
        if (acc.length < 2 + n) return;
        const msg = Buffer.from(acc.subarray(2, 2 + n));
        acc = acc.subarray(2 + n);
        if (pending >= TCP_PIPELINE) {
          this.drop('overload');
          continue;
        }
        pending++;
        void this.handle(msg, remote, 'tcp').then((out) => {
          pending--;
          if (!out || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          sock.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  /**
   * One message in, the reply's bytes out (null: dropped). Never throws,
   * never rejects: this is what both transports call, and what tests
   * call with random bytes.
   */
  async handle(buf: Buffer, remote: Remote, proto: 'udp' | 'tcp'): Promise<Buffer | null> {
    if (this.inFlight >= this.o.maxInFlight) {
      this.drop('overload');
      return null;
    }
    this.inFlight++;
    try {
      return await this.handleQuery(buf, remote, proto);
    } catch (e) {
      this.opts.log.error(`Recovered from panic in server: "${this.server}" ${(e as Error)?.message ?? e}`);
      this.opts.metrics?.panics.inc();
      return null;
    } finally {
      this.inFlight--;
    }
  }

  private async handleQuery(buf: Buffer, remote: Remote, proto: 'udp' | 'tcp'): Promise<Buffer | null> {
    const startNs = process.hrtime.bigint();
    const read = readQuery(buf);
    if (read.kind === 'drop') {
      this.drop(read.reason);
      return null;
    }
    if (read.kind === 'error') return encodeMessage(errorReply(read)).buf;
    const msg = read.msg;
    const question = msg.questions![0];
    const opt = optOf(msg);
    if (opt && opt.ednsVersion > 0) {
      // RFC 6891 6.1.3: BADVERS (16) is the OPT's extended rcode 1 over a header rcode of 0
      const reply = replyTo(msg);
      reply.questions = [];
      reply.additionals = [
        {
          name: '.',
          type: 'OPT',
          udpPayloadSize: opt.udpPayloadSize,
          extendedRcode: 1,
          ednsVersion: 0,
          flags: opt.flags & EDNS_DO,
          flag_do: (opt.flags & EDNS_DO) !== 0,
          options: [],
        },
      ];
      return encodeMessage(reply).buf;
    }
    const bufSize = bufferSize(proto, opt);
    if ((question.class ?? 'IN') !== 'IN') return encodeMessage(withEdns(replyTo(msg, 5), opt), bufSize).buf;
    const block = this.blockFor(question.name);
    if (!block) return encodeMessage(withEdns(replyTo(msg, 5), opt), bufSize).buf;
    const q: Query = {
      msg,
      size: buf.length,
      proto,
      remote,
      opt,
      bufSize,
      do: !!opt && (opt.flags & EDNS_DO) !== 0,
      server: this.server,
      zone: block.zone,
      startNs,
      internal: false,
      depth: 0,
      lookup: (name, type) => this.lookup(name, type, 1),
    };
    const outcome = await this.run(block.runtime, q);
    try {
      return encodeOutcome(q, outcome).buf;
    } catch (e) {
      this.opts.log.error(
        `plugin/${outcome.plugin || 'server'}: cannot encode the reply to ${question.name} ${question.type}: ${(e as Error).message}`,
      );
      return encodeMessage(finalReply(q, { msg: null, rcode: 'SERVFAIL', plugin: '' }), bufSize).buf;
    }
  }

  /** The chain, with a plugin's exception turned into SERVFAIL (CoreDNS's recover()). */
  private async run(block: BlockRuntime, q: Query): Promise<Outcome> {
    try {
      return await block.handler(q);
    } catch (e) {
      this.opts.log.error(`Recovered from panic in server: "${this.server}" ${(e as Error)?.message ?? e}`);
      this.opts.metrics?.panics.inc();
      return { msg: null, rcode: 'SERVFAIL', plugin: '' };
    }
  }

  private blockFor(name: string): { runtime: BlockRuntime; zone: string } | null {
    let best: { runtime: BlockRuntime; zone: string } | null = null;
    for (const b of this.blocks) {
      for (const z of b.zones) {
        if (inZone(name, z) && (!best || z.length > best.zone.length)) best = { runtime: b, zone: z };
      }
    }
    return best;
  }

  /** A name resolved through a block's chain on a plugin's behalf (ExternalName's CNAME target). */
  private async lookup(name: string, type: RecordType, depth: number): Promise<Packet | null> {
    const block = this.blockFor(name);
    if (depth > this.o.maxLookupDepth || !block) return null;
    const msg: Packet = {
      id: 0,
      type: 'query',
      flags: FLAG_RD,
      questions: [{ name, type, class: 'IN' }],
      answers: [],
      authorities: [],
      additionals: [],
    };
    const q: Query = {
      msg,
      size: 0,
      proto: 'udp',
      remote: { address: '127.0.0.1', port: 0, family: 4 },
      opt: null,
      bufSize: 65535,
      do: false,
      server: this.server,
      zone: block.zone,
      startNs: process.hrtime.bigint(),
      internal: true,
      depth,
      lookup: (n, t) => this.lookup(n, t, depth + 1),
    };
    const o = await this.run(block.runtime, q);
    return o.msg;
  }
}
