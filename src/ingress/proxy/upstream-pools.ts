import { Pool } from 'undici';
import { H1Pool } from './h1-pool.js';

/**
 * A keep-alive connection pool per backend address (a Service's
 * ClusterIP:port), as NGINX keeps an upstream keepalive pool. Connections to
 * a ClusterIP are ordinary pod traffic: the node's agent load-balances each
 * new connection to one of the Service's endpoints, so a pool of several
 * connections spreads over the pods while each connection stays put.
 *
 * Two pools per backend: h1-pool.ts's for requests without a body (the
 * proxy's fast path) and undici's for the rest (streamed bodies, mirrors).
 *
 * Pools no request has used for idleCloseMs are closed by a sweep (a Service
 * deleted or re-addressed leaves nothing behind).
 */
export interface UpstreamPoolOptions {
  connectTimeoutMs: number;
  /** time to the response headers, and the longest pause between body chunks (NGINX's proxy_read_timeout) */
  readTimeoutMs: number;
  /** idle upstream connections are closed after this (NGINX: upstream keepalive_timeout 60 s; shorter than most backends' own) */
  keepAliveTimeoutMs: number;
  /** connections per backend address; more requests queue */
  connectionsPerBackend: number;
  idleCloseMs: number;
  now?: () => number;
}

interface Entry {
  pool: Pool;
  lastUsedMs: number;
}

interface H1Entry {
  pool: H1Pool;
  lastUsedMs: number;
}

export interface PoolStats {
  origin: string;
  connected: number;
  free: number;
  pending: number;
  running: number;
}

export function originOf(address: string, port: number): string {
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Entry>();
  private readonly h1s = new Map<string, H1Entry>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: UpstreamPoolOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(opts.idleCloseMs, 60_000)));
    this.sweeper.unref();
  }

  get(address: string, port: number): Pool {
    const origin = originOf(address, port);
    let e = this.pools.get(origin);
    if (!e || this.closed) {
      const pool = new Pool(origin, {
        connections: this.opts.connectionsPerBackend,
        connectTimeout: this.opts.connectTimeoutMs,
        headersTimeout: this.opts.readTimeoutMs,
        bodyTimeout: this.opts.readTimeoutMs,
        keepAliveTimeout: this.opts.keepAliveTimeoutMs,
        keepAliveMaxTimeout: this.opts.keepAliveTimeoutMs,
        pipelining: 1,
      });
      // a pool's own errors (a connection failing while idle) are not any request's
      pool.on('connectionError', () => {});
      e = { pool, lastUsedMs: 0 };
      if (!this.closed) this.pools.set(origin, e);
    }
    e.lastUsedMs = this.now();
    return e.pool;
  }

  /** The fast path's pool for a backend (keyed like get()'s, without building the origin string). */
  h1(address: string, port: number): H1Pool {
    const key = `${address}\0${port}`;
    let e = this.h1s.get(key);
    if (!e || this.closed) {
      const pool = new H1Pool({
        host: address,
        port,
        connections: this.opts.connectionsPerBackend,
        connectTimeoutMs: this.opts.connectTimeoutMs,
        readTimeoutMs: this.opts.readTimeoutMs,
        keepAliveTimeoutMs: this.opts.keepAliveTimeoutMs,
      });
      e = { pool, lastUsedMs: 0 };
      if (!this.closed) this.h1s.set(key, e);
      else pool.close();
    }
    e.lastUsedMs = this.now();
    return e.pool;
  }

  /** Close pools idle past idleCloseMs with nothing in flight. */
  sweep(): number {
    const t = this.now();
    let n = 0;
    for (const [origin, e] of this.pools) {
      const s = e.pool.stats;
      if (t - e.lastUsedMs >= this.opts.idleCloseMs && s.pending === 0 && s.running === 0) {
        this.pools.delete(origin);
        e.pool.close().catch(() => {});
        n++;
      }
    }
    for (const [key, e] of this.h1s) {
      const s = e.pool.stats;
      if (t - e.lastUsedMs >= this.opts.idleCloseMs && s.pending === 0 && s.running === 0) {
        this.h1s.delete(key);
        e.pool.close();
        n++;
      }
    }
    return n;
  }

  /** Per backend, both pools added up. */
  stats(): PoolStats[] {
    const by = new Map<string, PoolStats>();
    const add = (origin: string, s: Omit<PoolStats, 'origin'>) => {
      const o = by.get(origin) ?? { origin, connected: 0, free: 0, pending: 0, running: 0 };
      o.connected += s.connected;
      o.free += s.free;
      o.pending += s.pending;
      o.running += s.running;
      by.set(origin, o);
    };
    for (const [origin, e] of this.pools) add(origin, e.pool.stats);
    for (const e of this.h1s.values()) add(originOf(e.pool.opts.host, e.pool.opts.port), e.pool.stats);
    return [...by.values()];
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const all = [...this.pools.values()];
    this.pools.clear();
    for (const e of this.h1s.values()) e.pool.close();
    this.h1s.clear();
    await Promise.all(all.map((e) => e.pool.destroy().catch(() => {})));
  }
}
