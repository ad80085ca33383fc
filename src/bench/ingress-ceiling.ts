import fs from 'node:fs';
import path from 'node:path';
import { type ChildProcess, startProcess, execProcess, execaRunner, sweepNetns, packagePath } from '../host/index.js';
import { netnsEtcDir } from '../lab/index.js';
import { WORKLOAD_BIN } from '../kubelet/index.js';
import type { PemPair } from '../ingress/index.js';
import { startNginx, type NginxRun } from './ingress-nginx-run.js';
import { CpuMeter } from './ingress-procs.js';
import { runWrk } from './ingress-wrk.js';
import type { Kind, Run, Side } from './ingress-figures.js';
import { BenchError } from './errors.js';

/**
 * The proxy-bound half of `bench ingress`: in the lab every request also
 * crosses the cloud load balancer and two agents, userspace all, on a
 * shared 2-core machine, and neither proxy fills its core — so there the
 * path, not the proxy, sets the rate. Here nothing else is in the way: one
 * network namespace of the bench's own (`pwbingc`, loopback only), the
 * backend (the same built-in nginx workload the lab's backend pod runs) on
 * 127.0.0.1:8080 and wrk on CPU 0, and each proxy pinned to CPU 1 in turn:
 * podwire's proxy as the controller runs it (ingress-engine-main.ts, the
 * same Ingress compiled, the same per-request log, metrics and event) on
 * :80/:443, Debian's nginx with the same config on :8081/:8444.
 */
const NS = 'pwbingc';
const PORTS = { podwire: { http: 80, https: 443 }, nginx: { http: 8081, https: 8444 } } as const;
const BACKEND_PORT = 8080;
const ENGINE = packagePath('dist', 'bench', 'ingress-engine-main.js');

export interface CeilingOptions {
  seconds: number;
  connections: number;
  rounds: number;
  proxyCpu: string;
  wrkCpu: string;
  dir: string;
  pair: PemPair;
  log: (m: string) => void;
}

export const ceilingUrl = (side: 'podwire' | 'nginx', kind: Kind): string =>
  `${kind === 'http' ? 'http' : 'https'}://${side}.bench.test:${PORTS[side][kind === 'http' ? 'http' : 'https']}/`;

/** What podwire's proxy compiles: the lab's Ingress, its class and Secret, the Service's "ClusterIP" the loopback backend. */
export function engineObjects(pair: PemPair): Record<string, unknown> {
  const ns = 'ingbench';
  return {
    namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }],
    ingressClasses: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
        spec: { controller: 'k8s.io/ingress-nginx' },
      },
    ],
    services: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'backend', namespace: ns },
        spec: { clusterIP: '127.0.0.1', ports: [{ port: BACKEND_PORT, targetPort: BACKEND_PORT, protocol: 'TCP' }] },
      },
    ],
    secrets: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'bench-tls', namespace: ns },
        type: 'kubernetes.io/tls',
        data: {
          'tls.crt': Buffer.from(pair.cert).toString('base64'),
          'tls.key': Buffer.from(pair.key).toString('base64'),
        },
      },
    ],
    ingresses: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: {
          name: 'bench',
          namespace: ns,
          creationTimestamp: new Date(0).toISOString(),
          annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' },
        },
        spec: {
          ingressClassName: 'nginx',
          tls: [{ hosts: ['podwire.bench.test'], secretName: 'bench-tls' }],
          rules: [
            {
              host: 'podwire.bench.test',
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'backend', port: { number: BACKEND_PORT } } },
                  },
                ],
              },
            },
          ],
        },
      },
    ],
  };
}

/** Removes the namespace and first every process in it (only the bench's own run there). */
async function sweep(): Promise<void> {
  await sweepNetns(execaRunner(), NS);
}

function spawnPinned(cpu: string, argv: string[], logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = startProcess(['taskset', '-c', cpu, 'nsenter', `--net=/run/netns/${NS}`, '--', ...argv], {
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  child.on('error', () => {});
  return child;
}

async function untilAnswering(urls: string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const u of urls) {
    for (;;) {
      const r = await execProcess(
        ['ip', 'netns', 'exec', NS, 'curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', u],
        { reject: false },
      );
      if (String(r.stdout) === '200') break;
      if (Date.now() > deadline)
        throw new BenchError('ERR_NO_ANSWER', `${u} does not answer 200 in ${NS} (${r.stdout || r.stderr})`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

export async function ceilingRuns(o: CeilingOptions): Promise<Run[]> {
  const etc = netnsEtcDir(NS);
  const children: ChildProcess[] = [];
  let nginx: NginxRun | null = null;
  await sweep();
  try {
    await execaRunner().run(['ip', 'netns', 'add', NS]);
    await execaRunner().run(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'hosts'), '127.0.0.1 localhost podwire.bench.test nginx.bench.test\n');
    const backend = spawnPinned(
      o.wrkCpu,
      [WORKLOAD_BIN, 'http', '--ports', String(BACKEND_PORT), '--server', 'nginx'],
      path.join(o.dir, 'backend.log'),
    );
    children.push(backend);
    const input = path.join(o.dir, 'engine.json');
    fs.writeFileSync(
      input,
      JSON.stringify({
        objects: engineObjects(o.pair),
        certificate: o.pair,
        httpPort: PORTS.podwire.http,
        httpsPort: PORTS.podwire.https,
      }),
    );
    const engine = spawnPinned(o.proxyCpu, [process.execPath, ENGINE, input], path.join(o.dir, 'engine.log'));
    children.push(engine);
    nginx = await startNginx({
      ns: NS,
      dir: path.join(o.dir, 'nginx-ceiling'),
      upstream: `127.0.0.1:${BACKEND_PORT}`,
      cert: o.pair.cert,
      key: o.pair.key,
      cpu: o.proxyCpu,
      httpPort: PORTS.nginx.http,
      httpsPort: PORTS.nginx.https,
    });
    const ngx = nginx;
    await untilAnswering(
      (['podwire', 'nginx'] as const).flatMap((s) => [ceilingUrl(s, 'http'), ceilingUrl(s, 'https')]),
    );

    const kinds: Kind[] = ['http', 'https', 'handshake'];
    const once = async (side: 'podwire' | 'nginx', kind: Kind, secs: number) => {
      const m = new CpuMeter({
        proxy: () => (side === 'podwire' ? [engine.pid!] : ngx.pids()),
        backend: () => [backend.pid!],
      });
      m.start();
      const wrk = await runWrk(NS, o.wrkCpu, {
        url: ceilingUrl(side, kind),
        connections: o.connections,
        seconds: secs,
        close: kind === 'handshake',
      });
      return { wrk, cpu: m.stop() };
    };
    for (const side of ['podwire', 'nginx'] as const) for (const kind of kinds) await once(side, kind, 2); // warm-up
    const runs: Run[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const order: ('podwire' | 'nginx')[] = round % 2 ? ['podwire', 'nginx'] : ['nginx', 'podwire'];
      for (const kind of kinds) {
        for (const side of order) {
          const r: Run = { side: side as Side, kind, round, ...(await once(side, kind, o.seconds)) };
          runs.push(r);
          o.log(
            `  round ${round} ${side.padEnd(7)} ${kind.padEnd(9)} ${Math.round(r.wrk.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${r.wrk.p50Ms.toFixed(2)} ms  p99 ${r.wrk.p99Ms.toFixed(2)} ms  | cores: proxy ${r.cpu.proxy.cores.toFixed(2)}, backend ${r.cpu.backend.cores.toFixed(2)}`,
          );
        }
      }
    }
    return runs;
  } finally {
    await nginx?.stop();
    for (const c of children) c.kill('SIGTERM');
    await sweep();
    fs.rmSync(path.join(etc, 'hosts'), { force: true });
    try {
      fs.rmdirSync(etc);
    } catch {
      /* absent */
    }
  }
}
