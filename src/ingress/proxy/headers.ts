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

/** A header value node and undici accept: visible ASCII and spaces only. */
export function safeHeaderValue(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\x20-\x7e]/g, '?');
}
