import { STATUS_CODES, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { safeHeaderValue } from './headers.js';

/**
 * Answers the proxy gives itself: an error names its reason in a short text
 * body and in X-Podwire-Reason (so `curl -i` shows why without the logs);
 * a redirect carries Location. The same answers on a raw socket serve the
 * upgrade path (no ServerResponse there) and client errors before a request.
 */
export const REASON_HEADER = 'x-podwire-reason';

export function errorBody(status: number, reason: string): string {
  return `${status} ${STATUS_CODES[status] ?? 'Error'}: ${reason}\n`;
}

/** Send a local answer; returns the body bytes written. */
export function sendLocal(res: ServerResponse, status: number, reason: string, extra?: OutgoingHttpHeaders): number {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return 0;
  }
  const body = errorBody(status, reason);
  const len = Buffer.byteLength(body);
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': len,
    'cache-control': 'no-store',
    [REASON_HEADER]: safeHeaderValue(reason),
    ...extra,
  });
  res.end(body);
  return len;
}

export function sendRedirect(res: ServerResponse, status: number, location: string): number {
  const body = `${status} ${STATUS_CODES[status] ?? 'Redirect'}: ${location}\n`;
  const len = Buffer.byteLength(body);
  res.writeHead(status, {
    location: safeHeaderValue(location),
    'content-type': 'text/plain; charset=utf-8',
    'content-length': len,
  });
  res.end(body);
  return len;
}

/** A complete HTTP/1.1 response as bytes, with Connection: close. */
export function rawResponse(status: number, reason: string, extra: Record<string, string> = {}): string {
  const body = reason ? errorBody(status, reason) : '';
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  if (reason) lines.push(`X-Podwire-Reason: ${safeHeaderValue(reason)}`);
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${safeHeaderValue(v)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Answer on a raw socket and close it; a socket that cannot take it is destroyed. Returns body bytes. */
export function answerSocket(socket: Duplex, status: number, reason: string, extra?: Record<string, string>): number {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return 0;
  }
  const text = rawResponse(status, reason, extra);
  socket.end(text, () => socket.destroy());
  // a peer that never reads must not keep the socket: give the answer a moment, then drop it
  setTimeout(() => socket.destroy(), 2000).unref();
  return reason ? Buffer.byteLength(errorBody(status, reason)) : 0;
}
