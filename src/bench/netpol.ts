import fs from 'node:fs';
import { buildConnectClient } from './measure.js';
import { percentile } from './services-objects.js';
import { buildProbe } from './netpol-change.js';
import { kernelNetpol } from './netpol-kernel.js';
import { podwireNetpol } from './netpol-podwire.js';

/**
 * `npm run bench -- netpol`: what NetworkPolicy costs podwire, in one run.
 *
 *   1. the kernel's path (bridge + kernel vxlan, no policy): iperf3 and
 *      connect() latency, client pod on node1 → server pod on node2
 *   2. podwire's lab, the same pair: with 0 NetworkPolicies and with
 *      `count` (netpol-mix.ts) in the namespace, taking turns (0, count,
 *      0, count: `visits` each; the best of each condition's visits) — the
 *      server selected by about half of them, the connections allowed by
 *      the last rule of its list; throughput and latency as ratios of the
 *      no-policy figures (the issue's goals: ≥ 0.9 and ≤ 1.1×) and of the
 *      kernel's
 *   3. `count` policies through the API server until every agent enforces
 *      them; the agents' compile time (GET /policy compileMs)
 *   4. a policy created (blocks a probe pod on each node) and deleted,
 *      `changes` times: ms until it holds on the wire for every node
 *
 * Ratios, never timed assertions: the machine is shared. Env:
 * PODWIRE_BENCH_POLICIES (1000), PODWIRE_BENCH_SAMPLES (connects per
 * latency figure per visit, 3000), PODWIRE_BENCH_SECONDS (iperf3, 4;
 * best of PODWIRE_BENCH_ROUNDS per visit, 2), PODWIRE_BENCH_VISITS (2),
 * PODWIRE_BENCH_CHANGES (5, each both ways).
 * Last line: `RESULT netpol {...}`.
 */
export interface NetpolBenchOptions {
  count?: number;
  samples?: number;
  seconds?: number;
  rounds?: number;
  visits?: number;
  changes?: number;
  log?: (m: string) => void;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function benchNetpol(opts: NetpolBenchOptions = {}): Promise<Record<string, number | number[]>> {
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const count = opts.count ?? 1000;
  const samples = opts.samples ?? 3000;
  const seconds = opts.seconds ?? 4;
  const rounds = opts.rounds ?? 2;
  const visits = opts.visits ?? 2;
  const changes = opts.changes ?? 5;
  const out: Record<string, number | number[]> = {};
  const dir = fs.mkdtempSync('/tmp/pwbnp-');
  try {
    const connectBin = await buildConnectClient(dir);
    const probeBin = await buildProbe(dir);

    log('kernel: bridge + kernel vxlan (Flannel-style), 2 nodes, no policy');
    const k = await kernelNetpol({ prefix: 'pwbnpk', samples, seconds, rounds, connectBin, dir, log });

    log(
      `podwire: 2 nodes + control plane; 0 and ${count} NetworkPolicies in the namespace, taking turns (${visits} visits each)`,
    );
    const p = await podwireNetpol({
      prefix: 'pwbnp',
      count,
      samples,
      seconds,
      rounds,
      visits,
      changes,
      connectBin,
      probeBin,
      dir,
      log,
    });

    const ms = (w: 'blocked' | 'open') =>
      p.changes
        .filter((c) => c.want === w)
        .map((c) => c.ms)
        .sort((a, b) => a - b);
    const all = p.changes.map((c) => c.ms).sort((a, b) => a - b);
    const compile = [...p.changeCompileMs].sort((a, b) => a - b);
    Object.assign(out, {
      policies: count,
      server_ingress_policies: p.work.ingress.policies,
      server_ingress_rules: p.work.ingress.rules,
      server_allowed_at_rule: p.work.ingress.allowedAt,
      client_egress_policies: p.work.egress.policies,
      client_egress_rules: p.work.egress.rules,
      client_allowed_at_rule: p.work.egress.allowedAt,
      judge_us: r1(p.work.judgeUs),
      gbps_0: r3(p.none.gbps),
      gbps_n: r3(p.many.gbps),
      throughput_ratio: r3(p.many.gbps / p.none.gbps),
      p50_us_0: p.none.p50Us,
      p99_us_0: p.none.p99Us,
      p50_us_n: p.many.p50Us,
      p99_us_n: p.many.p99Us,
      control_p50_us_0: p.none.controlP50Us,
      control_p50_us_n: p.many.controlP50Us,
      p50_ratio: r3(p.many.p50Us / p.none.p50Us),
      p99_ratio: r3(p.many.p99Us / p.none.p99Us),
      connect_failures: p.none.failures + p.many.failures,
      syn_retransmitted: p.none.retransmitted + p.many.retransmitted,
      allowed_ingress_counted: p.allowedIngress,
      allowed_egress_counted: p.allowedEgress,
      kernel_gbps: r3(k.gbps),
      kernel_p50_us: k.p50Us,
      kernel_p99_us: k.p99Us,
      gbps_0_vs_kernel: r3(p.none.gbps / k.gbps),
      gbps_n_vs_kernel: r3(p.many.gbps / k.gbps),
      p50_0_vs_kernel: r3(p.none.p50Us / k.p50Us),
      p50_n_vs_kernel: r3(p.many.p50Us / k.p50Us),
      gbps_0_visits: p.none.visits.map((v) => r3(v.gbps)),
      gbps_n_visits: p.many.visits.map((v) => r3(v.gbps)),
      p50_us_0_visits: p.none.visits.map((v) => v.p50Us),
      p50_us_n_visits: p.many.visits.map((v) => v.p50Us),
      apply_all_s: r1(p.applyS),
      delete_all_s: r1(p.deleteS),
      compile_ms_all: r1(Math.max(...p.compileMs)),
      change_compile_ms_p50: r1(percentile(compile, 0.5)),
      change_compile_ms_max: r1(compile[compile.length - 1]),
      block_ms_p50: r1(percentile(ms('blocked'), 0.5)),
      block_ms_max: r1(ms('blocked').at(-1)!),
      open_ms_p50: r1(percentile(ms('open'), 0.5)),
      open_ms_max: r1(ms('open').at(-1)!),
      change_ms_p50: r1(percentile(all, 0.5)),
      change_ms_max: r1(all[all.length - 1]),
      changes: p.changes.length,
      probe_errors: p.changes.reduce((s, c) => s + c.errors, 0),
      samples,
    });
    log(
      `  with ${count} policies: throughput ${out.throughput_ratio} of no-policy (goal ≥ 0.9), connect p50 ${out.p50_ratio}×, p99 ${out.p99_ratio}× (goal ≤ 1.1×); podwire/kernel throughput ${out.gbps_0_vs_kernel} (0) and ${out.gbps_n_vs_kernel} (${count}), p50 ${out.p50_0_vs_kernel}× and ${out.p50_n_vs_kernel}×`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`RESULT netpol ${JSON.stringify(out)}`);
  return out;
}
