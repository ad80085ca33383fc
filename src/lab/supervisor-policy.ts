/**
 * When the lab's supervisor restarts what died (pure; src/lab/supervisor.ts
 * does the restarting). As systemd's Restart=always with a growing delay,
 * or the kubelet's CrashLoopBackOff: the first restart at once, then 1 s,
 * 2 s, 4 s … at most 30 s between attempts; a component that has stayed up
 * for a minute starts over at the first step.
 */

export const BACKOFF_FIRST_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** up this long and a component's restart count for the back-off starts over */
export const BACKOFF_RESET_AFTER_MS = 60_000;

export interface ComponentRecord {
  /** restarts in a row (reset after BACKOFF_RESET_AFTER_MS up) */
  failures: number;
  /** when the supervisor last started it (ms); 0 if never */
  startedAtMs: number;
  /** when it was first seen dead since it last ran; null while alive */
  deadSinceMs: number | null;
  /** every restart the supervisor made, for `lab status` */
  restarts: number;
}

export const freshRecord = (): ComponentRecord => ({ failures: 0, startedAtMs: 0, deadSinceMs: null, restarts: 0 });

/** The wait before restart number `failures` + 1 in a row: 0, 1 s, 2 s, 4 s … 30 s. */
export function backoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_FIRST_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
}

export type Decision =
  { action: 'none' } | { action: 'wait'; untilMs: number } | { action: 'restart'; failures: number; delayMs: number };

/**
 * One look at one component. `alive`: its process runs; `held`: a `lab break`
 * stopped it on purpose (left down until `lab fix`). Mutates `rec` to remember
 * when it died; the caller records a restart with `restarted()`.
 */
export function decide(rec: ComponentRecord, now: number, alive: boolean, held: boolean): Decision {
  if (alive) {
    rec.deadSinceMs = null;
    if (rec.failures > 0 && now - rec.startedAtMs >= BACKOFF_RESET_AFTER_MS) rec.failures = 0;
    return { action: 'none' };
  }
  if (held) {
    rec.deadSinceMs = null;
    return { action: 'none' };
  }
  if (rec.deadSinceMs === null) rec.deadSinceMs = now;
  // a component that stayed up long enough starts its back-off over
  const failures = rec.deadSinceMs - rec.startedAtMs >= BACKOFF_RESET_AFTER_MS ? 0 : rec.failures;
  const delayMs = backoffMs(failures);
  const due = rec.deadSinceMs + delayMs;
  if (now < due) return { action: 'wait', untilMs: due };
  return { action: 'restart', failures, delayMs };
}

/** The supervisor restarted it at `now`. */
export function restarted(rec: ComponentRecord, now: number, failuresBefore: number): void {
  rec.failures = failuresBefore + 1;
  rec.startedAtMs = now;
  rec.deadSinceMs = null;
  rec.restarts++;
}
