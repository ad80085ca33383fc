import type { HttpEvent } from '../ingress/index.js';
import { serviceMatches, type FlowFilter, type Namer } from './format.js';

/**
 * The ingress controller's L7 hop in `podwire observe`, printed as Hubble
 * prints its L7 flows: one finished request becomes an `http-request` line
 * (when it arrived: who asked what, the route matched, the backend chosen)
 * and an `http-response` line (when it ended: status, latency, where the
 * answer came from). Pure: the CLI gathers the controllers' event streams,
 * this formats and filters.
 *
 * Verdicts, in Hubble's words: FORWARDED — a backend answered; DROPPED —
 * the controller answered itself with an error (no route 404, backend
 * missing 503, rate limit 429, upstream unreachable 502/504, client gone
 * 499); REDIRECTED — the controller answered with a redirect (ssl-redirect,
 * RequestRedirect).
 */
export type L7Verdict = 'FORWARDED' | 'DROPPED' | 'REDIRECTED';

/** The controller pod whose stream carried the event: "namespace/name" and its IP. */
export interface ControllerRef {
  name: string;
  ip?: string;
}

/** An HTTP event as observe keeps it: the controller's event plus which pod sent it. */
export interface L7Record {
  event: HttpEvent;
  controller: ControllerRef;
}

export function l7Verdict(e: HttpEvent): L7Verdict {
  if (e.upstreamStatus !== undefined) return 'FORWARDED';
  if (e.status >= 300 && e.status < 400) return 'REDIRECTED';
  if (e.status >= 400) return 'DROPPED';
  return 'FORWARDED';
}

const clock = (iso: string) => iso.slice(11, 23);
const plusMs = (iso: string, ms: number) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t + ms).toISOString();
};

/** "http://app.example.com/api" — the URL as the client asked it (the listener's port only when not the scheme's). */
export function requestUrl(e: HttpEvent): string {
  const scheme = e.tls ? 'https' : 'http';
  const port = e.port === (e.tls ? 443 : 80) ? '' : `:${e.port}`;
  return `${scheme}://${e.host || '_'}${port}${e.uri}`;
}

/** Latency as Hubble prints it: whole milliseconds, a fraction below 10 ms. */
export function latencyText(ms: number): string {
  return ms < 10 ? `${Math.round(ms * 10) / 10}ms` : `${Math.round(ms)}ms`;
}

const routeText = (e: HttpEvent) => (e.route ? `${e.route.kind}/${e.route.name} ${e.route.rule}` : 'no route');
const backendText = (e: HttpEvent) =>
  e.backend ? `${e.backend}${e.upstream ? ` (${e.upstream})` : ''}` : (e.upstream ?? '');

/** Both lines of one request: [http-request, http-response]. */
export function formatHttpEvent(r: L7Record, name: Namer = () => undefined): [string, string] {
  const e = r.event;
  const verdict = l7Verdict(e);
  const clientName = name(e.client);
  const client = clientName ? `${clientName} (${e.client})` : e.client || '?';
  const ctl = `${r.controller.name}:${e.port}${r.controller.ip ? ` (${r.controller.ip})` : ''}`;
  const request = `HTTP/1.1 ${e.method} ${requestUrl(e)}`;
  const why = e.reason ? `: ${e.reason}` : '';
  const routed =
    verdict === 'FORWARDED'
      ? `${routeText(e)} => ${backendText(e)}`
      : e.backend
        ? `${routeText(e)} => ${backendText(e)}${why}`
        : `${routeText(e)}${why}`;
  const req = `${clock(e.time)}  ${e.node}  ${client} -> ${ctl}  http-request ${verdict} (${request})  ${routed}`;
  const tail =
    verdict === 'FORWARDED'
      ? `from ${backendText(e)}${e.upgraded ? ', upgraded (WebSocket)' : ''}, ${e.bytes} B`
      : verdict === 'REDIRECTED'
        ? `redirected by the controller${why}`
        : `answered by the controller${why}`;
  const res = `${clock(plusMs(e.time, e.latencyMs))}  ${e.node}  ${client} <- ${ctl}  http-response ${verdict} (HTTP/1.1 ${e.status} ${latencyText(e.latencyMs)} (${e.method} ${requestUrl(e)}))  ${tail}`;
  return [req, res];
}

/**
 * Does an HTTP event pass observe's filters? --dns and --policy select
 * nothing at L7; --pod matches the client or the controller pod (the
 * backend pod is chosen after the controller, by the agent's Service
 * stage: its flows carry the Service); --service the backend Service;
 * --port the controller's listener; --node the controller's node.
 */
export function matchHttp(r: L7Record, f: FlowFilter): boolean {
  const e = r.event;
  if (f.dns || f.policy) return false;
  if (f.verdict && l7Verdict(e) !== f.verdict.toUpperCase()) return false;
  if (f.node && e.node !== f.node) return false;
  if (f.port !== undefined && e.port !== f.port) return false;
  if (f.podIps && !f.podIps.has(e.client) && !(r.controller.ip && f.podIps.has(r.controller.ip))) return false;
  if (f.service && !serviceMatches(e.backend?.replace(/:\d+$/, ''), f.service)) return false;
  return true;
}
