import { LabError } from './errors.js';
/** Wait for a condition with a deadline (no sleeps for synchronisation: poll a condition). */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastErr = undefined;
    } catch (err) {
      lastErr = err;
      // A check that throws with a diagnosis (agent exited) ends the wait at once.
      if ((err as Error).message?.includes('exited')) throw err;
    }
    if (Date.now() > deadline) {
      throw new LabError(
        'ERR_TIMEOUT',
        `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
