import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { Listener, PemPair } from '../types.js';
import { answerSocket } from './responses.js';

/**
 * The client side: one node:http server per plain listener port, one
 * node:https server per TLS port, added and removed as the route table's
 * listeners change. Node's own HTTP parser (llhttp) does the strict parsing
 * and the limits the bad input needs: malformed requests and
 * oversized headers (maxHeaderSize) surface as 'clientError', answered here
 * (400 / 431, then closed); headersTimeout and requestTimeout cut slowloris
 * clients (408); maxConnections bounds open sockets (over it, new ones are
 * dropped at once); keepAliveTimeout closes idle keep-alive connections.
 */
export interface ServerLimits {
  maxHeaderSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** how often node checks requests against the timeouts (node's connectionsCheckingInterval) */
  timeoutCheckIntervalMs: number;
  tlsHandshakeTimeoutMs: number;
  /** a listener the table no longer has: how long its busy connections may finish */
  drainMs: number;
}

export type ClientErrorReason =
  | 'malformed-request'
  | 'header-too-large'
  | 'request-timeout'
  | 'connection-reset'
  | 'tls-handshake'
  | 'max-connections'
  | 'idle-timeout';

export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse, l: Listener): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, l: Listener): void;
  clientError(reason: ClientErrorReason, l: Listener, message: string): void;
  connectionOpened(l: Listener): void;
  connectionClosed(l: Listener): void;
  /** the SecureContext for an SNI on a TLS port (undefined: the server's default) */
  sni(servername: string, l: Listener): tls.SecureContext | Error | undefined;
  /** the certificate a TLS port serves a client that sends no SNI (or one no certificate names) */
  defaultCertificate(l: Listener): PemPair | undefined;
}

type Server = http.Server | https.Server;

interface Bound {
  listener: Listener;
  server: Server;
  port: number;
  /** every socket, upgraded ones included (node's closeAllConnections does not see those) */
  sockets: Set<Duplex>;
}

const TLS_BASE = { minVersion: 'TLSv1.2' as const };

const keyOf = (l: Listener): string => `${l.port}/${l.tls ? 'tls' : 'tcp'}`;

export class ListenerSet {
  private readonly bound = new Map<string, Bound>();

  constructor(
    private readonly host: string,
    private readonly bindPort: (l: Listener) => number,
    private readonly limits: ServerLimits,
    private readonly handlers: ListenerHandlers,
  ) {}

  /** Open what is wanted and not open, close what is open and no longer wanted. Rejects if a port cannot be bound. */
  async reconcile(wanted: readonly Listener[]): Promise<void> {
    const want = new Map(wanted.map((l) => [keyOf(l), l]));
    const closing: Promise<void>[] = [];
    for (const [k, b] of this.bound) {
      if (want.has(k)) continue;
      this.bound.delete(k);
      closing.push(closeServer(b, this.limits.drainMs));
    }
    await Promise.all(closing);
    const opening: Promise<void>[] = [];
    for (const [k, l] of want) if (!this.bound.has(k)) opening.push(this.open(k, l));
    const results = await Promise.allSettled(opening);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw failed[0].reason;
  }

  /**
   * The route table changed: each TLS server's default certificate (what a
   * client without SNI gets) is set anew. Without one, such handshakes fail.
   */
  refreshDefaultCertificates(): void {
    for (const b of this.bound.values()) if (b.listener.tls) this.applyDefault(b.server as https.Server, b.listener);
  }

  private applyDefault(server: https.Server, l: Listener): void {
    const pair = this.handlers.defaultCertificate(l);
    try {
      server.setSecureContext(pair ? { ...TLS_BASE, cert: pair.cert, key: pair.key } : TLS_BASE);
    } catch (e) {
      this.handlers.clientError('tls-handshake', l, `default certificate unusable: ${(e as Error).message}`);
      server.setSecureContext(TLS_BASE);
    }
  }

  boundPort(port: number): number | undefined {
    for (const b of this.bound.values()) if (b.listener.port === port) return b.port;
    return undefined;
  }

  /** Stop listening; connections still busy after graceMs are cut. */
  async close(graceMs = 0): Promise<void> {
    const all = [...this.bound.values()];
    this.bound.clear();
    await Promise.all(all.map((b) => closeServer(b, graceMs)));
  }

  private async open(k: string, l: Listener): Promise<void> {
    const sockets = new Set<Duplex>();
    const server = this.create(l, sockets);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: this.bindPort(l) }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // a listening server's later errors (EMFILE on accept) must not crash the process
    server.on('error', (e) => this.handlers.clientError('connection-reset', l, e.message));
    this.bound.set(k, { listener: l, server, port: (server.address() as AddressInfo).port, sockets });
  }

  private create(l: Listener, sockets: Set<Duplex>): Server {
    const lim = this.limits;
    const options: http.ServerOptions = {
      maxHeaderSize: lim.maxHeaderSize,
      headersTimeout: lim.headersTimeoutMs,
      requestTimeout: lim.requestTimeoutMs,
      keepAliveTimeout: lim.keepAliveTimeoutMs,
      connectionsCheckingInterval: lim.timeoutCheckIntervalMs,
      noDelay: true,
    };
    const h = this.handlers;
    const server: Server = l.tls
      ? https.createServer({
          ...options,
          ...TLS_BASE,
          ALPNProtocols: ['http/1.1'],
          handshakeTimeout: lim.tlsHandshakeTimeoutMs,
          SNICallback: (servername, cb) => {
            const ctx = h.sni(servername, l);
            if (ctx instanceof Error) cb(ctx, undefined);
            else cb(null, ctx);
          },
        })
      : http.createServer(options);
    if (l.tls) this.applyDefault(server as https.Server, l);
    server.maxConnections = lim.maxConnections;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => h.request(req, res, l));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => h.upgrade(req, socket, head, l));
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      // CONNECT (forward-proxy tunnelling) is not what an ingress does
      h.clientError('malformed-request', l, 'CONNECT refused');
      answerSocket(socket, 405, 'CONNECT is not supported by this proxy');
    });
    server.on('connection', (socket: Socket) => {
      h.connectionOpened(l);
      sockets.add(socket);
      // node's headersTimeout starts with a request's first byte; a connection
      // that never sends one is closed after the same time (NGINX's client_header_timeout)
      const firstByte = setTimeout(() => {
        if (socket.bytesRead > 0) return;
        h.clientError('idle-timeout', l, 'no request on a new connection');
        socket.destroy();
      }, lim.headersTimeoutMs);
      firstByte.unref();
      socket.once('close', () => {
        clearTimeout(firstByte);
        sockets.delete(socket);
        h.connectionClosed(l);
      });
    });
    server.on('drop', () => h.clientError('max-connections', l, `over ${lim.maxConnections} connections`));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket, l, h));
    if (l.tls)
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        h.clientError('tls-handshake', l, err.message);
        socket.destroy();
      });
    return server;
  }
}

function onClientError(err: NodeJS.ErrnoException, socket: Duplex, l: Listener, h: ListenerHandlers): void {
  let status = 400;
  let reason: ClientErrorReason = 'malformed-request';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    reason = 'header-too-large';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    reason = 'request-timeout';
  } else if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
    h.clientError('connection-reset', l, err.message);
    socket.destroy();
    return;
  }
  h.clientError(reason, l, err.message);
  // an answer is only safe when no response on this connection has begun
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const words =
    status === 431
      ? 'request headers too large'
      : status === 408
        ? 'request not received in time'
        : `malformed HTTP request (${err.code ?? 'parse error'})`;
  answerSocket(socket, status, words);
}

/** Stop accepting; idle keep-alive connections close now, busy ones get graceMs to finish. */
function closeServer(b: Bound, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    b.server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    b.server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of b.sockets) s.destroy();
    }, graceMs);
  });
}
