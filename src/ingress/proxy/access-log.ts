import type { RouteRef } from '../types.js';

/**
 * One request as the engine finished it: what the controller prints as an
 * access log line and counts. The engine never prints; it calls onAccess.
 */
export interface AccessEntry {
  /** when the request arrived */
  time: Date;
  clientIp: string;
  method: string;
  /** the Host as routed (lowercase, no port) */
  host: string;
  /** the request target as the client sent it (path and query) */
  uri: string;
  /** 'HTTP/1.1' */
  protocol: string;
  /** the status sent to the client; 499 when the client went away first (NGINX's code) */
  status: number;
  /** response body bytes sent to the client */
  bytes: number;
  /** 'ip:port' of the backend connected to, when one was */
  upstream?: string;
  upstreamStatus?: number;
  /** the Service port chosen: "ns/name:port" */
  backend?: string;
  route?: RouteRef;
  latencyMs: number;
  userAgent: string;
  referer: string;
  /** the listener port and whether it was TLS */
  port: number;
  tls: boolean;
  /** why the proxy answered itself (error, redirect, rate limit) or failed upstream */
  reason?: string;
  /** the connection was upgraded (WebSocket); latency and bytes cover its whole life */
  upgraded?: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

let lastSecond = NaN;
let lastText = '';

/** NGINX's $time_local in UTC: 10/Oct/2000:13:55:36 +0000 (made once a second, as NGINX caches its time) */
export function nginxTime(d: Date): string {
  const s = Math.floor(d.getTime() / 1000);
  if (s !== lastSecond) {
    lastText = formatTime(d);
    lastSecond = s;
  }
  return lastText;
}

function formatTime(d: Date): string {
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\]|[^\x20-\x7e]/;
const quoted = (s: string): string =>
  !s
    ? '"-"'
    : NEEDS_ESCAPE.test(s)
      ? `"${s.replace(/["\\]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')}"`
      : `"${s}"`;

/**
 * ingress-nginx's default log_format, trimmed to what podwire knows:
 *   $remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 *   $request_time [$proxy_upstream_name] $upstream_addr $upstream_status
 * then podwire's route (kind/ns/name) and reason when there is one.
 * The upstream name is ingress-nginx's "ns-service-port".
 */
export function formatAccessLine(e: AccessEntry): string {
  const upstreamName = e.backend ? e.backend.replace('/', '-').replace(':', '-') : '';
  const parts = [
    `${e.clientIp || '-'} - - [${nginxTime(e.time)}] ${quoted(`${e.method} ${e.uri} ${e.protocol}`)} ${e.status} ${e.bytes}`,
    `${quoted(e.referer)} ${quoted(e.userAgent)} ${(e.latencyMs / 1000).toFixed(3)}`,
    `[${upstreamName}] ${e.upstream ?? '-'} ${e.upstreamStatus ?? '-'}`,
    e.route ? `${e.route.kind}/${e.route.name}` : '-',
  ];
  if (e.reason) parts.push(quoted(e.reason));
  return parts.join(' ');
}
