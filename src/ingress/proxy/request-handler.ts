import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { BackendTarget, Listener, RequestInfo, RouteDecision, RouteRef, RouteTable } from '../types.js';
import type { AccessEntry } from './access-log.js';
import { forward, forwardH1, hasBody, type ForwardResult } from './forward.js';
import { requestHead, upstreamRequestHeaders, upstreamUpgradeHeaders, type ForwardedFacts } from './headers.js';
import { IngressMetrics, routeLabel, statusClass } from './metrics.js';
import { sendMirror, splitBody } from './mirror.js';
import { pickBackend } from './pick.js';
import type { RateLimiter } from './rate-limit.js';
import { readRequest } from './request-info.js';
import { answerSocket, sendLocal, sendRedirect } from './responses.js';
import type { UpstreamFailure } from './upstream-errors.js';
import type { UpstreamPools } from './upstream-pools.js';
import { forwardUpgrade } from './websocket.js';

/**
 * Per request: read it, ask the table, then answer locally (error, redirect,
 * 429) or forward — on the request path through undici (forward.ts), on the
 * upgrade path over a connection of its own (websocket.ts). Every path ends
 * in exactly one record(): metrics and one access entry. Nothing here
 * throws out to node's server: a failure inside is a 500 (or a closed
 * socket) and an internal event.
 */
export interface HandlerDeps {
  table: () => RouteTable;
  pools: UpstreamPools;
  limiter: RateLimiter;
  metrics: IngressMetrics;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  onAccess?: (e: AccessEntry) => void;
  onInternalError: (port: number, e: unknown) => void;
  random?: () => number;
}

/** What to do, decided before any I/O. */
type Plan =
  | { kind: 'local'; status: number; reason: string; headers?: Record<string, string> }
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'proxy'; backend: BackendTarget; decision: Extract<RouteDecision, { kind: 'proxy' }> };

interface Outcome {
  status: number;
  bytes: number;
  upstream?: string;
  upstreamStatus?: number;
  backend?: string;
  reason?: string;
  failure?: UpstreamFailure;
  upgraded?: boolean;
}

const noop = (): void => {};
const backendName = (b: BackendTarget): string => `${b.service}:${b.port}`;
const hostPort = (address: string, port: number): string =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/** A backend's names, made once per compiled target rather than per request. */
interface BackendNames {
  name: string;
  upstream: string;
}
const names = new WeakMap<BackendTarget, BackendNames>();
function namesOf(b: BackendTarget): BackendNames {
  let n = names.get(b);
  if (!n) names.set(b, (n = { name: backendName(b), upstream: hostPort(b.address, b.port) }));
  return n;
}

export class RequestHandler {
  constructor(private readonly d: HandlerDeps) {}

  request(req: IncomingMessage, res: ServerResponse, l: Listener): void {
    const t0 = performance.now();
    const time = new Date();
    req.on('error', noop);
    res.on('error', noop);
    let route: RouteRef | undefined;
    const end = (info: Partial<RequestInfo>, o: Outcome): void => this.record(req, l, time, t0, info, route, o);
    try {
      const { info, target, hostHeader } = readRequest(req, l);
      const decision = this.route(info);
      route = decision.route;
      const plan = this.plan(decision, info);
      if (plan.kind === 'local')
        return end(info, {
          status: plan.status,
          reason: plan.reason,
          bytes: sendLocal(res, plan.status, plan.reason, plan.headers),
        });
      if (plan.kind === 'redirect')
        return end(info, {
          status: plan.status,
          reason: `redirect to ${plan.location}`,
          bytes: sendRedirect(res, plan.status, plan.location),
        });

      const { backend, decision: p } = plan;
      const facts = this.facts(info, hostHeader, l, p.rewriteHost);
      const headers = upstreamRequestHeaders(req.headers, facts, p.requestHeaders);
      const path = p.rewritePath ?? target;
      const { upstream, name } = namesOf(backend);
      let body = hasBody(req) ? (req as IncomingMessage) : null;
      const finished = (r: ForwardResult): void =>
        end(info, {
          status: r.status,
          bytes: r.bytes,
          upstreamStatus: r.upstreamStatus,
          failure: r.failure,
          upstream,
          backend: name,
          reason: r.failure?.reason ?? (r.status === 499 ? 'client closed the connection' : undefined),
        });
      if (!body && !p.mirror?.length) {
        // the common request, no body and nothing to copy it to: the fast path (h1-pool.ts)
        let head: string;
        try {
          head = requestHead(info.method, path, headers);
        } catch (e) {
          const failure: UpstreamFailure = {
            kind: 'protocol',
            status: 502,
            reason: `cannot send the request to ${upstream}: ${(e as Error).message}`,
          };
          return finished({ status: 502, bytes: sendLocal(res, 502, failure.reason), failure });
        }
        return forwardH1(
          {
            res,
            pool: this.d.pools.h1(backend.address, backend.port),
            head,
            method: info.method,
            upstream,
            responseHeaders: p.responseHeaders,
          },
          finished,
        );
      }
      const mirrors = (p.mirror ?? []).filter((m) => m.address && !m.failure);
      if (mirrors.length) {
        const split = body ? splitBody(req, mirrors.length) : undefined;
        if (split) body = split.main as IncomingMessage;
        mirrors.forEach((m, i) =>
          sendMirror(
            { pool: this.d.pools.get(m.address, m.port) },
            info.method,
            path,
            { ...headers },
            split?.copies[i] ?? null,
            (r) => this.d.metrics.mirrors.inc({ result: r }),
          ),
        );
      }
      forward(
        {
          req,
          res,
          pool: this.d.pools.get(backend.address, backend.port),
          method: info.method,
          path,
          headers,
          body,
          upstream,
          responseHeaders: p.responseHeaders,
        },
        finished,
      );
    } catch (e) {
      this.d.onInternalError(l.port, e);
      end(
        {},
        {
          status: 500,
          reason: 'internal error',
          bytes: res.headersSent ? (res.destroy(), 0) : sendLocal(res, 500, 'internal error in the proxy'),
        },
      );
    }
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, l: Listener): void {
    const t0 = performance.now();
    const time = new Date();
    socket.on('error', noop);
    let route: RouteRef | undefined;
    const end = (info: Partial<RequestInfo>, o: Outcome): void => this.record(req, l, time, t0, info, route, o);
    try {
      const { info, target, hostHeader } = readRequest(req, l);
      const decision = this.route(info);
      route = decision.route;
      const plan = this.plan(decision, info);
      if (plan.kind === 'local')
        return end(info, {
          status: plan.status,
          reason: plan.reason,
          bytes: answerSocket(socket, plan.status, plan.reason, plan.headers),
        });
      if (plan.kind === 'redirect')
        return end(info, {
          status: plan.status,
          reason: `redirect to ${plan.location}`,
          bytes: answerSocket(socket, plan.status, '', { Location: plan.location }),
        });

      const { backend, decision: p } = plan;
      const headers = upstreamUpgradeHeaders(
        req.headers,
        this.facts(info, hostHeader, l, p.rewriteHost),
        p.requestHeaders,
      );
      const upstream = hostPort(backend.address, backend.port);
      forwardUpgrade(
        {
          socket,
          head,
          method: info.method,
          address: backend.address,
          port: backend.port,
          path: p.rewritePath ?? target,
          headers,
          connectTimeoutMs: this.d.connectTimeoutMs,
          readTimeoutMs: this.d.readTimeoutMs,
        },
        (r) => end(info, { ...r, upstream, backend: backendName(backend), reason: r.failure?.reason }),
      );
    } catch (e) {
      this.d.onInternalError(l.port, e);
      end(
        {},
        { status: 500, reason: 'internal error', bytes: answerSocket(socket, 500, 'internal error in the proxy') },
      );
    }
  }

  private route(info: RequestInfo): RouteDecision {
    try {
      return this.d.table().route(info);
    } catch (e) {
      this.d.onInternalError(info.port, e);
      return { kind: 'error', status: 500, reason: `route lookup failed: ${(e as Error).message}` };
    }
  }

  private plan(decision: RouteDecision, info: RequestInfo): Plan {
    if (decision.kind === 'error') return { kind: 'local', status: decision.status, reason: decision.reason };
    if (decision.kind === 'redirect') return { kind: 'redirect', status: decision.status, location: decision.location };
    if (decision.rateLimitRps) {
      const v = this.d.limiter.take(
        decision.rateLimitKey ?? routeLabel(decision.route),
        info.clientIp,
        decision.rateLimitRps,
        decision.rateLimitBurst,
      );
      if (!v.allowed) {
        return {
          kind: 'local',
          status: 429,
          reason: `rate limit of ${decision.rateLimitRps} requests per second exceeded`,
          headers: { 'retry-after': String(v.retryAfterSeconds) },
        };
      }
    }
    const backend = pickBackend(decision.backends, this.d.random);
    if (!backend)
      return {
        kind: 'local',
        status: 503,
        reason: `no backend with a weight above 0 for ${routeLabel(decision.route)}`,
      };
    // Gateway API: an unusable backendRef keeps its share of the traffic, answered with its status (500)
    if (backend.failure) return { kind: 'local', status: backend.failure.status, reason: backend.failure.reason };
    if (!backend.address)
      return {
        kind: 'local',
        status: 503,
        reason: `Service ${backend.service} has no ClusterIP (headless): nothing to connect to`,
      };
    return { kind: 'proxy', backend, decision };
  }

  private facts(info: RequestInfo, hostHeader: string, l: Listener, rewriteHost?: string): ForwardedFacts {
    return { clientIp: info.clientIp, proto: l.tls ? 'https' : 'http', port: l.port, hostHeader, rewriteHost };
  }

  private record(
    req: IncomingMessage,
    l: Listener,
    time: Date,
    t0: number,
    info: Partial<RequestInfo>,
    route: RouteRef | undefined,
    o: Outcome,
  ): void {
    const latencyMs = performance.now() - t0;
    const m = this.d.metrics;
    const r = routeLabel(route);
    m.requests.inc({ route: r, backend: o.backend ?? '-', status_class: statusClass(o.status) });
    m.duration.observe({ route: r }, latencyMs / 1000);
    if (o.failure) m.upstreamErrors.inc({ kind: o.failure.kind, backend: o.backend ?? '-' });
    if (!this.d.onAccess) return;
    const ua = req.headers['user-agent'];
    const ref = req.headers.referer;
    try {
      this.d.onAccess({
        time,
        clientIp: info.clientIp ?? '',
        method: req.method ?? '-',
        host: info.host ?? '',
        uri: req.url ?? '',
        protocol: req.httpVersion === '1.1' ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`,
        status: o.status,
        bytes: o.bytes,
        upstream: o.upstream,
        upstreamStatus: o.upstreamStatus,
        backend: o.backend,
        route,
        latencyMs,
        userAgent: typeof ua === 'string' ? ua : '',
        referer: typeof ref === 'string' ? ref : '',
        port: l.port,
        tls: l.tls,
        reason: o.reason,
        upgraded: o.upgraded || undefined,
      });
    } catch (e) {
      this.d.onInternalError(l.port, e);
    }
  }
}
