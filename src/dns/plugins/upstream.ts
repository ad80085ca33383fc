import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import type { ForwardTarget } from '../corefile-plugins.js';

/**
 * The forward plugin's side of the wire: one upstream exchange over UDP or
 * TCP (RFC 1035 4.2.2 length-prefixed), with a deadline. A UDP exchange
 * uses a socket of its own (a fresh random source port per query) and
 * accepts only a datagram from the upstream's address and port carrying the
 * query's id; everything else on that socket is ignored.
 */
export interface UpstreamAddr {
  host: string;
  port: number;
  family: 4 | 6;
}

export const upstreamText = (u: UpstreamAddr): string =>
  u.family === 6 ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`;

export class UpstreamError extends Error {
  readonly code = 'ERR_UPSTREAM';
}

export type Exchange = (to: UpstreamAddr, query: Buffer, proto: 'udp' | 'tcp', timeoutMs: number) => Promise<Buffer>;

const addrOf = (host: string, port: number): UpstreamAddr => {
  const family = net.isIPv4(host) ? 4 : net.isIPv6(host) ? 6 : 0;
  if (!family) throw new UpstreamError(`not an IP address: "${host}"`);
  return { host, port, family };
};

/** The nameservers of a resolv.conf file's text. */
export function resolvConfNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1].replace(/%.*$/, ''));
  }
  return out;
}

/** forward's TO targets as addresses: a resolv.conf file becomes its nameservers (read once, at setup, as CoreDNS). */
export function expandUpstreams(
  to: ForwardTarget[],
  readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8'),
): UpstreamAddr[] {
  const out: UpstreamAddr[] = [];
  for (const t of to) {
    if (t.kind === 'server') {
      out.push(addrOf(t.host, t.port));
      continue;
    }
    let text: string;
    try {
      text = readFile(t.path);
    } catch (e) {
      throw new UpstreamError(`forward: cannot read ${t.path}: ${(e as Error).message}`);
    }
    const ns = resolvConfNameservers(text).filter((n) => net.isIP(n));
    if (!ns.length) throw new UpstreamError(`forward: no nameservers found in ${t.path}`);
    out.push(...ns.map((n) => addrOf(n, 53)));
  }
  return out;
}

export const realExchange: Exchange = (to, query, proto, timeoutMs) =>
  proto === 'udp' ? udpExchange(to, query, timeoutMs) : tcpExchange(to, query, timeoutMs);

function udpExchange(to: UpstreamAddr, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const id = query.readUInt16BE(0);
    // a connected socket: only the upstream's datagrams arrive, and an ICMP port unreachable fails the read at once
    const sock = dgram.createSocket(to.family === 6 ? 'udp6' : 'udp4');
    let done = false;
    const where = () => {
      try {
        const a = sock.address();
        return `${a.address}:${a.port}->${upstreamText(to)}`;
      } catch {
        return upstreamText(to);
      }
    };
    const finish = (err: Error | null, buf?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      if (err) reject(err);
      else resolve(buf!);
    };
    const timer = setTimeout(() => finish(new UpstreamError(`read udp ${where()}: i/o timeout`)), timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        new UpstreamError(`read udp ${where()}: read: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`),
      ),
    );
    sock.on('message', (buf) => {
      if (buf.length >= 12 && buf.readUInt16BE(0) === id) finish(null, buf);
    });
    sock.connect(to.port, to.host, () => {
      sock.send(query, (e) => {
        if (e) finish(new UpstreamError(`write udp ${where()}: ${e.message}`));
      });
    });
  });
}

function tcpExchange(to: UpstreamAddr, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const id = query.readUInt16BE(0);
    const sock = net.connect({ host: to.host, port: to.port });
    let acc = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | null, buf?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(buf!);
    };
    const timer = setTimeout(() => finish(new UpstreamError(`read tcp ${upstreamText(to)}: i/o timeout`)), timeoutMs);
    sock.on('error', (e) => finish(new UpstreamError(`tcp ${upstreamText(to)}: ${e.message}`)));
    sock.on('close', () => finish(new UpstreamError(`tcp ${upstreamText(to)}: connection closed`)));
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (chunk: Buffer) => {
      acc = Buffer.concat([acc, chunk]);
      while (acc.length >= 2) {
        const n = acc.readUInt16BE(0);
        if (acc.length < 2 + n) return;
        const msg = acc.subarray(2, 2 + n);
        acc = acc.subarray(2 + n);
        if (msg.length >= 12 && msg.readUInt16BE(0) === id) return finish(null, Buffer.from(msg));
      }
    });
  });
}
