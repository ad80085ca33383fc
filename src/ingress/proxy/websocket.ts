import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeaderMap } from './headers.js';
import { answerSocket } from './responses.js';
import {
  classifyUpstreamError,
  ConnectTimeoutError,
  ResponseTimeoutError,
  type UpstreamFailure,
} from './upstream-errors.js';

/**
 * An Upgrade request (WebSocket) forwarded on a connection of its own: the
 * upgraded connection belongs to one client for its whole life, so there is
 * nothing to pool. node:http's client is used here, not undici, because it
 * hands over a non-101 answer (the backend's 404 or 401) as an ordinary
 * response to relay, where undici's upgrade() can only fail. After the 101
 * both sockets are piped into each other (pipe's backpressure both ways)
 * and closed together.
 */
const HALF_CLOSE_GRACE_MS = 5000;
const EARLY_DATA_MAX = 64 * 1024;

export interface UpgradeRequest {
  socket: Duplex;
  head: Buffer;
  method: string;
  address: string;
  port: number;
  path: string;
  headers: HeaderMap;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

export interface UpgradeResult {
  status: number;
  /** bytes sent to the client: the relayed body, or everything after the 101 */
  bytes: number;
  upstreamStatus?: number;
  failure?: UpstreamFailure;
  upgraded: boolean;
}

function statusHead(res: IncomingMessage, extra?: string[]): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
  for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  if (extra) lines.push(...extra);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function forwardUpgrade(u: UpgradeRequest, done: (r: UpgradeResult) => void): void {
  const upstream = u.address.includes(':') ? `[${u.address}]:${u.port}` : `${u.address}:${u.port}`;
  const client = u.socket;
  let finished = false;
  const finish = (r: UpgradeResult): void => {
    if (finished) return;
    finished = true;
    done(r);
  };

  const up = http.request({
    host: u.address,
    port: u.port,
    method: u.method,
    path: u.path,
    headers: u.headers,
    agent: false,
  });
  let connectTimer: NodeJS.Timeout | undefined = setTimeout(
    () => up.destroy(new ConnectTimeoutError(u.connectTimeoutMs)),
    u.connectTimeoutMs,
  );
  let readTimer: NodeJS.Timeout | undefined;
  const clearTimers = (): void => {
    clearTimeout(connectTimer);
    clearTimeout(readTimer);
    connectTimer = readTimer = undefined;
  };
  up.on('socket', (s) => {
    s.once('connect', () => {
      clearTimeout(connectTimer);
      readTimer = setTimeout(() => up.destroy(new ResponseTimeoutError(u.readTimeoutMs)), u.readTimeoutMs);
    });
  });
  // the client left before the upgrade (closed, reset, or half-closed: the server's sockets
  // allow half-open, so a FIN alone would leave this one waiting): drop both sides
  const onClientGone = (): void => {
    clearTimers();
    up.destroy();
    client.destroy();
    finish({ status: 499, bytes: 0, upgraded: false });
  };
  client.once('close', onClientGone);
  client.once('end', onClientGone);
  // read meanwhile, so that an end or reset is seen; what a client sends before the 101 is kept
  // for the upstream (up to a bound: a client may not push a stream into a pending handshake)
  const early: Buffer[] = [];
  let earlyBytes = 0;
  const onEarly = (c: Buffer): void => {
    earlyBytes += c.length;
    if (earlyBytes > EARLY_DATA_MAX) onClientGone();
    else early.push(c);
  };
  client.on('data', onEarly);

  up.on('error', (err) => {
    clearTimers();
    if (finished || client.destroyed) return finish({ status: 499, bytes: 0, upgraded: false });
    const failure = classifyUpstreamError(err, upstream);
    const bytes = answerSocket(client, failure.status, failure.reason);
    finish({ status: failure.status, bytes, failure, upgraded: false });
  });

  // the backend declined the upgrade: relay its answer and close
  up.on('response', (res) => {
    clearTimers();
    let bytes = 0;
    const head = statusHead(res, res.headers.connection ? undefined : ['Connection: close']);
    client.write(head);
    res.on('data', (c: Buffer) => (bytes += c.length));
    res.on('error', () => client.destroy());
    res.pipe(client);
    res.on('end', () =>
      finish({ status: res.statusCode ?? 502, bytes, upstreamStatus: res.statusCode, upgraded: false }),
    );
  });

  up.on('upgrade', (res, upSocket, upHead) => {
    clearTimers();
    client.off('close', onClientGone);
    client.off('end', onClientGone);
    client.off('data', onEarly);
    client.pause();
    if (client.destroyed) {
      upSocket.destroy();
      return finish({ status: 499, bytes: 0, upstreamStatus: 101, upgraded: false });
    }
    let bytes = 0;
    upSocket.on('data', (c: Buffer) => (bytes += c.length));
    const closeBoth = (): void => {
      client.destroy();
      upSocket.destroy();
    };
    client.on('error', closeBoth);
    upSocket.on('error', closeBoth);
    client.on('close', closeBoth);
    // pipe carries a half-close across (FIN → end()); a side that then never
    // closes its own half is not waited for long
    let halfClosed: NodeJS.Timeout | undefined;
    const onEnd = (): void => {
      halfClosed ??= setTimeout(closeBoth, HALF_CLOSE_GRACE_MS);
      halfClosed.unref();
    };
    client.on('end', onEnd);
    upSocket.on('end', onEnd);
    upSocket.on('close', () => {
      clearTimeout(halfClosed);
      closeBoth();
      finish({ status: 101, bytes, upstreamStatus: 101, upgraded: true });
    });
    upSocket.setNoDelay(true);
    client.write(statusHead(res));
    if (upHead.length) client.write(upHead);
    if (u.head.length) upSocket.write(u.head);
    for (const c of early) upSocket.write(c);
    upSocket.pipe(client);
    client.pipe(upSocket);
  });

  up.end();
}
