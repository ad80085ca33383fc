import { execaRunner, deleteNetnsWithPrefix } from '../host/index.js';
import { labUp, labDown, addPod } from '../lab/index.js';
import { kernelTopologyCommands, kernelTopology } from './kernel-overlay.js';
import { iperfGbps, pingP50Us } from './measure.js';

/**
 * `podwire bench overlay`: pod -> pod across two nodes, podwire's userspace
 * path beside the kernel's (bridge + kernel vxlan), same topology and
 * addresses, default offloads, in one run. Prints the figures and, last,
 * `RESULT overlay {...}`.
 */
export async function benchOverlay(
  opts: { seconds?: number; log?: (m: string) => void } = {},
): Promise<Record<string, number>> {
  const seconds = opts.seconds ?? 8;
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const runner = execaRunner();
  const result: Record<string, number> = {};

  const kprefix = 'pwbenchk';
  await deleteNetnsWithPrefix(runner, kprefix);
  try {
    log('kernel path: bridge + kernel vxlan (Flannel-style), 2 nodes');
    for (const argv of kernelTopologyCommands(kprefix, 2)) await runner.run(argv);
    const { nodes } = kernelTopology(kprefix, 2);
    result.rtt_p50_us_kernel = await pingP50Us(nodes[0].pod.ns, nodes[1].pod.ip);
    result.kernel_gbps = await iperfGbps(nodes[1].pod.ns, nodes[0].pod.ns, nodes[1].pod.ip, seconds);
    log(`  kernel:  ${result.kernel_gbps.toFixed(2)} Gbit/s, ping p50 ${result.rtt_p50_us_kernel.toFixed(0)} µs`);
  } finally {
    await deleteNetnsWithPrefix(runner, kprefix);
  }

  const prefix = 'pwbench';
  try {
    log('podwire path: userspace agents, VXLAN in userspace, 2 nodes');
    const state = await labUp({ prefix, nodes: 2 });
    const a = await addPod(state, 'node1', 'bench-a');
    const b = await addPod(state, 'node2', 'bench-b');
    result.rtt_p50_us_podwire = await pingP50Us(a.netns, b.ip);
    result.podwire_gbps = await iperfGbps(b.netns, a.netns, b.ip, seconds);
    log(`  podwire: ${result.podwire_gbps.toFixed(2)} Gbit/s, ping p50 ${result.rtt_p50_us_podwire.toFixed(0)} µs`);
  } finally {
    await labDown({ prefix });
  }
  result.ratio = result.podwire_gbps / result.kernel_gbps;
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  log(`  ratio podwire/kernel: ${result.ratio.toFixed(3)}`);
  const out = {
    podwire_gbps: round(result.podwire_gbps),
    kernel_gbps: round(result.kernel_gbps),
    ratio: round(result.ratio),
    rtt_p50_us_podwire: round(result.rtt_p50_us_podwire, 0),
    rtt_p50_us_kernel: round(result.rtt_p50_us_kernel, 0),
  };
  log(`RESULT overlay ${JSON.stringify(out)}`);
  return out;
}
