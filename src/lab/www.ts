import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { CertFiles } from './www-cert.js';
import { runWwwDns, WWW_DNS_NAMES, type WwwDnsServer } from './www-dns.js';
import { LabError } from './errors.js';

/**
 * "The internet" of the lab: a server outside the cluster (namespace
 * `<lab>-www`, 172.28.0.200; compose's `www`) that answers every request with
 * a page naming itself and the address the request came from. From a pod
 * going out through its node, that address is the node's (egress
 * masquerade); from the lab's client, the client's own.
 *
 *   GET /      a short text page (any path)
 *   GET /ip    only the caller's address, as ifconfig.me answers
 *   GET /json  the same facts as JSON (and the request's headers)
 *   UDP :7     echo (RFC 862): every datagram goes back to its sender
 *   :53        DNS, UDP and TCP (www-dns.ts): the lab's external names →
 *              this server's address, NXDOMAIN for the rest
 *   GET /dns.json   what the DNS server was asked, by name and type
 *                   (DELETE /dns.json: start counting again)
 */
export interface WwwOptions {
  /** what the page calls this server */
  name: string;
  /** listen address (default 0.0.0.0: IPv4, so addresses print plainly) */
  host?: string;
  /** 0 picks a free port; null leaves the listener out */
  httpPort?: number | null;
  httpsPort?: number | null;
  echoPort?: number | null;
  dnsPort?: number | null;
  /** the address the DNS server gives the external names (required with dnsPort) */
  dnsAddress?: string;
  /** required with httpsPort */
  tls?: CertFiles;
  log?: (msg: string) => void;
}

export interface WwwServer {
  readonly ports: { http?: number; https?: number; echo?: number; dns?: number };
  stop(): Promise<void>;
}

export interface WwwRequest {
  name: string;
  scheme: 'http' | 'https';
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  server: { ip: string; port: number };
  client: { ip: string; port: number };
}

/** `::ffff:172.28.0.100` → `172.28.0.100` */
export function plainIp(addr: string | undefined): string {
  if (!addr) return '?';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/** The answer to one request (pure: the unit tests compare it). */
export function wwwResponse(r: WwwRequest): { status: number; contentType: string; body: string } {
  const path = (r.url || '/').split('?')[0];
  if (path === '/ip') return { status: 200, contentType: 'text/plain; charset=utf-8', body: `${r.client.ip}\n` };
  if (path === '/json') {
    const doc = {
      server: { name: r.name, ip: r.server.ip, port: r.server.port, scheme: r.scheme },
      client: r.client,
      request: { method: r.method, url: r.url, headers: r.headers },
    };
    return { status: 200, contentType: 'application/json', body: `${JSON.stringify(doc, null, 2)}\n` };
  }
  const body = [
    `${r.name}: a server outside the cluster`,
    `server: ${r.server.ip}:${r.server.port} (${r.scheme})`,
    `client: ${r.client.ip}:${r.client.port}`,
    `request: ${r.method} ${r.url}${r.headers.host ? ` (Host: ${r.headers.host})` : ''}`,
    '',
  ].join('\n');
  return { status: 200, contentType: 'text/plain; charset=utf-8', body };
}

export async function runWww(opts: WwwOptions): Promise<WwwServer> {
  const log = opts.log ?? (() => {});
  const host = opts.host ?? '0.0.0.0';
  const closers: (() => Promise<void>)[] = [];
  const ports: { http?: number; https?: number; echo?: number; dns?: number } = {};
  let dns: WwwDnsServer | null = null;

  const handler = (scheme: 'http' | 'https') => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const sock = req.socket;
    const r: WwwRequest = {
      name: opts.name,
      scheme,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      server: { ip: plainIp(sock.localAddress), port: sock.localPort ?? 0 },
      client: { ip: plainIp(sock.remoteAddress), port: sock.remotePort ?? 0 },
    };
    const path = r.url.split('?')[0];
    if (path === '/dns.json' && dns) {
      if (r.method === 'DELETE') dns.counts.reset();
      const body = `${JSON.stringify(dns.counts, null, 2)}\n`;
      req.resume();
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        server: `podwire-${opts.name}`,
      });
      return void res.end(r.method === 'HEAD' ? undefined : body);
    }
    const out = wwwResponse(r);
    log(`${scheme} ${r.method} ${r.url} from ${r.client.ip}:${r.client.port} → ${out.status}`);
    req.resume();
    res.writeHead(out.status, {
      'content-type': out.contentType,
      'content-length': Buffer.byteLength(out.body),
      server: `podwire-${opts.name}`,
    });
    res.end(r.method === 'HEAD' ? undefined : out.body);
  };

  const listen = (server: http.Server | https.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const closeServer = (server: http.Server) => () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  try {
    if (opts.dnsPort != null) {
      if (!opts.dnsAddress) throw new LabError('ERR_BAD_OPTION', 'dns needs the address its names answer with');
      dns = await runWwwDns({
        zone: { address: opts.dnsAddress, names: WWW_DNS_NAMES },
        host,
        port: opts.dnsPort,
        log,
      });
      ports.dns = dns.port;
      closers.push(() => dns!.stop());
    }
    if (opts.httpPort != null) {
      const s = http.createServer(handler('http'));
      ports.http = await listen(s, opts.httpPort);
      closers.push(closeServer(s));
    }
    if (opts.httpsPort != null) {
      if (!opts.tls) throw new LabError('ERR_BAD_OPTION', 'https needs a certificate and key');
      const s = https.createServer(
        { cert: fs.readFileSync(opts.tls.certFile), key: fs.readFileSync(opts.tls.keyFile) },
        handler('https'),
      );
      ports.https = await listen(s, opts.httpsPort);
      closers.push(closeServer(s));
    }
    if (opts.echoPort != null) {
      const u = dgram.createSocket('udp4');
      u.on('message', (msg, rinfo) => {
        log(`udp echo ${msg.length} bytes from ${rinfo.address}:${rinfo.port}`);
        u.send(msg, rinfo.port, rinfo.address);
      });
      u.on('error', (e) => log(`udp echo: ${e.message}`));
      ports.echo = await new Promise<number>((resolve, reject) => {
        u.once('error', reject);
        u.bind(opts.echoPort!, host, () => {
          u.off('error', reject);
          resolve(u.address().port);
        });
      });
      closers.push(() => new Promise<void>((resolve) => u.close(() => resolve())));
    }
  } catch (err) {
    for (const c of closers) await c();
    throw err;
  }
  const what = [
    ports.http !== undefined && `http :${ports.http}`,
    ports.https !== undefined && `https :${ports.https}`,
    ports.echo !== undefined && `udp echo :${ports.echo}`,
    ports.dns !== undefined && `dns :${ports.dns} (${WWW_DNS_NAMES.length} names → ${opts.dnsAddress})`,
  ]
    .filter(Boolean)
    .join(', ');
  log(`${opts.name} serving ${what} on ${host}`);
  return {
    ports,
    async stop() {
      for (const c of closers.splice(0)) await c();
    },
  };
}
