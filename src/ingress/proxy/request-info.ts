import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Listener, RequestInfo } from '../types.js';

/**
 * What the routing model sees of a request (types.ts RequestInfo), read from
 * node's parsed request. Host is the URL's authority when the request line is
 * absolute-form (RFC 9112 §3.2.2), else the Host header; lowercased, without
 * port or trailing dot (nginx matches server names that way).
 *
 * The path is routed and forwarded with dot-segments removed (RFC 3986
 * §5.2.4), as nginx does before location matching: otherwise `/api/../admin`
 * would match the `/api` rule and reach a backend that resolves it to /admin.
 */
export interface ParsedTarget {
  path: string;
  /** without '?', '' when none */
  query: string;
  /** authority from an absolute-form target */
  authority?: string;
}

export function parseTarget(url: string): ParsedTarget {
  let rest = url;
  let authority: string | undefined;
  if (!rest.startsWith('/')) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(rest);
    if (m) {
      authority = m[1];
      rest = rest.slice(m[0].length) || '/';
    }
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const rawPath = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : '';
  return { path: rawPath.includes('/.') ? removeDotSegments(rawPath) : rawPath, query, authority };
}

/** RFC 3986 §5.2.4 on an absolute path; the result still starts with '/'. */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segs = path.split('/');
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i];
    const last = i === segs.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length > 0) out.pop();
      if (last) out.push(''); // "/a/b/.." → "/a/"
    } else out.push(s);
  }
  return '/' + out.join('/');
}

/** "Example.COM.:8080" → "example.com"; "[::1]:80" → "::1" */
export function hostOnly(authority: string | undefined): string {
  if (!authority) return '';
  let h = authority.trim().toLowerCase();
  const at = h.lastIndexOf('@');
  if (at >= 0) h = h.slice(at + 1);
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(1, end) : h;
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** "::ffff:10.0.0.1" → "10.0.0.1" (an IPv4 client on a dual-stack socket) */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return '';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

export interface ReadRequest {
  info: RequestInfo;
  /** the path and query as forwarded when the route does not rewrite it */
  target: string;
  /** the Host header as the client sent it (X-Forwarded-Host), or the absolute-form authority */
  hostHeader: string;
}

export function readRequest(req: IncomingMessage, listener: Listener): ReadRequest {
  const t = parseTarget(req.url ?? '/');
  const hostHeader = t.authority ?? (typeof req.headers.host === 'string' ? req.headers.host : '');
  const sni = listener.tls ? (req.socket as TLSSocket).servername : undefined;
  const info: RequestInfo = {
    port: listener.port,
    tls: listener.tls,
    sni: typeof sni === 'string' && sni ? sni.toLowerCase() : undefined,
    host: hostOnly(hostHeader),
    method: req.method ?? 'GET',
    path: t.path,
    query: t.query,
    headers: req.headers,
    clientIp: clientAddress(req.socket.remoteAddress),
  };
  return { info, target: t.query ? `${t.path}?${t.query}` : t.path, hostHeader };
}
