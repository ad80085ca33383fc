/**
 * client-go's rate-limited work queue in small: keys, not events. Adding a
 * key that is already waiting does nothing, so a burst of 500 pod events
 * for one Deployment becomes one sync of that Deployment. One worker per
 * queue (a key is never synced twice at once); a failed sync is retried
 * with exponential back-off per key; a sync may ask to run again later.
 */
export type SyncResult = void | { requeueAfterMs?: number };

export class WorkQueue {
  private readonly timers = new Map<string, { at: number; t: NodeJS.Timeout }>();
  private readonly ready = new Set<string>();
  private readonly failures = new Map<string, number>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly sync: (key: string) => Promise<SyncResult>,
    private readonly log: (msg: string) => void,
    private readonly debounceMs = 15,
  ) {}

  /** Sync `key` after `delayMs` (default: the debounce); an earlier pending sync wins. */
  add(key: string, delayMs = this.debounceMs): void {
    if (this.stopped) return;
    if (this.ready.has(key)) return;
    const at = Date.now() + delayMs;
    const cur = this.timers.get(key);
    if (cur && cur.at <= at) return;
    if (cur) clearTimeout(cur.t);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.ready.add(key);
      void this.run();
    }, delayMs);
    t.unref?.();
    this.timers.set(key, { at, t });
  }

  stop(): void {
    this.stopped = true;
    for (const { t } of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.ready.clear();
  }

  /** Resolves when nothing is queued, waiting or running (tests). */
  idle(): Promise<void> {
    if (!this.running && !this.ready.size && !this.timers.size) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.ready.size && !this.stopped) {
        const key = this.ready.values().next().value!;
        this.ready.delete(key);
        let again: number | undefined;
        try {
          const r = await this.sync(key);
          this.failures.delete(key);
          again = r && typeof r === 'object' ? r.requeueAfterMs : undefined;
        } catch (e) {
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          again = Math.min(20 * 2 ** (n - 1), 5000);
          const conflict = (e as { status?: number }).status === 409;
          // A Conflict is routine (someone wrote first): retried quietly unless it persists.
          if (!conflict || n > 3) this.log(`${this.name} ${key}: ${(e as Error).message} (retry ${n} in ${again} ms)`);
        }
        if (again !== undefined) this.add(key, again);
      }
    } finally {
      this.running = false;
      if (!this.ready.size && !this.timers.size) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
