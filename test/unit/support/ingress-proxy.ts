import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { IngressProxy, type IngressProxyOptions } from '../../../src/ingress/proxy/index.js';
import type { AccessEntry } from '../../../src/ingress/proxy/index.js';
import type {
  BackendTarget,
  Listener,
  PemPair,
  RequestInfo,
  RouteDecision,
  RouteTable,
} from '../../../src/ingress/types.js';

/**
 * Test support for the ingress proxy engine: a RouteTable as a literal
 * object, real upstream servers and clients on 127.0.0.1 (nothing leaves
 * the machine), and a minimal WebSocket framing for the echo test.
 */
export function literalTable(
  listeners: Listener[],
  route: (r: RequestInfo) => RouteDecision,
  certificate: (sni: string | undefined, port: number) => PemPair | undefined = () => undefined,
): RouteTable {
  return { listeners, route, certificate, describe: () => [] };
}

export const ROUTE = { kind: 'HTTPRoute', name: 'default/app', rule: 'rules[0]' };

export function target(port: number, weight = 1, service = 'default/app'): BackendTarget {
  return { service, port, address: '127.0.0.1', weight };
}

export interface Upstream {
  port: number;
  server: http.Server;
  /** TCP connections accepted so far */
  connections: number;
  close(): Promise<void>;
}

export async function upstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<Upstream> {
  const server = http.createServer(handler);
  if (onUpgrade) server.on('upgrade', onUpgrade);
  const sockets = new Set<Duplex>();
  const u: Upstream = {
    port: 0,
    server,
    connections: 0,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy(); // upgraded ones too
      }),
  };
  server.on('connection', (s: Duplex) => {
    u.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  u.port = (server.address() as AddressInfo).port;
  return u;
}

/** An upstream that answers with what it received, as JSON (…/status/NNN: that status, no body). */
export function echoHandler(name: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      const status = /\/status\/(\d{3})$/.exec(req.url ?? '');
      if (status) return void res.writeHead(Number(status[1]), { etag: '"e"' }).end();
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-upstream', name);
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, bodyBytes: n }));
    });
  };
}

export async function startProxy(
  table: RouteTable,
  opts: Partial<IngressProxyOptions> = {},
): Promise<{ proxy: IngressProxy; access: AccessEntry[]; port: (listenerPort: number) => number }> {
  const access: AccessEntry[] = [];
  const proxy = new IngressProxy({
    table,
    host: '127.0.0.1',
    bindPort: () => 0,
    onAccess: (e) => access.push(e),
    ...opts,
  });
  await proxy.start();
  return { proxy, access, port: (p) => proxy.boundPort(p)! };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(
  port: number,
  path: string,
  o: {
    host?: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: http.Agent;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? 'GET',
        headers: { host: o.host ?? 'app.example.com', ...o.headers },
        agent: o.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Write raw bytes, read until the server closes (or deadlineMs). */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  deadlineMs = 5000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString(), closed: false });
    }, deadlineMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString(), closed: true });
    });
    s.on('error', (e) => (chunks.length ? undefined : reject(e)));
    s.write(bytes);
  });
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  deadlineMs = 5000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A port nothing listens on: bound, read, closed. */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

// --- WebSocket (RFC 6455), just enough for an echo ---
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const wsAccept = (key: string): string =>
  createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');

/** One frame: FIN + text opcode, masked when a client sends it. Payloads under 126 bytes. */
export function wsFrame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  if (!mask) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, masked]);
}

/** Decode the first frame of `buf` (short payloads), or undefined if incomplete. */
export function wsParse(buf: Buffer): { text: string; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const masked = (buf[1] & 0x80) !== 0;
  const len = buf[1] & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (buf.length < start + len) return undefined;
  const data = Buffer.from(buf.subarray(start, start + len));
  if (masked) for (let i = 0; i < len; i++) data[i] ^= buf[2 + (i % 4)];
  return { text: data.toString(), size: start + len };
}

/** Upstream upgrade handler: accept the WebSocket, echo each text frame back prefixed. */
export function wsEchoUpgrade(req: IncomingMessage, socket: Duplex): void {
  const key = String(req.headers['sec-websocket-key']);
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wsAccept(key)}\r\nX-Seen-Path: ${req.url}\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    for (let f = wsParse(buf); f; f = wsParse(buf)) {
      buf = buf.subarray(f.size);
      socket.write(wsFrame(`echo: ${f.text}`, false));
    }
  });
  socket.on('end', () => socket.end()); // the client closed: close too, as WebSocket servers do
  socket.on('error', () => {});
}
