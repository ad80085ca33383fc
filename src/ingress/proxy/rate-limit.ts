/**
 * NGINX's limit-rps as ingress-nginx configures it (`limit_req zone=… burst=B
 * nodelay`, B = rps × limit-burst-multiplier, default 5): a token bucket per
 * client IP per route key, refilled at `rps` tokens a second. It holds B + 1
 * tokens because that is what nginx admits at once: its first request
 * counts no excess, and it rejects only once the excess would pass B. So a
 * client may burst and is then held to the rate. Over it the proxy answers
 * 429 with Retry-After (the seconds until one token is back).
 *
 * Memory is bounded: past maxKeys buckets, the ones already full (a client
 * that went quiet) are forgotten, then the oldest. The clock is injected so
 * tests step time instead of sleeping.
 */
export interface RateLimiterOptions {
  burstMultiplier?: number;
  maxKeys?: number;
  /** milliseconds, monotonic */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  lastMs: number;
}

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const ALLOWED: RateVerdict = { allowed: true };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burstMultiplier: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: RateLimiterOptions = {}) {
    this.burstMultiplier = opts.burstMultiplier ?? 5;
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? (() => performance.now());
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Take one token for `clientIp` under `key` at `rps` requests a second, `burst` above it (default rps × burstMultiplier). */
  take(key: string, clientIp: string, rps: number, burst?: number): RateVerdict {
    if (!(rps > 0)) return ALLOWED;
    const capacity = Math.max(0, burst ?? rps * this.burstMultiplier) + 1;
    const id = `${key}|${clientIp}`;
    const t = this.now();
    let b = this.buckets.get(id);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evict(t);
      b = { tokens: capacity, lastMs: t };
      this.buckets.set(id, b);
    } else {
      b.tokens = Math.min(capacity, b.tokens + ((t - b.lastMs) / 1000) * rps);
      b.lastMs = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return ALLOWED;
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rps)) };
  }

  /** Drop buckets that have refilled (their client is idle), then the oldest if still full. */
  private evict(t: number): void {
    for (const [id, b] of this.buckets) {
      // a bucket untouched this long has refilled (at the default burst, whatever the rate); an
      // explicit larger burst forgotten early only lets that client start afresh
      if (t - b.lastMs >= (this.burstMultiplier + 1) * 1000) this.buckets.delete(id);
    }
    let excess = this.buckets.size - Math.floor(this.maxKeys * 0.9);
    for (const id of this.buckets.keys()) {
      if (excess-- <= 0) break;
      this.buckets.delete(id);
    }
  }
}
