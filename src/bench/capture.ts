import fs from 'node:fs';
import { labUp, labDown, addPod } from '../lab/index.js';
import { captureInNamespace, observe } from '../lab/index.js';
import { iperfGbps } from './measure.js';

/**
 * `podwire bench capture`: what watching costs. Cross-node iperf3 on one lab,
 * three ways in one run: nobody watching, `observe` streaming every agent's
 * flow events, and a packet capture on node1's eth0 (all VXLAN, to a file).
 * Last line: RESULT capture {...}.
 */
export async function benchCapture(
  opts: { seconds?: number; log?: (m: string) => void } = {},
): Promise<Record<string, number>> {
  const seconds = opts.seconds ?? 6;
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const prefix = 'pwbenchc';
  const out: Record<string, number> = {};
  try {
    const state = await labUp({ prefix, nodes: 2 });
    const a = await addPod(state, 'node1', 'bench-a');
    const b = await addPod(state, 'node2', 'bench-b');
    out.baseline_gbps = await iperfGbps(b.netns, a.netns, b.ip, seconds);
    log(`  nobody watching:   ${out.baseline_gbps.toFixed(2)} Gbit/s`);

    let events = 0;
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const watching = observe(state, { durationS: seconds + 30, onReady: () => ready(), print: () => events++ });
    await started;
    out.observe_gbps = await iperfGbps(b.netns, a.netns, b.ip, seconds);
    log(`  observe running:   ${out.observe_gbps.toFixed(2)} Gbit/s (${events} flow events)`);
    void watching; // stops by itself (duration); its sockets close with the lab

    const file = `/tmp/${prefix}-capture.pcapng`;
    let capReady!: () => void;
    const capStarted = new Promise<void>((r) => (capReady = r));
    const node1 = state.plan.nodes[0];
    const cap = captureInNamespace({
      ns: node1.ns,
      ifname: 'eth0',
      label: 'node1/eth0',
      format: 'pcapng',
      filter: {},
      durationS: seconds + 2,
      out: file,
      onReady: () => capReady(),
    });
    await capStarted;
    out.capture_gbps = await iperfGbps(b.netns, a.netns, b.ip, seconds);
    const captured = await cap;
    log(
      `  capture on eth0:   ${out.capture_gbps.toFixed(2)} Gbit/s (${captured} frames, ${(fs.statSync(file).size / 1e6).toFixed(0)} MB written)`,
    );
    fs.rmSync(file, { force: true });
  } finally {
    await labDown({ prefix });
  }
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const result = {
    baseline_gbps: r(out.baseline_gbps),
    observe_gbps: r(out.observe_gbps),
    capture_gbps: r(out.capture_gbps),
    observe_ratio: r(out.observe_gbps / out.baseline_gbps),
    capture_ratio: r(out.capture_gbps / out.baseline_gbps),
  };
  log(`RESULT capture ${JSON.stringify(result)}`);
  return result;
}
