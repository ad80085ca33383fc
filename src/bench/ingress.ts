import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execProcess, execaRunner, netnsPids } from '../host/index.js';
import { HOSTS, withIngressLab, type IngressBenchLab } from './ingress-lab.js';
import { startNginx, type NginxRun } from './ingress-nginx-run.js';
import { allowedCpus, CpuMeter } from './ingress-procs.js';
import { runWrk, wrkErrors } from './ingress-wrk.js';
import { ingressFigures, proxyFigures, type Kind, type Run, type Side } from './ingress-figures.js';
import { ceilingRuns } from './ingress-ceiling.js';
import { makeSelfSigned } from '../ingress/index.js';
import { BenchError } from './errors.js';

/**
 * `npm run bench -- ingress`: podwire's ingress controller beside Debian's
 * nginx as the same reverse proxy, and beside no proxy at all, in one lab
 * and one run (ingress-lab.ts). From the outside client, with wrk:
 *
 *   - direct: the backend Service's EXTERNAL-IP (cloud LB → node → pod);
 *   - podwire: the controller's EXTERNAL-IP → controller pod → the
 *     backend's ClusterIP → backend pod;
 *   - nginx: nginx-proxy's EXTERNAL-IP → nginx in a pod on the
 *     controller's node → the same ClusterIP → the same pod;
 *
 * each over HTTP keep-alive, HTTPS keep-alive, and HTTPS with a new
 * connection (a full TLS handshake) per request. Same core budget: the
 * controller process (all its threads) and nginx (master and its one
 * worker) are pinned to CPU 1 with taskset, wrk to CPU 0; the lab's own
 * processes (agents, cloud LB, backend) are left to the scheduler — they
 * carry every packet of all three paths alike. `rounds` rounds, the two
 * proxies taking turns first; the best round each. The proxies' CPU per
 * request is measured beside (their /proc CPU time over the run).
 *
 * In the lab neither proxy fills its core (the userspace path and the
 * shared machine set the pace), so then the same pair once more with the
 * proxy's core the limit: each proxy alone on CPU 1 in a namespace of the
 * bench's own, wrk and the backend on loopback on CPU 0
 * (ingress-ceiling.ts; `ceiling_*` in the RESULT).
 *
 * Env: PODWIRE_BENCH_SECONDS (per wrk run, 5), PODWIRE_BENCH_CONNECTIONS
 * (wrk's, 32), PODWIRE_BENCH_ROUNDS (3). About 4 minutes with the
 * defaults. Last line: `RESULT ingress {...}`.
 */
export interface IngressBenchOptions {
  seconds?: number;
  connections?: number;
  rounds?: number;
  log?: (m: string) => void;
}

const PREFIX = 'pwbing';
const KINDS: Kind[] = ['http', 'https', 'handshake'];

async function need(tools: string[]): Promise<void> {
  const missing: string[] = [];
  for (const t of tools)
    if ((await execProcess(['sh', '-c', `command -v ${t}`], { reject: false })).exitCode !== 0) missing.push(t);
  if (missing.length)
    throw new BenchError(
      'ERR_SETUP',
      `bench ingress needs ${missing.join(', ')} (Debian's wrk and nginx-light, util-linux: run scripts/setup)`,
    );
}

const url = (side: Side, kind: Kind) => `${kind === 'http' ? 'http' : 'https'}://${HOSTS[side]}/`;

/** Until every target answers 200 through its path from the client (the routes compiled, nginx up, the LB's health checks passed). */
async function untilAnswering(clientNs: string, targets: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const t of targets) {
    for (let last = ''; ;) {
      const r = await execProcess(
        ['ip', 'netns', 'exec', clientNs, 'curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', t],
        { reject: false },
      );
      if ((last = String(r.stdout)) === '200') break;
      if (Date.now() > deadline)
        throw new BenchError('ERR_NO_ANSWER', `${t} does not answer 200 from the client (last: ${last || r.stderr})`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }
}

export async function benchIngress(opts: IngressBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const seconds = opts.seconds ?? 5;
  const connections = opts.connections ?? 32;
  const rounds = opts.rounds ?? 3;
  await need(['wrk', 'nginx', 'taskset', 'nsenter', 'curl']);
  // one core for the proxy under test, the other for wrk (a 1-CPU machine: both on 0, said in the RESULT)
  const proxyCpu = os.cpus().length > 1 ? '1' : '0';
  const wrkCpu = '0';
  const dir = fs.mkdtempSync('/tmp/pwbing-');
  let out: Record<string, unknown> = {};
  try {
    log(
      `podwire: 2 nodes + control plane + outside + the ingress add-on; Debian's nginx in a pod beside the controller; wrk -c ${connections}, ${seconds} s a run, ${rounds} rounds`,
    );
    // the machine's 1-minute load average before and after: how shared the two cores were
    const loadBefore = os.loadavg()[0];
    out = await withIngressLab(PREFIX, log, async (lab) =>
      measure(lab, { seconds, connections, rounds, proxyCpu, wrkCpu, dir, log }),
    );
    log(
      `proxy-bound: each proxy alone on CPU ${proxyCpu} in a namespace of the bench's own, wrk and the backend on loopback on CPU ${wrkCpu} (no agents, no cloud LB)`,
    );
    const pair = await makeSelfSigned(HOSTS.podwire, [HOSTS.podwire, HOSTS.nginx]);
    const c = proxyFigures(
      await ceilingRuns({ seconds, connections, rounds, proxyCpu, wrkCpu, dir, pair, log }),
      'ceiling_',
    );
    log(
      `  podwire/nginx requests per second with the proxy's core the limit: HTTP ${c.ceiling_http_rps_ratio} (goal ≥ 0.5), HTTPS ${c.ceiling_https_rps_ratio}, new TLS connections ${c.ceiling_handshake_ratio}; CPU per request podwire ${c.ceiling_podwire_http_cpu_us_per_req} µs, nginx ${c.ceiling_nginx_http_cpu_us_per_req} µs (HTTP)`,
    );
    out = {
      ...out,
      ...c,
      load_avg_before: Math.round(loadBefore * 10) / 10,
      load_avg_after: Math.round(os.loadavg()[0] * 10) / 10,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`RESULT ingress ${JSON.stringify(out)}`);
  return out;
}

interface MeasureOptions {
  seconds: number;
  connections: number;
  rounds: number;
  proxyCpu: string;
  wrkCpu: string;
  dir: string;
  log: (m: string) => void;
}

async function measure(lab: IngressBenchLab, o: MeasureOptions): Promise<Record<string, unknown>> {
  const { log } = o;
  let nginx: NginxRun | null = null;
  try {
    nginx = await startNginx({
      ns: lab.nginxPod.ns,
      dir: path.join(o.dir, 'nginx'),
      upstream: `${lab.backend.clusterIp}:80`,
      cert: lab.pair.cert,
      key: lab.pair.key,
      cpu: o.proxyCpu,
    });
    await execProcess(['taskset', '-a', '-p', '-c', o.proxyCpu, String(lab.controller.pid)]);
    const ngx = nginx;
    log(
      `  pinned: controller pid ${lab.controller.pid} to CPU ${allowedCpus(lab.controller.pid)}, nginx ${ngx.pids().join(', ')} to CPU ${ngx.pids().map(allowedCpus).join(', ')}; wrk to CPU ${o.wrkCpu}`,
    );
    await untilAnswering(lab.clientNs, [
      url('direct', 'http'),
      ...(['podwire', 'nginx'] as const).flatMap((s) => [url(s, 'http'), url(s, 'https')]),
    ]);

    const backendPids = await netnsPids(execaRunner(), lab.backend.ns);
    const agents = Object.values(lab.state.agents).filter((p): p is number => !!p);
    const cloudLb = lab.state.outside?.cloudLb;
    const meter = (side: Side) =>
      new CpuMeter({
        proxy: () => (side === 'podwire' ? [lab.controller.pid] : side === 'nginx' ? ngx.pids() : []),
        agents: () => agents,
        cloudlb: () => (cloudLb ? [cloudLb] : []),
        backend: () => backendPids,
      });
    const once = async (side: Side, kind: Kind, secs: number) => {
      const m = meter(side);
      m.start();
      const wrk = await runWrk(lab.clientNs, o.wrkCpu, {
        url: url(side, kind),
        connections: o.connections,
        seconds: secs,
        close: kind === 'handshake',
      });
      return { wrk, cpu: m.stop() };
    };

    // warm-up, not counted: JIT, upstream pools, the agents' flows
    for (const side of ['direct', 'podwire', 'nginx'] as const)
      for (const kind of side === 'direct' ? (['http'] as const) : KINDS) await once(side, kind, 2);

    // what each proxy spends with no traffic (the controller's watches, probes, leader lease): part of its per-request figure
    const idle = { podwire: meter('podwire'), nginx: meter('nginx') };
    idle.podwire.start();
    idle.nginx.start();
    await new Promise((res) => setTimeout(res, 3000));
    const idleCores = { podwire: idle.podwire.stop().proxy.cores, nginx: idle.nginx.stop().proxy.cores };
    log(`  idle: the controller ${idleCores.podwire.toFixed(3)} of a core, nginx ${idleCores.nginx.toFixed(3)}`);

    const runs: Run[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const order: Side[] = round % 2 ? ['podwire', 'nginx'] : ['nginx', 'podwire'];
      const plan: [Side, Kind][] = [
        ['direct', 'http'],
        ...KINDS.flatMap((k) => order.map((s): [Side, Kind] => [s, k])),
      ];
      for (const [side, kind] of plan) {
        const r = { side, kind, round, ...(await once(side, kind, o.seconds)) };
        runs.push(r);
        const c = r.cpu;
        const errs = wrkErrors(r.wrk);
        log(
          `  round ${round} ${side.padEnd(7)} ${kind.padEnd(9)} ${Math.round(r.wrk.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${r.wrk.p50Ms.toFixed(2)} ms  p99 ${r.wrk.p99Ms.toFixed(2)} ms${errs ? `  ${errs} errors` : ''}  | cores: proxy ${c.proxy.cores.toFixed(2)}, agents ${c.agents.cores.toFixed(2)}, cloud LB ${c.cloudlb.cores.toFixed(2)}, backend ${c.backend.cores.toFixed(2)}`,
        );
      }
    }
    const f = ingressFigures(runs);
    log(
      `  podwire/nginx requests per second on one core each: HTTP ${f.http_rps_ratio} (goal ≥ 0.5), HTTPS ${f.https_rps_ratio}, new TLS connections ${f.handshake_ratio}; CPU per request: podwire ${f.podwire_http_cpu_us_per_req} µs, nginx ${f.nginx_http_cpu_us_per_req} µs (HTTP); through podwire ${f.podwire_vs_direct} and nginx ${f.nginx_vs_direct} of the direct path's req/s`,
    );
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    return {
      ...f,
      podwire_idle_cores: r3(idleCores.podwire),
      nginx_idle_cores: r3(idleCores.nginx),
      connections: o.connections,
      seconds: o.seconds,
      rounds: o.rounds,
      proxy_cpu: Number(o.proxyCpu),
      wrk_cpu: Number(o.wrkCpu),
    };
  } finally {
    await nginx?.stop();
  }
}
