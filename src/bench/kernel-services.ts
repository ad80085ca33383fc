import { type ChildProcess, startProcess, execaRunner, type CommandRunner, sweepNetns } from '../host/index.js';
import { compileService, iptablesSave, type Frontend } from '../lb/index.js';
import type { KubeObject } from '../control/client/index.js';
import { WORKLOAD_BIN } from '../kubelet/index.js';
import { kernelNodeCommands, kernelPodCommands, kernelTopology, type KernelNode } from './kernel-overlay.js';
import { connectLatency, iperfDirectAndVip, type ConnectLatency } from './measure.js';
import { BACKEND_PORT, SERVICE_PORT, benchSlice, describeLatency, type BenchPod } from './services-objects.js';
import { BenchError } from './errors.js';

/**
 * The kernel's side of `bench services`: what kube-proxy's iptables mode
 * builds. The same two nodes as the overlay bench's kernel path (bridge +
 * kernel vxlan, Flannel-style), the same pods at the same addresses on the
 * same nodes as podwire's run (client, 4 backends, iperf3 server), and the
 * same Services — compiled by src/lb from the very Service and
 * EndpointSlice objects podwire's API server held, printed by
 * iptablesSave as kube-proxy's nat chains (KUBE-SERVICES → KUBE-SVC-… with
 * statistic probabilities → KUBE-SEP-… DNAT) and loaded with
 * `ip netns exec <node> iptables-restore` into each node's namespace — the
 * bench's own namespaces only. br_netfilter's hook stays on in the nodes
 * (new namespaces start with it, and kube-proxy needs it: a same-node
 * backend's reply is bridged straight to the client, and only the bridge
 * hook lets conntrack undo the DNAT on it).
 */
export interface KernelServicesOptions {
  prefix: string;
  client: BenchPod;
  backends: readonly BenchPod[];
  iperf: BenchPod;
  /** every Service as the API server returned it (clusterIP set), bench-00000 first */
  services: readonly KubeObject[];
  iperfService: KubeObject;
  iperfSlice: KubeObject;
  small: number;
  samples: number;
  seconds: number;
  bin: string;
  dir: string;
  log: (m: string) => void;
}

export interface KernelServicesResult {
  latencySmall: ConnectLatency;
  latencyLarge: ConnectLatency;
  /** one node's iptables-restore of the whole nat table, small and large */
  restoreSmallS: number;
  restoreLargeS: number;
  rulesLarge: number;
  vipGbps: number;
  directGbps: number;
  /** node1's nf_conntrack insert_failed: new flows the kernel dropped on a tuple clash */
  insertFailed: number;
}

const IPERF_PORT = 5299;
const nodeIndex = (node: string) => Number(/(\d+)$/.exec(node)?.[1] ?? NaN);

/** What kube-proxy would write for these Services (ClusterIP frontends are the same on every node). */
export function natRules(
  services: readonly KubeObject[],
  slices: readonly KubeObject[],
): { text: string; rules: number } {
  const frontends: Frontend[] = [];
  services.forEach((svc, i) =>
    frontends.push(...compileService(svc, [slices[i]], { name: 'node1' }, { defaultScheduler: 'random' }).frontends),
  );
  const text = iptablesSave(frontends);
  return { text, rules: text.split('\n').filter((l) => l.startsWith('-A ')).length };
}

async function restore(runner: CommandRunner, nodes: KernelNode[], text: string): Promise<number> {
  let slowest = 0;
  for (const n of nodes) {
    const t0 = performance.now();
    await runner.run(['ip', 'netns', 'exec', n.ns, 'iptables-restore'], { input: text, timeoutMs: 600_000 });
    slowest = Math.max(slowest, (performance.now() - t0) / 1000);
  }
  return slowest;
}

export async function kernelServices(o: KernelServicesOptions): Promise<KernelServicesResult> {
  const runner = execaRunner();
  const { nodes } = kernelTopology(o.prefix, 2);
  const nodeOf = (p: BenchPod) => nodes[nodeIndex(p.node) - 1];
  const podNs = (p: BenchPod) => `${o.prefix}-kpod-${p.name}`.slice(0, 60);
  const servers: ChildProcess[] = [];
  await sweep(runner, o.prefix);
  try {
    for (const argv of kernelNodeCommands(o.prefix, 2)) await runner.run(argv);
    for (const p of [o.client, ...o.backends, o.iperf])
      for (const argv of kernelPodCommands(nodeOf(p), podNs(p), p.ip)) await runner.run(argv);
    // the backends' server: the same built-in nginx the podwire pods run
    for (const b of o.backends) {
      const child = startProcess(
        ['ip', 'netns', 'exec', podNs(b), WORKLOAD_BIN, 'http', '--ports', String(BACKEND_PORT), '--server', 'nginx'],
        { stdio: 'ignore' },
      );
      child.on('error', () => {});
      servers.push(child);
    }
    const slices = o.services.map((s) => benchSlice(s.metadata.name, o.backends));
    const small = natRules(
      [o.iperfService, ...o.services.slice(0, o.small)],
      [o.iperfSlice, ...slices.slice(0, o.small)],
    );
    const restoreSmallS = await restore(runner, nodes, small.text);
    const vips = o.services.map((s) => s.spec.clusterIP as string);
    const clientNs = podNs(o.client);
    await waitListening(o.bin, clientNs, vips.slice(0, 1), o.dir);

    const { direct: directGbps, vip: vipGbps } = await iperfDirectAndVip(
      podNs(o.iperf),
      clientNs,
      o.iperf.ip,
      o.iperfService.spec.clusterIP,
      o.seconds,
      IPERF_PORT,
    );
    o.log(
      `  iperf3 client → server on node2: pod IP ${directGbps.toFixed(2)} Gbit/s, ClusterIP ${vipGbps.toFixed(2)} Gbit/s`,
    );

    const latencySmall = await connectLatency(o.bin, clientNs, vips.slice(0, o.small), SERVICE_PORT, o.samples, o.dir);
    o.log(
      `  connect() through ${o.small} ClusterIPs (${small.rules} nat rules, restored in ${restoreSmallS.toFixed(2)} s): ${describeLatency(latencySmall)}`,
    );

    const large = natRules([o.iperfService, ...o.services], [o.iperfSlice, ...slices]);
    const restoreLargeS = await restore(runner, nodes, large.text);
    const latencyLarge = await connectLatency(o.bin, clientNs, vips, SERVICE_PORT, o.samples, o.dir);
    o.log(
      `  connect() through ${vips.length} ClusterIPs (${large.rules} nat rules, one node's iptables-restore ${restoreLargeS.toFixed(2)} s): ${describeLatency(latencyLarge)}`,
    );
    const ct = await conntrackStats(runner, nodes[0].ns);
    o.log(
      `  ${nodes[0].name}'s nf_conntrack: ${ct.insert_failed} insert_failed, ${ct.drop} drop, ${ct.clashres} clashres`,
    );
    return {
      latencySmall,
      latencyLarge,
      restoreSmallS,
      restoreLargeS,
      rulesLarge: large.rules,
      vipGbps,
      directGbps,
      insertFailed: ct.insert_failed,
    };
  } finally {
    for (const s of servers) s.kill('SIGKILL');
    await sweep(runner, o.prefix);
  }
}

/**
 * Removes the bench's kernel namespaces, and first every process still in
 * one (servers and iperf3 it started, also those of an earlier run that
 * died): nothing else lives in namespaces of this prefix.
 */
async function sweep(runner: CommandRunner, prefix: string): Promise<void> {
  await sweepNetns(runner, prefix);
}

/** The backends take a moment to listen: connect until one VIP answers. */
async function waitListening(bin: string, ns: string, vips: string[], dir: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await connectLatency(bin, ns, vips, SERVICE_PORT, 4, dir, 0).catch(() => null);
    if (r && r.failures === 0) return;
    if (Date.now() > deadline)
      throw new BenchError('ERR_NO_ANSWER', `the kernel path's backends do not answer on ${vips[0]}:${SERVICE_PORT}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** /proc/net/stat/nf_conntrack of a namespace, summed over CPUs (hex columns, one row per CPU). */
async function conntrackStats(runner: CommandRunner, ns: string): Promise<Record<string, number>> {
  const { stdout } = await runner.run(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/stat/nf_conntrack']);
  const [head, ...rows] = stdout.trim().split('\n');
  const keys = head.trim().split(/\s+/);
  const out: Record<string, number> = {};
  for (const row of rows)
    row
      .trim()
      .split(/\s+/)
      .forEach((v, i) => (out[keys[i]] = (out[keys[i]] ?? 0) + parseInt(v, 16)));
  return out;
}
