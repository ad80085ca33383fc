import { ApiError } from './status.js';
import type { Store } from '../store/index.js';

/**
 * /livez, /readyz and /healthz as kube-apiserver serves them: "ok" (200)
 * when every check passes; otherwise 500 with one line per check —
 * `[+]ping ok`, `[-]etcd failed: reason withheld` — and `readyz check
 * failed`. `?verbose` lists the checks on success too; `/readyz/etcd` asks
 * one check. The store is a readiness check, not a liveness one: an API
 * server whose etcd is down is alive (restarting it would not help) but not
 * ready. `shutdown` fails once the server is stopping, as upstream's does.
 */
export interface HealthState {
  store: Store;
  /** set when the server has begun to stop */
  stopping: boolean;
}

/** How long the etcd check waits for the store (kube-apiserver: 2 s by default). */
export const STORE_CHECK_TIMEOUT_MS = 2_000;

type Check = { name: string; run: (h: HealthState) => Promise<void> };

const ping: Check = { name: 'ping', run: async () => {} };
const log: Check = { name: 'log', run: async () => {} };
const etcd: Check = { name: 'etcd', run: (h) => h.store.health(STORE_CHECK_TIMEOUT_MS) };
const shutdown: Check = {
  name: 'shutdown',
  run: async (h) => {
    if (h.stopping) throw new ApiError('ServiceUnavailable', 'process is shutting down');
  },
};

const ENDPOINTS: Record<string, Check[]> = {
  livez: [ping, log],
  readyz: [ping, log, etcd, shutdown],
  healthz: [ping, log, etcd],
};

/** The answer for `/livez`, `/readyz/etcd` …, or null when `path` is none of them. */
export async function health(
  path: string,
  q: URLSearchParams,
  h: HealthState,
): Promise<{ code: number; text: string } | null> {
  const m = /^\/(livez|readyz|healthz)(?:\/([^/]+))?$/.exec(path);
  if (!m) return null;
  const all = ENDPOINTS[m[1]];
  if (m[2]) {
    const one = all.find((c) => c.name === m[2]);
    if (!one) return { code: 404, text: '404 page not found\n' };
    try {
      await one.run(h);
      return { code: 200, text: 'ok' };
    } catch (e) {
      return { code: 500, text: `internal server error: ${(e as Error).message}\n` };
    }
  }
  const excluded = new Set(q.getAll('exclude'));
  const checks = all.filter((c) => !excluded.has(c.name));
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        await c.run(h);
        return `[+]${c.name} ok`;
      } catch {
        return `[-]${c.name} failed: reason withheld`;
      }
    }),
  );
  const failed = results.some((r) => r.startsWith('[-]'));
  if (!failed && !q.has('verbose')) return { code: 200, text: 'ok' };
  const lines = [...results, ...[...excluded].map((x) => `[+]${x} excluded: ok`)];
  return {
    code: failed ? 500 : 200,
    text: `${lines.join('\n')}\n${m[1]} check ${failed ? 'failed' : 'passed'}\n`,
  };
}
