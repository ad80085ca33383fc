import { wrkErrors, type WrkResult } from './ingress-wrk.js';
import { BenchError } from './errors.js';

/**
 * `bench ingress`'s runs summed up into the RESULT line's fields. Pure: a
 * list of runs in, numbers out.
 *
 * Per condition (side × kind) the best run of the rounds by requests per
 * second gives rps and its latencies (the run the shared machine's other
 * load disturbed least, as the other benches take it); CPU per request is
 * over all rounds (the proxy's CPU seconds over its requests).
 */
export type Side = 'podwire' | 'nginx' | 'direct';
/** http: keep-alive; https: keep-alive over TLS; handshake: https with a new connection per request */
export type Kind = 'http' | 'https' | 'handshake';

export interface Run {
  side: Side;
  kind: Kind;
  round: number;
  wrk: WrkResult;
  /** CPU seconds and share of one core during the run, per process group (proxy, agents, cloudlb, backend) */
  cpu: Record<string, { cpuS: number; cores: number }>;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function bestRun(runs: readonly Run[], side: Side, kind: Kind): Run | undefined {
  return runs
    .filter((r) => r.side === side && r.kind === kind)
    .reduce<Run | undefined>((b, r) => (!b || r.wrk.rps > b.wrk.rps ? r : b), undefined);
}

/** Microseconds of the proxy's CPU per request, over every round of the condition. */
export function cpuUsPerRequest(runs: readonly Run[], side: Side, kind: Kind): number {
  const mine = runs.filter((r) => r.side === side && r.kind === kind);
  const requests = mine.reduce((s, r) => s + r.wrk.requests, 0);
  return requests ? (1e6 * mine.reduce((s, r) => s + (r.cpu.proxy?.cpuS ?? 0), 0)) / requests : NaN;
}

/** The mean share of a core a group used over the condition's runs. */
export function meanCores(runs: readonly Run[], side: Side, kind: Kind, group: string): number {
  const mine = runs.filter((r) => r.side === side && r.kind === kind);
  return mine.length ? mine.reduce((s, r) => s + (r.cpu[group]?.cores ?? 0), 0) / mine.length : NaN;
}

type Figures = Record<string, number | number[] | boolean>;

function best(runs: readonly Run[], side: Side, kind: Kind): WrkResult {
  const b = bestRun(runs, side, kind);
  if (!b) throw new BenchError('ERR_NO_RESULT', `no ${side} ${kind} run`);
  return b.wrk;
}

/**
 * podwire beside nginx: each one's rps and latencies per kind, the ratios,
 * handshakes per second, CPU per request and share of its core, the rps of
 * every HTTP round, the errors; every key after `prefix`.
 */
export function proxyFigures(runs: readonly Run[], prefix = ''): Figures {
  const out: Figures = {};
  for (const kind of ['http', 'https'] as const) {
    for (const side of ['podwire', 'nginx'] as const) {
      const b = best(runs, side, kind);
      out[`${prefix}${side}_${kind}_rps`] = Math.round(b.rps);
      out[`${prefix}${side}_${kind}_p50_ms`] = r2(b.p50Ms);
      out[`${prefix}${side}_${kind}_p99_ms`] = r2(b.p99Ms);
    }
    out[`${prefix}${kind}_rps_ratio`] = r3(best(runs, 'podwire', kind).rps / best(runs, 'nginx', kind).rps);
  }
  out[`${prefix}podwire_handshakes_per_s`] = Math.round(best(runs, 'podwire', 'handshake').rps);
  out[`${prefix}nginx_handshakes_per_s`] = Math.round(best(runs, 'nginx', 'handshake').rps);
  out[`${prefix}handshake_ratio`] = r3(best(runs, 'podwire', 'handshake').rps / best(runs, 'nginx', 'handshake').rps);
  for (const kind of ['http', 'https', 'handshake'] as const) {
    for (const side of ['podwire', 'nginx'] as const) {
      out[`${prefix}${side}_${kind}_cpu_us_per_req`] = r1(cpuUsPerRequest(runs, side, kind));
      out[`${prefix}${side}_${kind}_proxy_cores`] = r2(meanCores(runs, side, kind, 'proxy'));
    }
  }
  for (const side of ['podwire', 'nginx'] as const) {
    out[`${prefix}${side}_http_rps_rounds`] = runs
      .filter((r) => r.side === side && r.kind === 'http')
      .map((r) => Math.round(r.wrk.rps));
    out[`${prefix}${side}_errors`] = runs.filter((r) => r.side === side).reduce((s, r) => s + wrkErrors(r.wrk), 0);
  }
  out[`${prefix}goal_met`] = (out[`${prefix}http_rps_ratio`] as number) >= 0.5;
  return out;
}

/** The lab's runs: the direct path, then the two proxies through it (proxyFigures), and the agents' share of the cores. */
export function ingressFigures(runs: readonly Run[]): Figures {
  const d = best(runs, 'direct', 'http');
  const out: Figures = {
    direct_rps: Math.round(d.rps),
    direct_p50_ms: r2(d.p50Ms),
    direct_p99_ms: r2(d.p99Ms),
    ...proxyFigures(runs),
  };
  out.podwire_vs_direct = r3(best(runs, 'podwire', 'http').rps / d.rps);
  out.nginx_vs_direct = r3(best(runs, 'nginx', 'http').rps / d.rps);
  for (const side of ['podwire', 'nginx', 'direct'] as const)
    out[`${side}_http_agents_cores`] = r2(meanCores(runs, side, 'http', 'agents'));
  out.direct_errors = runs.filter((r) => r.side === 'direct').reduce((s, r) => s + wrkErrors(r.wrk), 0);
  return out;
}
