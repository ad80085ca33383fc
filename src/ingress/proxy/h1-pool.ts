import { createRequire } from 'node:module';
import net from 'node:net';
import { ConnectTimeoutError, ResponseTimeoutError } from './upstream-errors.js';

/**
 * The upstream side of the proxy's fast path: a keep-alive pool of plain
 * TCP connections to one backend (a Service's ClusterIP:port), each with
 * Node's own HTTP parser — llhttp, compiled into node, the parser
 * node:http's client uses — reading the responses. A request is written as
 * one latin1 string (its head; the fast path carries no request body) and
 * the response arrives as callbacks: its status and raw header list, then
 * body chunks, then the end.
 *
 * Why not undici here (it still carries every request with a body, and
 * mirrors): under the bench's load its dispatch machinery and its
 * WebAssembly llhttp cost ~100 µs of CPU per request on the bench machine,
 * more than everything else the proxy does (`bench ingress`, README). This
 * pool does the same job for the common request in a fraction of that.
 *
 * What undici gave that this keeps: a connection cap per backend with a
 * queue, a connect timeout and a read timeout (to the response headers, and
 * the longest pause between body chunks while the client keeps reading)
 * that fail with the codes classifyUpstreamError knows, keep-alive as the
 * response allows it (Connection: close, HTTP/1.0), idle connections closed
 * after keepAliveTimeoutMs or when the backend closes them, and abort of a
 * request queued or in flight. A request that meets a reused connection
 * already closed by the backend (the race every keep-alive client has) is
 * sent once more on a new connection when nothing of a response came back
 * and the method is safe to repeat, as NGINX's proxy_next_upstream does.
 */

interface ParserCtor {
  new (): Parser;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}
interface Parser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(data: Buffer): number | Error;
  finish(): undefined | Error;
  close(): void;
  free(): void;
  [k: number]: unknown;
}
// node's own binding to llhttp, as node:http's client and server use it (lib/_http_common.js)
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: ParserCtor };

/** What one request hears back. */
export interface H1Exchange {
  /** the request line and headers, CRLF-terminated, blank line included */
  head: string;
  /** HEAD: the response has no body whatever its headers say */
  noResponseBody: boolean;
  /** may be sent again on a new connection when a reused one turns out closed */
  retryable: boolean;
  onHeaders(status: number, statusMessage: string, rawHeaders: string[]): void;
  /** false: the client is full; the connection is paused until resume() */
  onData(chunk: Buffer): boolean;
  /** everything one read brought has been handed over (onData may hold a chunk back until now); false: pause */
  onReadDone(): boolean;
  onEnd(): void;
  onError(err: Error): void;
}

export interface H1PoolOptions {
  host: string;
  port: number;
  connections: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** The backend closed the connection before a complete response. */
export class UpstreamClosedError extends Error {
  readonly code = 'EUPSTREAM_CLOSED';
  constructor() {
    super('upstream closed the connection before a complete response');
  }
}

/** A response the proxy cannot relay on this path (101 to a plain request). */
class UnexpectedResponseError extends Error {
  readonly code = 'UND_ERR_INFO';
}

/** The handle a caller keeps to pause, resume or abort its request. */
export interface H1Handle {
  resume(): void;
  abort(): void;
}

class Connection {
  readonly socket: net.Socket;
  private readonly parser: Parser;
  ex: H1Exchange | null = null;
  /** requests this connection has carried (a reused one may meet a close the backend sent meanwhile) */
  uses = 0;
  connected = false;
  private headers: string[] = [];
  private informational = false;
  private keepAlive = true;
  private gotResponseBytes = false;
  private paused = false;
  private lastIoMs = 0;
  private timer: NodeJS.Timeout;
  dead = false;
  private executing = false;

  constructor(private readonly pool: H1Pool) {
    const o = pool.opts;
    this.socket = net.connect({ host: o.host, port: o.port, noDelay: true });
    this.parser = new HTTPParser();
    this.parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    this.parser[HTTPParser.kOnHeaders] = (h: string[]) => {
      for (const x of h) this.headers.push(x);
    };
    this.parser[HTTPParser.kOnHeadersComplete] = (
      _maj: number,
      _min: number,
      headers: string[] | undefined,
      _method: unknown,
      _url: unknown,
      status: number,
      statusMessage: string,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => this.onHeaders(headers, status, statusMessage, upgrade, keepAlive);
    this.parser[HTTPParser.kOnBody] = (b: Buffer) => this.onBody(b);
    this.parser[HTTPParser.kOnMessageComplete] = () => this.onComplete();
    this.socket.on('connect', () => {
      this.connected = true;
      this.lastIoMs = performance.now();
    });
    this.socket.on('data', (d: Buffer) => this.onSocketData(d));
    this.socket.on('end', () => this.onSocketEnd());
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new UpstreamClosedError()));
    this.timer = setTimeout(() => this.onTimer(), Math.min(o.connectTimeoutMs, o.readTimeoutMs));
    this.timer.unref();
    this.lastIoMs = performance.now();
  }

  start(ex: H1Exchange): void {
    this.ex = ex;
    this.uses++;
    this.headers = [];
    this.gotResponseBytes = false;
    this.keepAlive = true;
    this.informational = false;
    this.lastIoMs = performance.now();
    this.timer.refresh();
    this.socket.write(ex.head, 'latin1');
  }

  resume(): void {
    if (!this.paused || this.dead) return;
    this.paused = false;
    this.lastIoMs = performance.now();
    this.timer.refresh();
    this.socket.resume();
  }

  /** The caller gave up (the client left): the connection is mid-exchange, so it cannot be reused. */
  abort(): void {
    this.ex = null;
    this.destroy();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.timer);
    this.socket.destroy();
    // never while llhttp is inside execute() (a callback failing the connection): it would free the parser under itself
    if (!this.executing) this.parser.close();
    this.pool.removed(this);
  }

  private onSocketData(d: Buffer): void {
    if (!this.ex) {
      // bytes from an idle backend: nothing to parse them for, the connection is not reusable
      this.destroy();
      return;
    }
    this.gotResponseBytes = true;
    this.lastIoMs = performance.now();
    this.executing = true;
    const r = this.parser.execute(d);
    this.executing = false;
    if (this.dead) this.parser.close();
    else if (r instanceof Error) this.fail(r);
    else if (this.ex && !this.ex.onReadDone() && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private onSocketEnd(): void {
    if (this.ex && !this.dead) {
      // a response delimited by the close ends here; anything else was cut short
      this.executing = true;
      const r = this.parser.finish();
      this.executing = false;
      if (this.dead) this.parser.close();
      else if (r instanceof Error) this.fail(r);
    }
    this.fail(new UpstreamClosedError());
  }

  private onHeaders(
    headers: string[] | undefined,
    status: number,
    statusMessage: string,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    const ex = this.ex;
    if (!ex) return 1;
    const all = headers ? (this.headers.length ? this.headers.concat(headers) : headers) : this.headers;
    this.headers = [];
    if (status < 200 && status !== 101) {
      // 1xx (103 Early Hints …): the final answer follows on the same message stream
      this.informational = true;
      return 1;
    }
    if (upgrade || status === 101) {
      this.fail(new UnexpectedResponseError(`${status} to a request that asked for no upgrade`));
      return 1;
    }
    this.keepAlive = keepAlive;
    ex.onHeaders(status, statusMessage, all);
    return ex.noResponseBody ? 1 : 0;
  }

  private onBody(b: Buffer): void {
    const ex = this.ex;
    if (!ex) return;
    if (!ex.onData(b) && !this.paused && !this.dead) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private onComplete(): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    const ex = this.ex;
    if (!ex) return;
    this.ex = null;
    this.paused = false;
    this.pool.forget(ex);
    if (this.keepAlive && !this.dead) this.pool.released(this);
    else this.destroy();
    ex.onEnd();
  }

  private onTimer(): void {
    if (this.dead) return;
    const o = this.pool.opts;
    const now = performance.now();
    if (!this.connected) {
      if (now - this.lastIoMs >= o.connectTimeoutMs) return this.fail(new ConnectTimeoutError(o.connectTimeoutMs));
      return void this.rearm(o.connectTimeoutMs - (now - this.lastIoMs));
    }
    if (!this.ex) {
      if (now - this.lastIoMs >= o.keepAliveTimeoutMs) return this.destroy();
      return void this.rearm(o.keepAliveTimeoutMs - (now - this.lastIoMs));
    }
    if (this.paused) return void this.rearm(o.readTimeoutMs); // the client is slow, not the backend
    if (now - this.lastIoMs >= o.readTimeoutMs) return this.fail(new ResponseTimeoutError(o.readTimeoutMs));
    this.rearm(o.readTimeoutMs - (now - this.lastIoMs));
  }

  private rearm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, ms));
    this.timer.unref();
  }

  /** Idle from now on: the timer counts toward keepAliveTimeoutMs. */
  idled(): void {
    this.lastIoMs = performance.now();
    this.timer.refresh();
  }

  private fail(err: Error): void {
    const ex = this.ex;
    this.ex = null;
    const reused = this.uses > 1;
    const gotBytes = this.gotResponseBytes;
    this.destroy();
    if (!ex) return;
    if (reused && !gotBytes && ex.retryable && !(err instanceof ResponseTimeoutError)) {
      ex.retryable = false;
      this.pool.retry(ex);
      return;
    }
    this.pool.forget(ex);
    ex.onError(err);
  }
}

export class H1Pool {
  private readonly idle: Connection[] = [];
  private readonly busy = new Set<Connection>();
  private readonly queue: H1Exchange[] = [];
  /** the connection each exchange in flight is on */
  private readonly on = new Map<H1Exchange, Connection>();
  private closed = false;

  constructor(readonly opts: H1PoolOptions) {}

  /** Send one request; its callbacks say the rest. */
  request(ex: H1Exchange): H1Handle {
    if (this.closed) queueMicrotask(() => ex.onError(new UpstreamClosedError()));
    else {
      let c: Connection | undefined;
      while ((c = this.idle.pop()) && c.dead);
      if (c) this.start(c, ex);
      else if (this.busy.size < this.opts.connections) this.start(new Connection(this), ex);
      else this.queue.push(ex);
    }
    return {
      resume: () => this.on.get(ex)?.resume(),
      abort: () => this.abort(ex),
    };
  }

  private start(c: Connection, ex: H1Exchange): void {
    this.busy.add(c);
    this.on.set(ex, c);
    c.start(ex);
  }

  private abort(ex: H1Exchange): void {
    const i = this.queue.indexOf(ex);
    if (i >= 0) this.queue.splice(i, 1);
    const c = this.on.get(ex);
    this.on.delete(ex);
    if (c && c.ex === ex) c.abort();
  }

  /** The exchange is over (answered or failed): its connection is no longer its. */
  forget(ex: H1Exchange): void {
    this.on.delete(ex);
  }

  /** A new connection for an exchange whose reused one was closed under it. */
  retry(ex: H1Exchange): void {
    this.on.delete(ex);
    if (this.closed) return ex.onError(new UpstreamClosedError());
    this.start(new Connection(this), ex);
  }

  /** A connection finished its exchange and may carry another. */
  released(c: Connection): void {
    this.busy.delete(c);
    const next = this.queue.shift();
    if (next) return this.start(c, next);
    if (this.closed) return c.destroy();
    c.idled();
    this.idle.push(c);
  }

  removed(c: Connection): void {
    this.busy.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    // a slot is free: a queued request gets a new connection
    if (this.queue.length && !this.closed && this.busy.size < this.opts.connections)
      this.start(new Connection(this), this.queue.shift()!);
  }

  get stats(): { connected: number; free: number; pending: number; running: number } {
    return {
      connected: this.idle.length + this.busy.size,
      free: this.idle.length,
      pending: this.queue.length,
      running: this.on.size,
    };
  }

  close(): void {
    this.closed = true;
    for (const ex of this.queue.splice(0)) ex.onError(new UpstreamClosedError());
    for (const c of [...this.idle, ...this.busy]) c.destroy();
  }
}
