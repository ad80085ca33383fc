import fs from 'node:fs';
import { execaRunner, deleteNetnsWithPrefix, cmd } from '../host/index.js';
import { labUp, labDown, waitFor, readLabState } from '../lab/index.js';
import { ApiClient } from '../control/client/index.js';

/**
 * `podwire bench scale`: time from applying a Deployment to all its pods
 * Ready, for 3 nodes × 30 pods and 10 nodes × 50 pods, and the API
 * server's memory. Beside it, the kernel-only equivalent: the same number of
 * pod sandboxes made directly with `ip` (netns, veth on a bridge, address,
 * route — what a CNI plugin does, without any control plane, scheduler or
 * containers), so the ratio shows what the control plane costs on top.
 * Last line: `RESULT scale {...}`.
 */
const IMAGE = 'busybox'; // no command: podwire's pause workload (one small process per container)

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

async function kernelSandboxesSeconds(total: number): Promise<number> {
  const runner = execaRunner();
  const p = 'pwbenchsk';
  await deleteNetnsWithPrefix(runner, p);
  const host = `${p}-host`;
  const t0 = performance.now();
  try {
    await runner.run(cmd.netnsAdd(host));
    await runner.run(cmd.bridgeAdd(host, 'br0'));
    await runner.run(cmd.linkUp(host, 'br0'));
    for (let i = 0; i < total; i++) {
      const ns = `${p}-pod${i}`;
      const v = `v${i}`;
      await runner.run(cmd.netnsAdd(ns));
      await runner.run(cmd.vethAdd(host, v, 'eth0', ns));
      await runner.run(cmd.linkSet(host, v, 'master', 'br0'));
      await runner.run(cmd.linkUp(host, v));
      await runner.run(cmd.linkUp(ns, 'eth0'));
      await runner.run(cmd.addrAdd(ns, `10.${100 + Math.floor(i / 250)}.${i % 250}.2/16`, 'eth0'));
      await runner.run(cmd.routeReplace(ns, 'default', 'dev', 'eth0'));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await deleteNetnsWithPrefix(runner, p);
  }
}

async function podwireScale(
  nodes: number,
  podsPerNode: number,
  log: (m: string) => void,
): Promise<{ seconds: number; apiserverMiB: number; agentMiB: number }> {
  const prefix = `pwbsc${nodes}`;
  const total = nodes * podsPerNode;
  try {
    const state = await labUp({ prefix, nodes, controlPlane: true, log: () => {} });
    const client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
    const t0 = performance.now();
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'scale', namespace: 'default' },
      spec: {
        replicas: total,
        selector: { matchLabels: { app: 'scale' } },
        template: { metadata: { labels: { app: 'scale' } }, spec: { containers: [{ name: 'c', image: IMAGE }] } },
      },
    });
    let last = 0;
    await waitFor(
      `${total} pods Ready`,
      900_000,
      async () => {
        const d = await client.get('deployments', 'default', 'scale');
        const ready = d.status?.readyReplicas ?? 0;
        if (ready - last >= total / 5) {
          log(`    ${ready}/${total} ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          last = ready;
        }
        return ready === total;
      },
      250,
    );
    const seconds = (performance.now() - t0) / 1000;
    const st = readLabState(prefix)!;
    const apiserverMiB = rssMiB(st.apiserver!);
    const agentMiB = Math.max(...Object.values(st.agents).map(rssMiB));
    client.close();
    return { seconds, apiserverMiB, agentMiB };
  } finally {
    await labDown({ prefix });
  }
}

export async function benchScale(
  opts: { log?: (m: string) => void; shapes?: [number, number][] } = {},
): Promise<Record<string, number>> {
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const shapes = opts.shapes ?? [
    [3, 30],
    [10, 50],
  ];
  const out: Record<string, number> = {};
  for (const [nodes, per] of shapes) {
    const total = nodes * per;
    log(`kernel only: ${total} pod sandboxes made with ip (no control plane)`);
    const k = await kernelSandboxesSeconds(total);
    log(`  ${k.toFixed(1)} s`);
    log(`podwire: Deployment of ${total} pods on ${nodes} nodes, apply → all Ready`);
    const r = await podwireScale(nodes, per, log);
    log(
      `  ${r.seconds.toFixed(1)} s; apiserver RSS ${r.apiserverMiB} MiB, largest agent RSS ${r.agentMiB} MiB; ratio ${(r.seconds / k).toFixed(2)}`,
    );
    const tag = `${nodes}x${per}`;
    out[`s_${tag}`] = Math.round(r.seconds * 10) / 10;
    out[`kernel_s_${tag}`] = Math.round(k * 10) / 10;
    out[`ratio_${tag}`] = Math.round((r.seconds / k) * 100) / 100;
    out[`apiserver_mib_${tag}`] = r.apiserverMiB;
    out[`agent_mib_${tag}`] = r.agentMiB;
  }
  log(`RESULT scale ${JSON.stringify(out)}`);
  return out;
}
