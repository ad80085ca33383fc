import http from 'node:http';
import { labUp, labDown, addPod } from '../lab/index.js';
import { startUiServer } from '../ui/index.js';
import { iperfGbps } from './measure.js';

/**
 * `podwire bench ui`: does watching cost the dataplane? iperf3 between two pods on two nodes, the
 * agents forwarding, first with nothing following them and then with `podwire ui` running and a
 * page's SSE stream (/api/events) consumed — the UI server follows every agent's /observe, so the
 * agents write flow events for it. Rounds alternate (off, on, off, on …) so a drift of the machine
 * hits both sides; the ratio is median(on) / median(off), the goal ≥ 0.95. Also the SSE bytes and
 * events a second the page received while iperf3 ran. Last line `RESULT ui {…}`.
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
  try {
    log('a 2-node lab with its control plane, a pod on each node; iperf3 across them');
    const state = await labUp({ prefix, nodes: 2, controlPlane: true });
    const a = await addPod(state, 'node1', 'bench-a');
    const b = await addPod(state, 'node2', 'bench-b');
    for (let r = 0; r < rounds; r++) {
      off.push(await iperfGbps(b.netns, a.netns, b.ip, seconds));
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
        const [b0, e0, t0] = [bytes, events, Date.now()];
        on.push(await iperfGbps(b.netns, a.netns, b.ip, seconds));
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
    sse_bytes_per_s: round(sseBytes / onSeconds, 0),
    sse_events_per_s: round(sseEvents / onSeconds, 1),
    rounds,
    seconds,
  };
  log(`  ratio with/without the UI: ${out.ratio.toFixed(3)} (goal ≥ 0.95)`);
  log(`RESULT ui ${JSON.stringify(out)}`);
  return out;
}
