import type http from 'node:http';
import { ApiError, errors } from './status.js';

/**
 * What the API server refuses before it looks at a request's meaning, as
 * kube-apiserver does:
 * - a body over 3 MiB (generic apiserver's MaxRequestBodyBytes, 3145728):
 *   413 RequestEntityTooLarge "Request entity too large: limit is 3145728";
 * - a JSON patch of more than 10,000 operations: 413 as well;
 * - nesting deeper than MAX_DEPTH: 400. (Go's decoder stops at 10,000 levels;
 *   no kind podwire serves goes past ~20, and Node's own structuredClone and
 *   JSON.stringify overflow the stack near 5,000, so podwire stops much
 *   earlier, before any recursive walker — validation, merges, defaults,
 *   printers — sees the body.)
 * The stored object's own limit (1.5 MiB, etcd's) is the store's.
 */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
export const MAX_JSON_PATCH_OPS = 10_000;
export const MAX_DEPTH = 100;

/**
 * Past this, a body is not even read to its end: the connection is cut.
 * (Up to it, the rest of an over-limit body is read and dropped before the
 * 413 goes out, so a client still writing — kubectl — reads the answer
 * instead of a broken pipe.)
 */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/** The request body as JSON (undefined when empty), within the limits above. */
export function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_DRAIN_BYTES) {
        req.destroy();
        return reject(errors.tooLarge(`limit is ${MAX_BODY_BYTES}`));
      }
      if (over || size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return reject(errors.tooLarge(`limit is ${MAX_BODY_BYTES}`));
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve(undefined);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        return reject(new ApiError('BadRequest', `the request body is not valid JSON: ${(e as Error).message}`));
      }
      try {
        checkDepth(body);
      } catch (e) {
        return reject(e);
      }
      resolve(body);
    });
    req.on('error', reject);
  });
}

/** How deep a JSON value nests (a scalar is 0, `{}` and `[]` are 1), without recursion. */
export function depthOf(value: unknown, stopAt = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, d + 1]);
  }
  return max;
}

/** 400 when `value` nests deeper than MAX_DEPTH. */
export function checkDepth(value: unknown, what = 'the request body'): void {
  if (depthOf(value, MAX_DEPTH) > MAX_DEPTH)
    throw errors.badRequest(
      `${what} nests more than ${MAX_DEPTH} levels deep (podwire's limit; no kind it serves needs it)`,
    );
}

/** 413 for a JSON patch with more operations than kube-apiserver takes. */
export function checkJsonPatchSize(body: unknown): void {
  if (Array.isArray(body) && body.length > MAX_JSON_PATCH_OPS)
    throw errors.tooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPS}, got ${body.length}`,
    );
}

const B64 = /[A-Za-z0-9+/]/;

/**
 * Where Go's base64.StdEncoding.DecodeString fails on `s` (the byte offset
 * it reports: "illegal base64 data at input byte N"), or -1 when it decodes.
 * A Secret's `data` values are []byte in Kubernetes, so a value that is not
 * padded standard base64 fails the decoding of the whole request.
 * (Go skips \r and \n anywhere.)
 */
export function base64ErrorOffset(s: string): number {
  let i = 0;
  const skipNewlines = () => {
    while (i < s.length && (s[i] === '\n' || s[i] === '\r')) i++;
  };
  for (;;) {
    let j = 0;
    for (; j < 4; j++) {
      skipNewlines();
      if (i === s.length) {
        if (j === 0) return -1;
        return i - j; // an incomplete quantum: Go's padded decoder reports where it began
      }
      const c = s[i++];
      if (B64.test(c)) continue;
      if (c !== '=') return i - 1;
      // padding: only in the third or fourth place
      if (j < 2) return i - 1;
      if (j === 2) {
        skipNewlines();
        if (i === s.length) return s.length;
        if (s[i] !== '=') return i - 1;
        i++;
      }
      skipNewlines();
      return i < s.length ? i : -1;
    }
  }
}
