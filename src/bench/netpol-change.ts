import path from 'node:path';
import { BenchError } from './errors.js';
import { execProcess, packagePath } from '../host/index.js';

/**
 * Time from a NetworkPolicy change to its enforcement on the wire, on
 * every node: netpol-probe.c runs in a client pod's namespace and opens
 * new connections to a pod on each node every few milliseconds; once it
 * has seen the state before the change it says "ready", we write the
 * change through the API server, and it reports for each target when the
 * first probe of a settled run of the new outcome started. The change's
 * time is the slowest target's (every agent enforces it), measured from
 * just before the API write.
 */
const PROBE_SOURCE = packagePath('src', 'bench', 'netpol-probe.c');

/** Compiles netpol-probe.c into `dir`; returns the binary's path. */
export async function buildProbe(dir: string): Promise<string> {
  const bin = path.join(dir, 'netpol-probe');
  await execProcess(['cc', '-O2', '-Wall', '-o', bin, PROBE_SOURCE]);
  return bin;
}

export interface ProbeTarget {
  ip: string;
  port: number;
  /** the node whose agent judges it (for the log) */
  node: string;
}

export interface ProbeTiming {
  /** the outcome waited for */
  want: 'blocked' | 'open';
  /** wall-clock ms (Date.now()) just before the change was asked for */
  t0: number;
  /** ms from t0 to the slowest target's switch */
  ms: number;
  /** per target, in the order given */
  perTargetMs: number[];
  probes: number;
  errors: number;
}

/** Probe knobs: a new connection per target every INTERVAL_US; unanswered after TIMEOUT_MS = blocked (< TCP's 1 s RTO); STREAK in a row settle it. */
const INTERVAL_US = 5000;
const TIMEOUT_MS = 300;
const STREAK = 5;
const MAX_MS = 15_000;

/**
 * Starts the prober in `ns` waiting for `want`, runs `change` once it is
 * ready, and resolves with the times. Throws if the state before the
 * change was `want` already, or the change does not show, within `maxMs`.
 */
export async function timeChange(
  bin: string,
  ns: string,
  targets: readonly ProbeTarget[],
  want: 'blocked' | 'open',
  change: () => Promise<unknown>,
  maxMs = MAX_MS,
): Promise<ProbeTiming> {
  const args = [
    want,
    String(INTERVAL_US),
    String(TIMEOUT_MS),
    String(STREAK),
    String(maxMs),
    ...targets.flatMap((t) => [t.ip, String(t.port)]),
  ];
  const child = execProcess(['ip', 'netns', 'exec', ns, bin, ...args], { reject: false, timeout: 2 * maxMs + 10_000 });
  let t0 = NaN;
  let out = '';
  let changed: Promise<unknown> = Promise.resolve();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (Number.isNaN(t0) && out.startsWith('ready\n')) {
      t0 = Date.now();
      changed = change();
    }
  });
  const r = await child;
  await changed;
  const lines = out.split('\n').filter(Boolean);
  if (r.exitCode !== 0 || lines[0] !== 'ready' || lines.length !== 1 + targets.length) {
    throw new BenchError(
      'ERR_TOOL_FAILED',
      `netpol-probe ${want}: exit ${r.exitCode}: ${out.trim().slice(0, 300)} ${String(r.stderr).slice(0, 300)}`,
    );
  }
  const rows = lines.slice(1).map((l) => l.split(' ').map(Number));
  const perTargetMs = rows.map(([wallUs]) => wallUs / 1000 - t0);
  return {
    want,
    t0,
    ms: Math.max(...perTargetMs),
    perTargetMs,
    probes: rows.reduce((s, [, n]) => s + n, 0),
    errors: rows.reduce((s, [, , e]) => s + e, 0),
  };
}
