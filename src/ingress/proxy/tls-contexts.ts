import { createHash } from 'node:crypto';
import tls from 'node:tls';
import type { PemPair } from '../types.js';

/**
 * SecureContexts for the PEM pairs the route table serves. Parsing a key and
 * certificate costs far more than a handshake's lookup, so a context is made
 * once per pair: found by the pair object (a compiled table hands out the
 * same object every time), else by its content (a recompiled table with the
 * same Secret). On a table swap the content cache ages by one generation:
 * pairs the new table still serves are carried over on first use, the rest
 * are dropped at the next swap. A pair that does not parse is remembered as
 * its error, so a bad Secret fails each handshake cheaply.
 */
export class SecureContextCache {
  private byPair = new WeakMap<PemPair, tls.SecureContext | Error>();
  private current = new Map<string, tls.SecureContext | Error>();
  private previous = new Map<string, tls.SecureContext | Error>();

  get(pair: PemPair): tls.SecureContext | Error {
    const hit = this.byPair.get(pair);
    if (hit) return hit;
    const key = createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('base64');
    let ctx = this.current.get(key) ?? this.previous.get(key);
    if (!ctx) {
      try {
        ctx = tls.createSecureContext({ cert: pair.cert, key: pair.key });
      } catch (e) {
        ctx = e instanceof Error ? e : new Error(String(e));
      }
    }
    this.current.set(key, ctx);
    this.byPair.set(pair, ctx);
    return ctx;
  }

  /** The table changed: start a new generation. */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
    this.byPair = new WeakMap();
  }

  get size(): number {
    return this.current.size;
  }
}
