import fs from 'node:fs';
import path from 'node:path';
import { CLI_ENTRY } from '../lab/index.js';
import { type ChildProcess, startProcess, execProcess, execaRunner, deleteNetnsWithPrefix } from '../host/index.js';
import { benchCorefile, dnsFixture, parseDnsperf, parseDnsperfLatencies, rank } from './dns-fixture.js';
import { BenchError } from './errors.js';

/**
 * `npm run bench -- dns`: podwire's cluster DNS server (`podwire coredns`,
 * what the kube-dns pods run) beside dnsmasq, in one run, in one network
 * namespace of its own (pwbdns-0, loopback only), on the same core budget:
 * each server pinned to CPU 1 with taskset, dnsperf and the shared upstream
 * on CPU 0.
 *
 *   1. queries per second, dnsperf at up to 100 queries outstanding, for
 *      cluster names (podwire: the kubernetes zone behind its cache, i.e.
 *      cache hits; dnsmasq: its hosts) and for forwarded names (both ask the
 *      same upstream — a third dnsmasq — for every query)
 *   2. latency p50/p99 at a fixed 2,000 queries/s (dnsperf -v: every query's
 *      latency), the same names
 *   3. RSS of each server with `services` Services (one endpoint each) and
 *      `pods` Pods loaded, after the runs; podwire's also with nothing
 *      loaded, so the cost per object shows
 *
 * Goals (the cluster DNS issue): ≥ 0.3 of dnsmasq's queries per second;
 * RSS ≤ 50 MB + 1 KB per Pod and Service (CoreDNS's published memory model).
 * PODWIRE_BENCH_SECONDS (each qps run, default 8), PODWIRE_BENCH_DNS_OBJECTS
 * (Services and Pods each, default 1000). Last line `RESULT dns {…}`.
 */
export interface DnsBenchOptions {
  seconds?: number;
  services?: number;
  pods?: number;
  log?: (m: string) => void;
}

const PREFIX = 'pwbdns';
const NS = `${PREFIX}-0`;
const SERVER_CPU = '1';
const CLIENT_CPU = '0';
const PORTS = { podwire: 5300, dnsmasq: 5301, upstream: 5302 };
const LATENCY_QPS = 2000;

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** A command pinned to `cpu`, inside the bench namespace (nsenter execs: the PID is the command's). */
const pinned = (cpu: string, argv: string[]) => [
  'taskset',
  '-c',
  cpu,
  'nsenter',
  `--net=/run/netns/${NS}`,
  '--',
  ...argv,
];

interface Proc {
  pid: number | undefined;
  child: ChildProcess;
  exited: Promise<void>;
}

function start(argv: string[], logFile: string): Proc {
  const fd = fs.openSync(logFile, 'a');
  const child = startProcess(argv, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => resolve());
    child.on('error', () => resolve());
  });
  return { pid: child.pid, child, exited };
}

async function dnsperf(port: number, file: string, args: string[]): Promise<string> {
  const [bin, ...argv] = pinned(CLIENT_CPU, ['dnsperf', '-s', '127.0.0.1', '-p', String(port), '-d', file, ...args]);
  const r = await execProcess([bin, ...argv], {
    reject: false,
    timeout: 120_000,
    maxBuffer: 256 << 20,
  });
  if (r.exitCode !== 0)
    throw new BenchError(
      'ERR_TOOL_FAILED',
      `dnsperf on port ${port} failed: ${String(r.stderr || r.stdout).slice(0, 400)}`,
    );
  return String(r.stdout);
}

/** Wait until the server on `port` answers `name` (deadline), as a client would find out. */
async function waitAnswering(port: number, file: string, what: string, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const out = await dnsperf(port, file, ['-n', '1', '-t', '1']).catch(() => '');
    if (/Response codes:\s+NOERROR/.test(out)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new BenchError('ERR_NO_ANSWER', `${what} did not answer on port ${port} within ${deadlineMs / 1000} s`);
}

function rssMb(pid: number | undefined): { rss: number; hwm: number } {
  const status = pid ? fs.readFileSync(`/proc/${pid}/status`, 'utf8') : '';
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function stop(p: Proc | undefined): Promise<void> {
  if (!p?.pid || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 5000);
  await p.exited;
  clearTimeout(t);
}

interface Figures {
  qps: number;
  lost: number;
  p50Ms: number;
  p99Ms: number;
}

async function measure(port: number, file: string, seconds: number): Promise<Figures> {
  await dnsperf(port, file, ['-l', '2', '-q', '100']); // warm-up: JIT, caches, sockets
  const load = parseDnsperf(await dnsperf(port, file, ['-l', String(seconds), '-q', '100']));
  const lat = parseDnsperfLatencies(
    await dnsperf(port, file, ['-l', '4', '-Q', String(LATENCY_QPS), '-q', '20', '-v']),
  );
  return { qps: load.qps, lost: load.lost, p50Ms: rank(lat, 0.5), p99Ms: rank(lat, 0.99) };
}

export async function benchDns(opts: DnsBenchOptions = {}): Promise<Record<string, number | boolean>> {
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const seconds = opts.seconds ?? 8;
  const services = opts.services ?? 1000;
  const pods = opts.pods ?? 1000;
  const runner = execaRunner();
  const dir = fs.mkdtempSync('/tmp/pwbdns-');
  const f = (name: string) => path.join(dir, name);
  const fx = dnsFixture(services, pods);
  fs.writeFileSync(f('objects.json'), JSON.stringify(fx.objects));
  fs.writeFileSync(f('empty.json'), '[]');
  fs.writeFileSync(f('hosts'), fx.hosts);
  fs.writeFileSync(f('upstream-hosts'), fx.upstreamHosts);
  fs.writeFileSync(f('cluster.txt'), fx.clusterQueries);
  fs.writeFileSync(f('forward.txt'), fx.forwardQueries);
  fs.writeFileSync(f('Corefile'), benchCorefile(PORTS.podwire, `127.0.0.1:${PORTS.upstream}`));
  const dnsmasq = (port: number, hosts: string, extra: string[]) => [
    'dnsmasq',
    '-k',
    '--log-facility=-',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hosts}`,
    '--cache-size=0',
    '--local-ttl=30',
    '--dns-forward-max=1000',
    '--user=root',
    '--pid-file=',
    ...extra,
  ];
  const procs: Proc[] = [];
  const out: Record<string, number | boolean> = {};
  await deleteNetnsWithPrefix(runner, PREFIX);
  try {
    await runner.run(['ip', 'netns', 'add', NS]);
    await runner.run(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
    const upstream = start(pinned(CLIENT_CPU, dnsmasq(PORTS.upstream, f('upstream-hosts'), [])), f('upstream.log'));
    procs.push(upstream);
    await waitAnswering(PORTS.upstream, f('forward.txt'), 'the upstream dnsmasq');

    // podwire with nothing loaded: its baseline memory
    const empty = start(
      pinned(SERVER_CPU, [
        process.execPath,
        CLI_ENTRY,
        'coredns',
        '--conf',
        f('Corefile'),
        '--zone-fixture',
        f('empty.json'),
      ]),
      f('podwire-empty.log'),
    );
    procs.push(empty);
    await waitAnswering(PORTS.podwire, f('forward.txt'), 'podwire coredns (empty)');
    const emptyRss = rssMb(empty.pid);
    await stop(empty);

    const results: Record<
      'podwire' | 'dnsmasq',
      { cluster: Figures; forward: Figures; idle: number; rss: number; hwm: number }
    > = {} as never;
    for (const which of ['podwire', 'dnsmasq'] as const) {
      const port = PORTS[which];
      const argv =
        which === 'podwire'
          ? [process.execPath, CLI_ENTRY, 'coredns', '--conf', f('Corefile'), '--zone-fixture', f('objects.json')]
          : dnsmasq(port, f('hosts'), [`--server=127.0.0.1#${PORTS.upstream}`]);
      const p = start(pinned(SERVER_CPU, argv), f(`${which}.log`));
      procs.push(p);
      await waitAnswering(port, f('cluster.txt'), which);
      const idle = rssMb(p.pid);
      log(
        `${which} (pinned to CPU ${SERVER_CPU}; dnsperf on CPU ${CLIENT_CPU}), ${services} Services and ${pods} Pods loaded: RSS ${r1(idle.rss)} MB before any load`,
      );
      const cluster = await measure(port, f('cluster.txt'), seconds);
      log(
        `  cluster names (cache hits):  ${Math.round(cluster.qps)} queries/s (${cluster.lost} lost); at ${LATENCY_QPS}/s p50 ${r3(cluster.p50Ms)} ms, p99 ${r3(cluster.p99Ms)} ms`,
      );
      const forward = await measure(port, f('forward.txt'), seconds);
      log(
        `  forwarded names (upstream):  ${Math.round(forward.qps)} queries/s (${forward.lost} lost); at ${LATENCY_QPS}/s p50 ${r3(forward.p50Ms)} ms, p99 ${r3(forward.p99Ms)} ms`,
      );
      const mem = rssMb(p.pid);
      log(`  RSS after the runs ${r1(mem.rss)} MB (peak ${r1(mem.hwm)} MB)`);
      results[which] = { cluster, forward, idle: idle.rss, ...mem };
      await stop(p);
    }
    const pw = results.podwire;
    const dm = results.dnsmasq;
    const objects = services + pods;
    const goalRssMb = 50 + objects / 1024;
    // the objects' cost: loaded and idle against empty and idle (traffic's garbage left out)
    const perObjectKb = ((pw.idle - emptyRss.rss) * 1024) / objects;
    Object.assign(out, {
      podwire_cluster_qps: Math.round(pw.cluster.qps),
      dnsmasq_cluster_qps: Math.round(dm.cluster.qps),
      cluster_qps_ratio: r3(pw.cluster.qps / dm.cluster.qps),
      podwire_forward_qps: Math.round(pw.forward.qps),
      dnsmasq_forward_qps: Math.round(dm.forward.qps),
      forward_qps_ratio: r3(pw.forward.qps / dm.forward.qps),
      podwire_cluster_p50_ms: r3(pw.cluster.p50Ms),
      podwire_cluster_p99_ms: r3(pw.cluster.p99Ms),
      dnsmasq_cluster_p50_ms: r3(dm.cluster.p50Ms),
      dnsmasq_cluster_p99_ms: r3(dm.cluster.p99Ms),
      podwire_forward_p50_ms: r3(pw.forward.p50Ms),
      podwire_forward_p99_ms: r3(pw.forward.p99Ms),
      dnsmasq_forward_p50_ms: r3(dm.forward.p50Ms),
      dnsmasq_forward_p99_ms: r3(dm.forward.p99Ms),
      podwire_lost: pw.cluster.lost + pw.forward.lost,
      dnsmasq_lost: dm.cluster.lost + dm.forward.lost,
      podwire_rss_idle_mb: r1(pw.idle),
      podwire_rss_mb: r1(pw.rss),
      podwire_rss_peak_mb: r1(pw.hwm),
      podwire_rss_empty_mb: r1(emptyRss.rss),
      podwire_kb_per_object: r1(perObjectKb),
      dnsmasq_rss_idle_mb: r1(dm.idle),
      dnsmasq_rss_mb: r1(dm.rss),
      objects,
      rss_goal_mb: r1(goalRssMb),
      qps_goal_met: pw.cluster.qps / dm.cluster.qps >= 0.3 && pw.forward.qps / dm.forward.qps >= 0.3,
      rss_goal_met: pw.rss <= goalRssMb,
    });
    log(
      `podwire / dnsmasq queries per second: cluster names ${out.cluster_qps_ratio}, forwarded names ${out.forward_qps_ratio} (goal ≥ 0.3)`,
    );
    log(
      `podwire RSS ${out.podwire_rss_idle_mb} MB with ${objects} objects loaded, ${out.podwire_rss_mb} MB after the runs (${out.podwire_rss_empty_mb} MB empty: ${out.podwire_kb_per_object} KB per object); goal ≤ ${out.rss_goal_mb} MB`,
    );
  } finally {
    for (const p of procs) await stop(p).catch(() => {});
    await deleteNetnsWithPrefix(runner, PREFIX);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`RESULT dns ${JSON.stringify(out)}`);
  return out;
}
