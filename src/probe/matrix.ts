/**
 * Expected beside observed, cell by cell (pure): the truth table
 * `podwire probe` prints, in cyclonus's shape — one table per
 * protocol/port, rows the source pods, columns the target pods.
 *
 *   .  allowed, and connected           X  blocked, and nothing got through
 *   !  observed differs from expected   ?  could not be probed (the detail says why)
 *   -  no target: no Service has that pod as its only backend on that port
 *
 * "Nothing got through" is a timeout (policy drops are silent), an ICMP
 * unreachable, or — by name — a name that did not resolve. A refused
 * connection reached the pod: with an allowed expectation it is wrong (the
 * probe expects a server on every port), with a blocked one it is wrong too
 * (the policy let it in).
 */
import { ipv4ToString } from '../packet/index.js';
import type { PolicySet } from '../policy/index.js';
import { expectConnection } from './expect.js';
import { cellId, podKey, type ProbePlan, type ProbeProtocol } from './plan.js';
import type { Observed, ProbeResult } from './wire.js';

export type Mark = '.' | 'X' | '!' | '?' | '-';

export interface Cell {
  from: string;
  to: string;
  expected: 'allowed' | 'blocked';
  /** the policy model's reason */
  why: string;
  observed: Observed | 'not-probed' | 'no-target';
  detail: string;
  /** the Service the probe went through */
  via?: string;
  mark: Mark;
}

export interface MatrixTable {
  name: string;
  proto: ProbeProtocol;
  port: number;
  /** [from][to] */
  rows: Cell[][];
}

export interface MatrixSummary {
  cells: number;
  /** cells with an observation to compare: correct + wrong */
  compared: number;
  correct: number;
  wrong: number;
  notProbed: number;
  noTarget: number;
}

export interface ProbeMatrix {
  to: ProbePlan['to'];
  pods: { pod: string; ip: string; node?: string }[];
  tables: MatrixTable[];
  summary: MatrixSummary;
  /** said once, above the tables: protocols skipped, pods left out */
  notes: string[];
}

/** What one source pod's prober returned, or why it could not run. */
export type SourceOutcome = { results: Map<string, ProbeResult> } | { error: string };

const GOT_NOTHING: readonly string[] = ['blocked', 'unreachable', 'dns-failed'];

export function markOf(expected: 'allowed' | 'blocked', observed: Cell['observed']): Mark {
  if (observed === 'no-target') return '-';
  if (observed === 'not-probed' || observed === 'error') return '?';
  if (expected === 'allowed') return observed === 'connected' ? '.' : '!';
  return GOT_NOTHING.includes(observed) ? 'X' : '!';
}

export function assembleMatrix(
  plan: ProbePlan,
  set: PolicySet,
  sources: SourceOutcome[],
  notes: string[] = [],
): ProbeMatrix {
  const tables = plan.tables.map((t, ti) => ({
    name: t.name,
    proto: t.proto,
    port: t.port,
    rows: plan.pods.map((from, fi) =>
      plan.pods.map((to, pi): Cell => {
        const exp = expectConnection(set, from, to, t.proto, t.port);
        const expected = exp.allowed ? 'allowed' : 'blocked';
        const target = plan.targets[ti][pi];
        const base = { from: podKey(from), to: podKey(to), expected, why: exp.why } as const;
        if ('none' in target) return { ...base, observed: 'no-target', detail: target.none, mark: '-' };
        const via = target.via ? { via: target.via } : {};
        const src = sources[fi];
        if (!src) return { ...base, ...via, observed: 'not-probed', detail: 'not probed', mark: '?' };
        if ('error' in src) return { ...base, ...via, observed: 'not-probed', detail: src.error, mark: '?' };
        const r = src.results.get(cellId(ti, pi));
        if (!r)
          return { ...base, ...via, observed: 'not-probed', detail: 'the prober returned no result for it', mark: '?' };
        return { ...base, ...via, observed: r.observed, detail: r.detail, mark: markOf(expected, r.observed) };
      }),
    ),
  }));
  const summary: MatrixSummary = { cells: 0, compared: 0, correct: 0, wrong: 0, notProbed: 0, noTarget: 0 };
  for (const t of tables)
    for (const row of t.rows)
      for (const c of row) {
        summary.cells++;
        if (c.mark === '.' || c.mark === 'X') summary.correct++;
        else if (c.mark === '!') summary.wrong++;
        else if (c.mark === '?') summary.notProbed++;
        else summary.noTarget++;
      }
  summary.compared = summary.correct + summary.wrong;
  return {
    to: plan.to,
    pods: plan.pods.map((p) => ({
      pod: podKey(p),
      ip: ipv4ToString(p.ip),
      ...(p.nodeName ? { node: p.nodeName } : {}),
    })),
    tables,
    summary,
    notes,
  };
}

/** Exit status: 1 on any mismatch, or any cell that should have been probed and was not. */
export function matrixFailed(m: ProbeMatrix): boolean {
  return m.summary.wrong > 0 || m.summary.notProbed > 0;
}
