import type { ServerResponse } from 'node:http';
import type { AccessEntry } from '../proxy/access-log.js';

/**
 * The controller's L7 hop as events, for `podwire observe` to merge with
 * the agents' L3/L4 flows: one JSON object per line on
 * GET :10254/podwire/events (chunked, kept open). Each request the proxy
 * finished is one `http` event — who asked, the route matched, the
 * backend chosen, the status and latency — and each new route table a
 * `routes` event. A subscriber that reads too slowly loses lines (counted
 * in `dropped` of the next line it gets) rather than growing our memory.
 */
export interface HttpEvent {
  type: 'http';
  time: string;
  /** the controller pod (and node) that proxied it */
  pod: string;
  node: string;
  client: string;
  method: string;
  host: string;
  uri: string;
  port: number;
  tls: boolean;
  /** "Ingress/ns/name" or "HTTPRoute/ns/name", with the rule that matched */
  route?: { kind: string; name: string; rule: string };
  /** the Service port chosen: "ns/name:port"; upstream: the ClusterIP:port connected to */
  backend?: string;
  upstream?: string;
  status: number;
  upstreamStatus?: number;
  latencyMs: number;
  bytes: number;
  reason?: string;
  upgraded?: boolean;
}

export interface RoutesEvent {
  type: 'routes';
  time: string;
  pod: string;
  node: string;
  routes: number;
  listeners: { port: number; tls: boolean }[];
}

export type L7Event = (HttpEvent | RoutesEvent) & { dropped?: number };

export function httpEvent(e: AccessEntry, who: { pod: string; node: string }): HttpEvent {
  return {
    type: 'http',
    time: e.time.toISOString(),
    pod: who.pod,
    node: who.node,
    client: e.clientIp,
    method: e.method,
    host: e.host,
    uri: e.uri,
    port: e.port,
    tls: e.tls,
    ...(e.route ? { route: { kind: e.route.kind, name: e.route.name, rule: e.route.rule } } : {}),
    ...(e.backend ? { backend: e.backend } : {}),
    ...(e.upstream ? { upstream: e.upstream } : {}),
    status: e.status,
    ...(e.upstreamStatus !== undefined ? { upstreamStatus: e.upstreamStatus } : {}),
    latencyMs: Math.round(e.latencyMs * 1000) / 1000,
    bytes: e.bytes,
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.upgraded ? { upgraded: true } : {}),
  };
}

interface Subscriber {
  res: ServerResponse;
  dropped: number;
}

/** Bytes a subscriber may have unread before lines are dropped for it. */
export const MAX_BUFFERED = 256 * 1024;

export class L7EventHub {
  private readonly subs = new Set<Subscriber>();

  get subscribers(): number {
    return this.subs.size;
  }

  /** Serve one subscriber until it goes away. */
  subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    const s: Subscriber = { res, dropped: 0 };
    this.subs.add(s);
    res.on('close', () => this.subs.delete(s));
  }

  publish(ev: HttpEvent | RoutesEvent): void {
    if (!this.subs.size) return;
    const line = `${JSON.stringify(ev)}\n`;
    for (const s of this.subs) {
      if (s.res.writableLength > MAX_BUFFERED) {
        s.dropped++;
        continue;
      }
      s.res.write(s.dropped ? `${JSON.stringify({ ...ev, dropped: s.dropped })}\n` : line);
      s.dropped = 0;
    }
  }

  close(): void {
    for (const s of this.subs) s.res.end();
    this.subs.clear();
  }
}
