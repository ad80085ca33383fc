import { startProcess, execaRunner, type CommandRunner, sweepNetns } from '../host/index.js';
import { WORKLOAD_BIN } from '../kubelet/index.js';
import { kernelTopology, kernelTopologyCommands } from './kernel-overlay.js';
import { connectLatency } from './measure.js';
import { HTTP_PORT } from './netpol-mix.js';
import { conditionOf, visit, type Condition } from './netpol-condition.js';
import { BenchError } from './errors.js';

/**
 * The kernel's side of `bench netpol`: the same pod-to-pod pair across
 * two nodes on the overlay bench's kernel path (bridge + kernel vxlan,
 * Flannel-style; kernel-overlay.ts), with the same server (podwire's
 * built-in nginx on 80, iperf3) — no policy: the yardstick podwire's
 * figures are read against, as ratios. (A kernel path with the 1,000
 * policies — Calico's or kube-router's iptables — is not built here.)
 */
export async function kernelNetpol(o: {
  prefix: string;
  samples: number;
  seconds: number;
  rounds: number;
  connectBin: string;
  dir: string;
  log: (m: string) => void;
}): Promise<Condition> {
  const runner = execaRunner();
  const { nodes } = kernelTopology(o.prefix, 2);
  const [cl, srv] = [nodes[0].pod, nodes[1].pod];
  await sweep(runner, o.prefix);
  try {
    for (const argv of kernelTopologyCommands(o.prefix, 2)) await runner.run(argv);
    const web = startProcess(
      ['ip', 'netns', 'exec', srv.ns, WORKLOAD_BIN, 'http', '--ports', String(HTTP_PORT), '--server', 'nginx'],
      { stdio: 'ignore' },
    );
    web.on('error', () => {});
    const deadline = Date.now() + 15_000;
    while (
      (await connectLatency(o.connectBin, cl.ns, [srv.ip], HTTP_PORT, 4, o.dir, 0).catch(() => null))?.failures !== 0
    ) {
      if (Date.now() > deadline)
        throw new BenchError('ERR_NO_ANSWER', `the kernel path's server does not answer on ${srv.ip}:${HTTP_PORT}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    return conditionOf([
      await visit(
        { clientNs: cl.ns, serverNs: srv.ns, serverIp: srv.ip },
        o,
        `${cl.ip}@knode1 → ${srv.ip}@knode2`,
        o.log,
      ),
    ]);
  } finally {
    await sweep(runner, o.prefix);
  }
}

/** Ends every process in the bench's kernel namespaces (the server, iperf3; also an earlier run's), then removes the namespaces. */
async function sweep(runner: CommandRunner, prefix: string): Promise<void> {
  await sweepNetns(runner, prefix);
}
