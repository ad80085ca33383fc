import http from 'node:http';
import { labUp, labDown, addPod } from '../lab/index.js';
import { startUiServer } from '../ui/index.js';
import { iperfGbps } from './measure.js';
import { cpuSeconds } from './ingress-procs.js';

/**
 * `podwire bench ui`: does watching cost the dataplane? iperf3 between two pods on two nodes, the
 * agents forwarding, first with nothing following them and then with `podwire ui` running and a
 * page's SSE stream (/api/events) consumed — the UI server follows every agent's /observe, so the
 * agents write flow events for it. Rounds alternate (off, on, off, on …) so a drift of the machine
 * hits both sides; the ratio is median(on) / median(off), the goal ≥ 0.95. On a busy machine the
 * throughput's spread can hide a small cost, so the agents' CPU seconds per GB forwarded are
 * reported beside it (what the agents spend, whatever else runs), and the UI server's own CPU share
 * (it runs in this process). Also the SSE bytes and events a second the page received while iperf3
 * ran. Last line `RESULT ui {…}`.
 */
export async function benchUi(
  opts: { seconds?: number; rounds?: number; log?: (m: string) => void } = {},
): Promise<Record<string, number>> {
  const seconds = opts.seconds ?? 8;
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const prefix = 'pwbenchui';
  const off: number[] = [];
  const on: number[] = [];
  let sseBytes = 0;
  let sseEvents = 0;
  let onSeconds = 0;
  const cpuPerGb = { off: [] as number[], on: [] as number[] };
  let uiCpuS = 0;
  try {
    log('a 2-node lab with its control plane, a pod on each node; iperf3 across them');
    const state = await labUp({ prefix, nodes: 2, controlPlane: true });
    const a = await addPod(state, 'node1', 'bench-a');
    const b = await addPod(state, 'node2', 'bench-b');
    const agentsCpu = () => Object.values(state.agents).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    /** iperf3 once; the agents' CPU seconds per GB it moved go to `into` */
    const measure = async (into: number[]) => {
      const cpu0 = agentsCpu();
      const gbps = await iperfGbps(b.netns, a.netns, b.ip, seconds);
      into.push((agentsCpu() - cpu0) / ((gbps * seconds) / 8));
      return gbps;
    };
    for (let r = 0; r < rounds; r++) {
      off.push(await measure(cpuPerGb.off));
      log(`  round ${r + 1} without the UI: ${off[r].toFixed(2)} Gbit/s`);

      const ui = await startUiServer({ lab: state, server: `unix:${state.plan.controlPlane.socket}`, port: 0 });
      let bytes = 0;
      let events = 0;
      const page = http.get({ host: '127.0.0.1', port: ui.port, path: '/api/events' }, (res) => {
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          for (let i = c.indexOf('event: '); i >= 0; i = c.indexOf('event: ', i + 1)) events++;
        });
      });
      page.on('error', () => {});
      try {
        const [b0, e0, t0, u0] = [bytes, events, Date.now(), process.cpuUsage()];
        on.push(await measure(cpuPerGb.on));
        const u = process.cpuUsage(u0);
        uiCpuS += (u.user + u.system) / 1e6;
        sseBytes += bytes - b0;
        sseEvents += events - e0;
        onSeconds += (Date.now() - t0) / 1000;
        log(
          `  round ${r + 1} with the UI:    ${on[r].toFixed(2)} Gbit/s (page got ${bytes - b0} bytes, ${events - e0} events)`,
        );
      } finally {
        page.destroy();
        await ui.close();
      }
    }
  } finally {
    await labDown({ prefix });
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  const out = {
    gbps_without_ui: round(median(off)),
    gbps_with_ui: round(median(on)),
    ratio: round(median(on) / median(off)),
    agents_cpu_s_per_gb_without_ui: round(median(cpuPerGb.off)),
    agents_cpu_s_per_gb_with_ui: round(median(cpuPerGb.on)),
    ui_server_cores: round(uiCpuS / onSeconds),
    sse_bytes_per_s: round(sseBytes / onSeconds, 0),
    sse_events_per_s: round(sseEvents / onSeconds, 1),
    rounds,
    seconds,
  };
  log(`  ratio with/without the UI: ${out.ratio.toFixed(3)} (goal ≥ 0.95)`);
  log(
    `  agents' CPU per GB forwarded: ${out.agents_cpu_s_per_gb_without_ui} s without, ${out.agents_cpu_s_per_gb_with_ui} s with the UI; the UI server used ${out.ui_server_cores} of a core`,
  );
  log(`RESULT ui ${JSON.stringify(out)}`);
  return out;
}
