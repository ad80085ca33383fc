import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { HeaderChanges } from '../types.js';

/**
 * Header handling on the way up and down. Hop-by-hop headers (RFC 9110 §7.6.1:
 * Connection and the names it lists, Keep-Alive, TE, Trailer,
 * Transfer-Encoding, Upgrade, Proxy-Connection) belong to one connection
 * and are never forwarded; each side's connection carries its own.
 * `Expect` is answered by node's server (100-continue) and not forwarded.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export type HeaderMap = Record<string, string | string[]>;

function copyEndToEnd(
  src: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  drop?: Set<string>,
): HeaderMap {
  const out: HeaderMap = {};
  const listed = src.connection;
  // headers the Connection header names are hop-by-hop too (RFC 9110 §7.6.1)
  const named =
    typeof listed === 'string'
      ? new Set(
          listed
            .toLowerCase()
            .split(',')
            .map((t) => t.trim()),
        )
      : undefined;
  for (const k in src) {
    const v = src[k];
    if (v === undefined || HOP_BY_HOP.has(k) || drop?.has(k) || named?.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Gateway API HTTPHeaderFilter semantics: set replaces, add appends to an
 * existing value ("foo" + add "bar" → "foo,bar"; Set-Cookie stays separate
 * lines), remove deletes. Names are case-insensitive.
 */
export function applyHeaderChanges(h: HeaderMap, changes: HeaderChanges | undefined): void {
  if (!changes) return;
  for (const [name, value] of changes.set ?? []) h[name.toLowerCase()] = value;
  for (const [name, value] of changes.add ?? []) {
    const k = name.toLowerCase();
    const cur = h[k];
    if (cur === undefined) h[k] = value;
    else if (k === 'set-cookie') h[k] = [...(Array.isArray(cur) ? cur : [cur]), value];
    else h[k] = `${Array.isArray(cur) ? cur.join(',') : cur},${value}`;
  }
  for (const name of changes.remove ?? []) delete h[name.toLowerCase()];
}

export interface ForwardedFacts {
  clientIp: string;
  /** 'http' | 'https' */
  proto: string;
  /** the listener port the client connected to */
  port: number;
  /** the Host the client sent */
  hostHeader: string;
  /** URLRewrite hostname; undefined keeps the client's Host */
  rewriteHost?: string;
}

const REQUEST_DROP = new Set(['expect', 'host']);

/**
 * The headers sent upstream: the client's end-to-end headers, Host
 * (rewritten or kept), the X-Forwarded-* set ingress-nginx sends
 * (X-Forwarded-For appended to, the others set), X-Real-IP, then the
 * route's own changes, last so that a route can override any of them.
 */
export function upstreamRequestHeaders(
  src: IncomingHttpHeaders,
  f: ForwardedFacts,
  changes?: HeaderChanges,
): HeaderMap {
  const h = copyEndToEnd(src, REQUEST_DROP);
  h.host = f.rewriteHost ?? f.hostHeader;
  const xff = src['x-forwarded-for'];
  h['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${f.clientIp}` : f.clientIp;
  h['x-forwarded-proto'] = f.proto;
  h['x-forwarded-host'] = f.hostHeader;
  h['x-forwarded-port'] = String(f.port);
  h['x-real-ip'] = f.clientIp;
  applyHeaderChanges(h, changes);
  if (!h.host) delete h.host; // an HTTP/1.0 client without Host: let the client library set one
  return h;
}

/** The headers of an upgrade request: as above, but Connection/Upgrade carried through and no body. */
export function upstreamUpgradeHeaders(
  src: IncomingHttpHeaders,
  f: ForwardedFacts,
  changes?: HeaderChanges,
): HeaderMap {
  const h = upstreamRequestHeaders(src, f, changes);
  // a handshake has no body: node's parser hands every byte after the headers over as the new
  // protocol's, so a Content-Length here would leave the upstream waiting for a body never sent
  delete h['content-length'];
  if (src.upgrade) {
    h.connection = 'Upgrade';
    h.upgrade = src.upgrade;
  }
  return h;
}

/** The upstream's response headers as sent to the client, with the route's response changes. */
export function downstreamResponseHeaders(src: IncomingHttpHeaders, changes?: HeaderChanges): OutgoingHttpHeaders {
  const h = copyEndToEnd(src);
  applyHeaderChanges(h, changes);
  return h;
}

/**
 * The same for the fast path, which gets the upstream's headers as llhttp's
 * raw list (name, value, name, value …, names as sent): hop-by-hop ones
 * dropped, duplicates (Set-Cookie) kept as separate lines. With route
 * changes it goes through the map above, which knows how to apply them.
 */
export function downstreamRawHeaders(raw: string[], changes?: HeaderChanges): string[] | OutgoingHttpHeaders {
  if (changes) {
    const m: Record<string, string | string[]> = {};
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i].toLowerCase();
      const cur = m[k];
      m[k] = cur === undefined ? raw[i + 1] : Array.isArray(cur) ? [...cur, raw[i + 1]] : [cur, raw[i + 1]];
    }
    // node's own folding, as undici's map has it: repeated fields joined with ', ' except Set-Cookie
    for (const k in m) if (k !== 'set-cookie' && Array.isArray(m[k])) m[k] = (m[k] as string[]).join(', ');
    return downstreamResponseHeaders(m, changes);
  }
  let named: Set<string> | undefined;
  let hop = false;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (!HOP_BY_HOP.has(k)) continue;
    hop = true;
    if (k === 'connection') for (const t of raw[i + 1].toLowerCase().split(',')) (named ??= new Set()).add(t.trim());
  }
  if (!hop) return raw;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(k) || named?.has(k)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** A request head as bytes on the wire (latin1), from the map upstreamRequestHeaders made. */
export function requestHead(method: string, path: string, h: HeaderMap): string {
  if (!VALID_TARGET.test(path)) throw new InvalidHeadError(`invalid request target ${JSON.stringify(path)}`);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const k in h) {
    const v = h[k];
    if (typeof v === 'string') head += headerLine(k, v);
    else for (const x of v) head += headerLine(k, x);
  }
  return `${head}\r\n`;
}

/** A value with CR, LF or NUL would end the line early: what the routes' own values (not llhttp-checked) must not carry. */
function headerLine(k: string, v: string): string {
  if (BAD_VALUE.test(v)) throw new InvalidHeadError(`invalid value for header ${k}`);
  return `${k}: ${v}\r\n`;
}

// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\r\n\0]/;
// what undici accepts as a path: no controls, no space
const VALID_TARGET = /^[\u0021-\u00ff]+$/;

export class InvalidHeadError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG';
}

/** A header value node and undici accept: visible ASCII and spaces only. */
export function safeHeaderValue(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x20-\x7e]/g, '?');
}
