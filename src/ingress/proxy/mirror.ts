import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HeaderMap } from './headers.js';

/**
 * Gateway API RequestMirror: a copy of the request goes to each mirror
 * backend, its answer read and thrown away. The main request must never
 * wait for a mirror, so a request body is split like this: the main copy is
 * piped (backpressure from the main upstream pauses the client as usual),
 * the mirror copy gets each chunk only while it keeps up — a mirror whose
 * buffer fills is abandoned, not waited for.
 */
export type MirrorResult = 'answered' | 'failed' | 'abandoned';

export interface MirrorTarget {
  pool: Dispatcher;
}

const MIRROR_BUFFER_BYTES = 256 * 1024;
const abandoned = new WeakSet<Readable>();

/** The body for the main request when mirrors also need one: a piped copy of the client's stream. */
export function splitBody(req: IncomingMessage, mirrors: number): { main: Readable; copies: Readable[] } {
  const main = new PassThrough();
  const copies = Array.from({ length: mirrors }, () => new PassThrough({ highWaterMark: MIRROR_BUFFER_BYTES }));
  // a copy is destroyed when abandoned, maybe before undici has attached to it: never an unhandled 'error'
  for (const c of [main, ...copies]) c.on('error', () => {});
  const live = new Set(copies);
  req.on('data', (chunk: Buffer) => {
    for (const c of live) {
      if (!c.write(chunk)) {
        live.delete(c);
        abandoned.add(c);
        c.destroy(new Error('mirror too slow: abandoned'));
      }
    }
  });
  req.on('end', () => {
    for (const c of live) c.end();
  });
  req.on('error', (e) => {
    for (const c of live) c.destroy(e);
  });
  req.pipe(main);
  return { main, copies };
}

export function sendMirror(
  target: MirrorTarget,
  method: string,
  path: string,
  headers: HeaderMap,
  body: Readable | null,
  onResult: (r: MirrorResult) => void,
): void {
  target.pool.request({ method: method as Dispatcher.HttpMethod, path, headers, body }).then(
    (r) => {
      r.body.on('error', () => {});
      r.body.resume(); // read and discard: the answer is ignored, the connection reused
      onResult('answered');
    },
    () => onResult(body && abandoned.has(body) ? 'abandoned' : 'failed'),
  );
}
