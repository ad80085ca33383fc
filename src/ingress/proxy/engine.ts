/**
 * The ingress proxy engine: serves a RouteTable's listeners and carries each
 * request where table.route() says (a backend Service's ClusterIP:port, a
 * redirect, or an error with its reason).
 *
 * Libraries — each candidate looked up on npm (version, publish date,
 * engines, monthly downloads) in December 2026:
 * - undici 7 (the upstream side). Node core's own HTTP/1.1 client (fetch is
 *   built on it), kept by the Node.js project, ~216 M downloads a month,
 *   7.30.3 published days before; 7.x supports Node 20, which podwire runs on
 *   (8.x needs Node 22.19). It gives exactly the hard parts: a keep-alive
 *   pool per backend with a connection cap and queue, connect / header /
 *   body timeouts that fail with typed codes (so refused → 502 and timeouts
 *   → 504 are decided by code, not by message), streamed bodies both ways
 *   with pause/resume for backpressure, and abort of an in-flight request.
 *   Its published benchmarks put it well ahead of node:http's client, which
 *   matters for the bench's goal (≥ 0.5 of nginx's requests per second).
 * - not http-proxy-3 (~0.2 M a month, current 2.x needs Node 22; 1.23 runs on
 *   Node 20): a complete proxy around node:http's client and Agent, slower than
 *   undici, whose error and timeout reporting is one 'error' event, and which
 *   brings follow-redirects we would switch off. Its WebSocket support is the
 *   part we would take, and that part is ~100 lines (websocket.ts).
 * - not @fastify/reply-from (~0.9 M a month): a Fastify plugin on undici, it
 *   needs Fastify to own the server, where we need node:https's SNICallback,
 *   setSecureContext and the llhttp limits (maxHeaderSize, headersTimeout)
 *   under our own hand.
 * The client side stays node:http / node:https: its parser (llhttp) is the
 * strict one the bad-input cases need, and SNI is node:tls's own.
 *
 * Since `bench ingress` measured undici at ~100 µs of CPU per request on
 * the bench machine (more than the rest of the proxy), a request without a
 * body and without mirrors — nearly all of them — takes a fast path
 * instead (h1-pool.ts): pooled plain sockets to the backend, the head
 * written as one string, the response read by node's own llhttp binding
 * and relayed with the same header rules, timeouts, error kinds and
 * backpressure. undici still carries every request with a body (streamed
 * up with backpressure) and the mirrors' copies.
 *
 * No printing here: the controller gets onAccess(entry) per request and
 * onError(event) per connection-level failure, and reads `metrics`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Listener, RouteTable } from '../types.js';
import type { AccessEntry } from './access-log.js';
import { type ClientErrorReason, ListenerSet, type ServerLimits } from './listeners.js';
import { IngressMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { RequestHandler } from './request-handler.js';
import { SecureContextCache } from './tls-contexts.js';
import { UpstreamPools } from './upstream-pools.js';

export interface IngressProxyOptions {
  table: RouteTable;
  /** address the listeners bind ('0.0.0.0') */
  host?: string;
  /** the port to bind for a listener (default its own port; tests map to 0 for an ephemeral one) */
  bindPort?: (l: Listener) => number;
  /** upstream connect timeout (5 s) → 504 */
  connectTimeoutMs?: number;
  /** upstream response headers and body pauses (60 s, NGINX's proxy_read_timeout) → 504 */
  upstreamReadTimeoutMs?: number;
  upstreamKeepAliveMs?: number;
  connectionsPerBackend?: number;
  /** client side: whole headers within (10 s), whole request within (60 s) → 408 */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** request line + headers (16 KiB) → 431 */
  maxHeaderSize?: number;
  /** open client connections per listener (over it, new ones are dropped) */
  maxConnections?: number;
  timeoutCheckIntervalMs?: number;
  tlsHandshakeTimeoutMs?: number;
  /** ingress-nginx's limit-burst-multiplier (5) */
  rateLimitBurstMultiplier?: number;
  metrics?: IngressMetrics;
  onAccess?: (e: AccessEntry) => void;
  onError?: (e: EngineEvent) => void;
  /** injected for tests */
  random?: () => number;
  now?: () => number;
}

/** A connection-level failure: nothing routed, so no access entry; answered (400/408/431) or closed. */
export interface EngineEvent {
  kind: ClientErrorReason | 'internal';
  port: number;
  message: string;
}

export class IngressProxy {
  readonly metrics: IngressMetrics;
  private readonly listeners: ListenerSet;
  private readonly pools: UpstreamPools;
  private readonly contexts = new SecureContextCache();
  private readonly handler: RequestHandler;
  private current: RouteTable;
  private reconciling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: IngressProxyOptions) {
    this.current = opts.table;
    this.metrics = opts.metrics ?? new IngressMetrics();
    const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    const readTimeoutMs = opts.upstreamReadTimeoutMs ?? 60_000;
    this.pools = new UpstreamPools({
      connectTimeoutMs,
      readTimeoutMs,
      keepAliveTimeoutMs: opts.upstreamKeepAliveMs ?? 30_000,
      connectionsPerBackend: opts.connectionsPerBackend ?? 256,
      idleCloseMs: 5 * 60_000,
    });
    this.handler = new RequestHandler({
      table: () => this.current,
      pools: this.pools,
      limiter: new RateLimiter({ burstMultiplier: opts.rateLimitBurstMultiplier, now: opts.now }),
      metrics: this.metrics,
      connectTimeoutMs,
      readTimeoutMs,
      onAccess: opts.onAccess,
      onInternalError: (port, e) =>
        this.event('internal', port, e instanceof Error ? (e.stack ?? e.message) : String(e)),
      random: opts.random,
    });
    const requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    const limits: ServerLimits = {
      maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
      // node requires headers within the whole request's time
      headersTimeoutMs: Math.min(opts.headersTimeoutMs ?? 10_000, requestTimeoutMs),
      requestTimeoutMs,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 5000,
      maxConnections: opts.maxConnections ?? 10_000,
      timeoutCheckIntervalMs: opts.timeoutCheckIntervalMs ?? 1000,
      tlsHandshakeTimeoutMs: opts.tlsHandshakeTimeoutMs ?? 10_000,
      drainMs: 10_000,
    };
    this.listeners = new ListenerSet(opts.host ?? '0.0.0.0', opts.bindPort ?? ((l) => l.port), limits, {
      request: (req: IncomingMessage, res: ServerResponse, l: Listener) => this.handler.request(req, res, l),
      upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, l: Listener) =>
        this.handler.upgrade(req, socket, head, l),
      clientError: (reason, l, message) => this.event(reason, l.port, message),
      connectionOpened: (l) => this.metrics.activeConnections.inc({ port: String(l.port) }),
      connectionClosed: (l) => this.metrics.activeConnections.dec({ port: String(l.port) }),
      sni: (servername, l) => {
        const pair = this.certificate(servername, l.port);
        return pair ? this.contexts.get(pair) : undefined;
      },
      defaultCertificate: (l) => this.certificate(undefined, l.port),
    });
  }

  get table(): RouteTable {
    return this.current;
  }

  /** Bind every listener of the table. Rejects if one cannot be bound. */
  start(): Promise<void> {
    return this.reconcile();
  }

  /**
   * Swap the routes: every request routed from now on sees the new table
   * (one assignment — a request never sees half of each). Listeners are
   * then added and removed to match; the promise settles when they are.
   */
  setTable(table: RouteTable): Promise<void> {
    this.current = table;
    this.contexts.rotate();
    this.listeners.refreshDefaultCertificates();
    return this.reconcile();
  }

  /** The port a listener is bound to (differs from the listener's own when bindPort maps it). */
  boundPort(listenerPort: number): number | undefined {
    return this.listeners.boundPort(listenerPort);
  }

  /** Upstream pools now: for debugging and `podwire ingress` views. */
  poolStats(): ReturnType<UpstreamPools['stats']> {
    return this.pools.stats();
  }

  /** Stop listening, give busy connections graceMs, close upstream pools. */
  async stop(graceMs = 0): Promise<void> {
    this.stopped = true;
    await this.reconciling.catch(() => {});
    await this.listeners.close(graceMs);
    await this.pools.close();
  }

  private reconcile(): Promise<void> {
    // one reconcile at a time, each against the table current when it runs
    const next = this.reconciling
      .catch(() => {})
      .then(() => (this.stopped ? undefined : this.listeners.reconcile(this.current.listeners)));
    this.reconciling = next;
    return next;
  }

  private certificate(sni: string | undefined, port: number): ReturnType<RouteTable['certificate']> {
    try {
      return this.current.certificate(sni?.toLowerCase(), port);
    } catch (e) {
      this.event('internal', port, `certificate lookup failed: ${(e as Error).message}`);
      return undefined;
    }
  }

  private event(kind: EngineEvent['kind'], port: number, message: string): void {
    this.metrics.clientErrors.inc({ reason: kind });
    try {
      this.opts.onError?.({ kind, port, message });
    } catch {
      // a hook's failure is the hook's
    }
  }
}
