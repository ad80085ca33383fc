import fs from 'node:fs';
import { conntrackFigures, maglevBuildMs, maglevFigures } from './lb-figures.js';
import { podwireServices } from './services-podwire.js';
import { kernelServices } from './kernel-services.js';
import { buildConnectClient } from './measure.js';
import { percentile } from './services-objects.js';

/**
 * `npm run bench -- services`: the Service load balancer beside kube-proxy's
 * iptables mode, in one run, as ratios.
 *
 *   1. connect() latency through a ClusterIP (SYN → SYN-ACK), p50/p99, at
 *      `small` and `count` Services of 4 endpoints each (podwire's lab)
 *   2. the same on the kernel path with the same Services as kube-proxy's
 *      nat chains (kernel-services.ts)
 *   3. time to write `count` Services through the API server until every
 *      agent's table has them; one Service edited at `count` until every
 *      agent has it
 *   4. Maglev: flows remapped when 1 of N backends goes, established flows
 *      kept by conntrack, table build time (M = 65537)
 *   5. conntrack lookup at 100k entries against 1k, bytes per entry
 *   6. iperf3 through a ClusterIP against the pod IP, on both paths
 *
 * PODWIRE_BENCH_SERVICES (default 10000), PODWIRE_BENCH_SAMPLES (connects
 * per latency figure, default 5000), PODWIRE_BENCH_SECONDS (iperf3, 6).
 * Last line: `RESULT services {...}`.
 */
export interface ServicesBenchOptions {
  count?: number;
  small?: number;
  samples?: number;
  seconds?: number;
  /** one-Service edits at `count` (each timed twice: there and back) */
  changes?: number;
  log?: (m: string) => void;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function benchServices(opts: ServicesBenchOptions = {}): Promise<Record<string, number>> {
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const count = opts.count ?? 10_000;
  const small = Math.min(opts.small ?? 100, count);
  const samples = opts.samples ?? 5000;
  const seconds = opts.seconds ?? 6;
  const changes = opts.changes ?? 10;
  const out: Record<string, number> = {};
  const dir = fs.mkdtempSync('/tmp/pwbsvc-');
  try {
    log('load balancer figures (pure): Maglev and conntrack');
    for (const n of [4, 20]) {
      const m = maglevFigures(n);
      log(
        `  Maglev, 1 of ${n} backends gone: ${(100 * m.remapShare).toFixed(2)}% of new flows remapped (${m.remapVsIdeal.toFixed(3)} × 1/${n}; ${(100 * m.survivorsMoved).toFixed(2)}% of them were on surviving backends); established flows remapped: ${m.establishedRemapped} (${(100 * m.establishedOnRemoved).toFixed(1)}% were on the removed one)`,
      );
      out[`maglev_remap_share_n${n}`] = r3(m.remapShare);
      out[`maglev_remap_vs_ideal_n${n}`] = r3(m.remapVsIdeal);
      out[`maglev_established_remapped_n${n}`] = m.establishedRemapped;
    }
    for (const n of [4, 100]) {
      out[`maglev_build_ms_n${n}`] = r1(maglevBuildMs(n));
      log(`  Maglev table build, M = 65537, ${n} backends: ${out[`maglev_build_ms_n${n}`]} ms`);
    }
    const ct = conntrackFigures();
    out.ct_ns_1k = r1(ct.nsSmall);
    out.ct_ns_100k = r1(ct.nsLarge);
    out.ct_ratio_100k_1k = r3(ct.nsLarge / ct.nsSmall);
    out.ct_ns_100k_all_active = r1(ct.nsLargeAllActive);
    out.ct_bytes_per_entry = ct.bytesPerEntry;
    log(
      `  conntrack lookup: ${out.ct_ns_1k} ns at 1k entries, ${out.ct_ns_100k} ns at 100k (${out.ct_ratio_100k_1k}×, ${ct.probesLarge.toFixed(2)} probes; 1,024 active flows); ${out.ct_ns_100k_all_active} ns with all 100k active; ${ct.bytesPerEntry} bytes per entry`,
    );

    const bin = await buildConnectClient(dir);

    log(`podwire: 2 nodes + control plane, ${count} Services × 4 endpoints`);
    const p = await podwireServices({ prefix: 'pwbsvc', count, small, samples, seconds, changes, bin, dir, log });
    const changeSorted = [...p.changeMs].sort((a, b) => a - b);
    Object.assign(out, {
      p50_us_small: p.latencySmall.p50Us,
      p99_us_small: p.latencySmall.p99Us,
      p50_us_large: p.latencyLarge.p50Us,
      p99_us_large: p.latencyLarge.p99Us,
      p99_ratio_large_small: r3(p.latencyLarge.p99Us / p.latencySmall.p99Us),
      syn_retransmitted_small: p.latencySmall.retransmitted,
      syn_retransmitted_large: p.latencyLarge.retransmitted,
      p99_first_syn_us_small: p.latencySmall.p99FirstSynUs,
      p99_first_syn_us_large: p.latencyLarge.p99FirstSynUs,
      p99_first_syn_ratio_large_small: r3(p.latencyLarge.p99FirstSynUs / p.latencySmall.p99FirstSynUs),
      connect_failures: p.latencySmall.failures + p.latencyLarge.failures,
      source_ports_reused: p.latencySmall.portsReused + p.latencyLarge.portsReused,
      agent_pipeline_errors: p.pipelineErrors,
      api_write_s: r1(p.apiWriteS),
      program_s: r1(p.programS),
      change_ms_p50: r1(percentile(changeSorted, 0.5)),
      change_ms_max: r1(changeSorted[changeSorted.length - 1]),
      change_api_ms_p50: r1(
        percentile(
          [...p.changeApiMs].sort((a, b) => a - b),
          0.5,
        ),
      ),
      agent_apply_ms_max: r3(Math.max(...p.agentApplyMs)),
      delete_s: r1(p.deleteS),
      apiserver_mib: p.apiserverMiB,
      agent_mib: p.agentMiB,
      vip_gbps: r3(p.vipGbps),
      direct_gbps: r3(p.directGbps),
      vip_ratio: r3(p.vipGbps / p.directGbps),
    });

    log(`kernel: the same 2 nodes, pods and Services as kube-proxy's iptables nat rules`);
    const k = await kernelServices({ prefix: 'pwbsvck', ...p.topology, small, samples, seconds, bin, dir, log });
    Object.assign(out, {
      kernel_p50_us_small: k.latencySmall.p50Us,
      kernel_p99_us_small: k.latencySmall.p99Us,
      kernel_p50_us_large: k.latencyLarge.p50Us,
      kernel_p99_us_large: k.latencyLarge.p99Us,
      kernel_p99_ratio_large_small: r3(k.latencyLarge.p99Us / k.latencySmall.p99Us),
      kernel_syn_retransmitted: k.latencySmall.retransmitted + k.latencyLarge.retransmitted,
      kernel_connect_failures: k.latencySmall.failures + k.latencyLarge.failures,
      kernel_source_ports_reused: k.latencySmall.portsReused + k.latencyLarge.portsReused,
      kernel_ct_insert_failed: k.insertFailed,
      p99_vs_kernel_large: r3(p.latencyLarge.p99Us / k.latencyLarge.p99Us),
      p99_first_syn_vs_kernel_large: r3(p.latencyLarge.p99FirstSynUs / k.latencyLarge.p99FirstSynUs),
      kernel_restore_s_large: Math.round(k.restoreLargeS * 100) / 100,
      kernel_nat_rules_large: k.rulesLarge,
      kernel_vip_gbps: r3(k.vipGbps),
      kernel_direct_gbps: r3(k.directGbps),
      kernel_vip_ratio: r3(k.vipGbps / k.directGbps),
    });
    out.services = count;
    out.small_services = small;
    out.samples = samples;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`RESULT services ${JSON.stringify(out)}`);
  return out;
}
