import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HeaderChanges } from '../types.js';
import type { H1Exchange, H1Handle, H1Pool } from './h1-pool.js';
import { downstreamRawHeaders, downstreamResponseHeaders, type HeaderMap } from './headers.js';
import { sendLocal } from './responses.js';
import { classifyUpstreamError, type UpstreamFailure } from './upstream-errors.js';

/**
 * One request forwarded to one backend through undici's low-level dispatch:
 * the response's chunks are written to the client as they come and the
 * upstream is paused when the client's socket is full (res.write() false →
 * controller.pause(), 'drain' → resume), so a fast backend and a slow client
 * (or an upstream that streams forever) hold a bounded amount of memory.
 * The request body is the client's stream itself; undici reads it as the
 * upstream socket accepts it. A client that goes away aborts the upstream
 * request, even while it waits in the pool's queue.
 */
export interface ForwardRequest {
  req: IncomingMessage;
  res: ServerResponse;
  pool: Dispatcher;
  method: string;
  path: string;
  headers: HeaderMap;
  /** the request body to send (the client's stream, or a copy when mirroring); null when none */
  body: Readable | null;
  /** 'ip:port' for reasons and logs */
  upstream: string;
  responseHeaders?: HeaderChanges;
}

export interface ForwardResult {
  /** what the client got (499: it went away first) */
  status: number;
  bytes: number;
  upstreamStatus?: number;
  failure?: UpstreamFailure;
}

class ClientGoneError extends Error {
  readonly code = 'ECLIENT_GONE';
  constructor() {
    super('client closed the connection');
  }
}

/** Does the client's request carry a body (RFC 9112 §6.3)? */
export function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

export function forward(f: ForwardRequest, done: (r: ForwardResult) => void): void {
  const { res } = f;
  let controller: Dispatcher.DispatchController | undefined;
  let clientGone = false;
  let finished = false;
  let bytes = 0;
  let upstreamStatus: number | undefined;
  let waitingDrain = false;

  const finish = (r: ForwardResult): void => {
    if (finished) return;
    finished = true;
    res.off('close', onClose);
    done(r);
  };
  const onClose = (): void => {
    if (res.writableFinished) return;
    clientGone = true;
    if (controller && !controller.aborted) controller.abort(new ClientGoneError());
  };
  const onDrain = (): void => {
    waitingDrain = false;
    controller?.resume();
  };
  res.on('close', onClose);

  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
      if (clientGone) c.abort(new ClientGoneError());
    },
    onResponseStart(c, statusCode, headers, statusMessage) {
      if (statusCode < 200) return; // 1xx: node's server already sent its own 100 Continue
      upstreamStatus = statusCode;
      try {
        res.writeHead(statusCode, statusMessage || undefined, downstreamResponseHeaders(headers, f.responseHeaders));
      } catch (e) {
        // headers node refuses to send (invalid characters): the backend's answer is unusable
        c.abort(Object.assign(new Error(`invalid response header: ${(e as Error).message}`), { code: 'UND_ERR_INFO' }));
      }
    },
    onResponseData(c, chunk) {
      bytes += chunk.length;
      if (!res.write(chunk) && !waitingDrain) {
        waitingDrain = true;
        c.pause();
        res.once('drain', onDrain);
      }
    },
    onResponseEnd() {
      res.end();
      finish({ status: upstreamStatus ?? 502, bytes, upstreamStatus });
    },
    onResponseError(_c, err) {
      res.off('drain', onDrain);
      if (clientGone || (err as { code?: string }).code === 'ECLIENT_GONE') {
        finish({ status: 499, bytes, upstreamStatus });
        return;
      }
      const failure = classifyUpstreamError(err, f.upstream);
      if (!res.headersSent) {
        const n = sendLocal(res, failure.status, failure.reason);
        finish({ status: failure.status, bytes: n, upstreamStatus, failure });
      } else {
        // mid-body: the status is out; only cutting the connection tells the client
        res.destroy();
        finish({ status: upstreamStatus ?? failure.status, bytes, upstreamStatus, failure });
      }
    },
  };

  try {
    f.pool.dispatch(
      { path: f.path, method: f.method as Dispatcher.HttpMethod, headers: f.headers, body: f.body },
      handler,
    );
  } catch (e) {
    // invalid arguments (a header undici refuses): answered as a bad gateway, never thrown
    const failure: UpstreamFailure = {
      kind: 'protocol',
      status: 502,
      reason: `cannot send the request to ${f.upstream}: ${(e as Error).message}`,
    };
    finish({ status: failure.status, bytes: sendLocal(res, failure.status, failure.reason), failure });
  }
}

/** One bodyless request on the fast path (h1-pool.ts): the same contract as forward(), without undici. */
export interface ForwardH1Request {
  res: ServerResponse;
  pool: H1Pool;
  /** the request head as h1-pool sends it (requestHead()) */
  head: string;
  method: string;
  upstream: string;
  responseHeaders?: HeaderChanges;
}

export function forwardH1(f: ForwardH1Request, done: (r: ForwardResult) => void): void {
  const { res } = f;
  let finished = false;
  let bytes = 0;
  let upstreamStatus: number | undefined;
  let waitingDrain = false;
  let handle: H1Handle | undefined;
  let held: Buffer | undefined;
  const write = (chunk: Buffer): boolean => {
    if (res.write(chunk) || waitingDrain) return !waitingDrain;
    waitingDrain = true;
    res.once('drain', onDrain);
    return false;
  };

  const finish = (r: ForwardResult): void => {
    if (finished) return;
    finished = true;
    res.off('close', onClose);
    done(r);
  };
  const onClose = (): void => {
    if (res.writableFinished || finished) return;
    handle?.abort();
    finish({ status: 499, bytes, upstreamStatus });
  };
  const onDrain = (): void => {
    waitingDrain = false;
    handle?.resume();
  };
  res.on('close', onClose);

  const ex: H1Exchange = {
    head: f.head,
    noResponseBody: f.method === 'HEAD',
    retryable: f.method === 'GET' || f.method === 'HEAD' || f.method === 'OPTIONS',
    onHeaders(status, statusMessage, raw) {
      upstreamStatus = status;
      try {
        res.writeHead(status, statusMessage || undefined, downstreamRawHeaders(raw, f.responseHeaders));
      } catch (e) {
        // headers node refuses to send (invalid characters): the backend's answer is unusable
        handle?.abort();
        const failure: UpstreamFailure = {
          kind: 'protocol',
          status: 502,
          reason: `invalid HTTP response from ${f.upstream}`,
        };
        void e;
        finish({ status: 502, bytes: sendLocal(res, 502, failure.reason), upstreamStatus, failure });
      }
    },
    // A chunk is held until the read that brought it is parsed: when the response ends in the
    // same read (the usual small answer), head, body and end leave in one write with res.end(chunk).
    onData(chunk) {
      if (finished) return true;
      bytes += chunk.length;
      const ok = held ? write(held) : true;
      held = chunk;
      return ok;
    },
    onReadDone() {
      if (!held || finished) return true;
      const chunk = held;
      held = undefined;
      return write(chunk);
    },
    onEnd() {
      if (finished) return;
      const chunk = held;
      held = undefined;
      if (chunk) res.end(chunk);
      else res.end();
      finish({ status: upstreamStatus ?? 502, bytes, upstreamStatus });
    },
    onError(err) {
      res.off('drain', onDrain);
      if (finished) return;
      const failure = classifyUpstreamError(err, f.upstream);
      if (!res.headersSent) {
        finish({
          status: failure.status,
          bytes: sendLocal(res, failure.status, failure.reason),
          upstreamStatus,
          failure,
        });
      } else {
        // mid-body: the status is out; only cutting the connection tells the client
        res.destroy();
        finish({ status: upstreamStatus ?? failure.status, bytes, upstreamStatus, failure });
      }
    },
  };
  handle = f.pool.request(ex);
}
