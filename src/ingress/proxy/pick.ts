import type { BackendTarget } from '../types.js';

/**
 * Weighted choice among a route's backends (Gateway API backendRefs weights:
 * the article's 90/10 canary). Each request is an independent draw, so over
 * N requests the split is binomial around the weights — what the canary test
 * checks with statistical bounds. Math.random is enough: the spread matters,
 * not unpredictability. A weight of 0 (or below) is never chosen.
 */
export function pickBackend(
  backends: readonly BackendTarget[],
  random: () => number = Math.random,
): BackendTarget | undefined {
  if (backends.length === 1) return backends[0].weight > 0 ? backends[0] : undefined;
  let total = 0;
  for (const b of backends) if (b.weight > 0) total += b.weight;
  if (total <= 0) return undefined;
  let r = random() * total;
  let last: BackendTarget | undefined;
  for (const b of backends) {
    if (b.weight <= 0) continue;
    if (r < b.weight) return b;
    r -= b.weight;
    last = b;
  }
  return last; // r landed on the rounding edge of the last positive weight
}
