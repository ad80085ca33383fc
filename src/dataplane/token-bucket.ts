/** A token bucket with an injected clock (ms): ICMP error rate limiting, like Linux's icmp_ratelimit. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: () => number,
  ) {
    this.tokens = burst;
    this.lastMs = clock();
  }
  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
