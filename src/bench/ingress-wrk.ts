import { execProcess } from '../host/index.js';

/**
 * wrk (Debian's, 4.1) for `bench ingress`: the argv, and its text output
 * read into numbers. wrk prints durations with a unit (`us`, `ms`, `s`,
 * `m`, `h`: format_time in its units.c) and adds the "Socket errors" and
 * "Non-2xx or 3xx responses" lines only when there were any.
 *
 * With `close`, each request carries `Connection: close`: the server
 * answers and closes, wrk connects again — over https every request is a
 * new TCP connection and a full TLS handshake (wrk keeps no session to
 * resume), so requests per second are handshakes per second. wrk starts a
 * request's latency clock when it writes the request, after the
 * handshake: those latencies leave the handshake out.
 */
export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  threads?: number;
  /** a new connection per request (`Connection: close`) */
  close?: boolean;
}

export interface WrkResult {
  rps: number;
  requests: number;
  /** the run's length as wrk measured it */
  seconds: number;
  avgMs: number;
  maxMs: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** responses that were not 2xx or 3xx */
  non2xx: number;
}

export class WrkOutputError extends Error {
  readonly code = 'WRK_OUTPUT';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}: ${output.trim().split('\n').slice(0, 4).join(' | ')}`);
    this.name = 'WrkOutputError';
  }
}

export function wrkArgv(o: WrkOptions): string[] {
  const argv = [
    'wrk',
    '-t',
    String(o.threads ?? 1),
    '-c',
    String(o.connections),
    '-d',
    `${o.seconds}s`,
    '--latency',
    '--timeout',
    '5s',
  ];
  if (o.close) argv.push('-H', 'Connection: close');
  argv.push(o.url);
  return argv;
}

const TIME_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** "456.00us" / "1.23ms" / "2.00s" / "1.00m" → milliseconds. */
export function wrkDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new WrkOutputError(`not a wrk duration "${text}"`, text);
  return m[2] === 'us' ? Number(m[1]) / 1000 : Number(m[1]) * TIME_MS[m[2]]; // divided: 471/1000 is 0.471, 471 * 1e-3 is not quite
}

export function parseWrk(out: string): WrkResult {
  const num = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(out);
    if (!m) throw new WrkOutputError(`no ${what} in wrk's output`, out);
    return m;
  };
  const rps = Number(num(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]);
  const total = num(/^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/m, 'request count');
  const lat = num(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m, 'latency line');
  const pct = (p: number) =>
    wrkDurationMs(num(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm'), `${p}% latency (was --latency given?)`)[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    rps,
    requests: Number(total[1]),
    seconds: wrkDurationMs(total[2]) / 1000,
    avgMs: wrkDurationMs(lat[1]),
    maxMs: wrkDurationMs(lat[3]),
    p50Ms: pct(50),
    p75Ms: pct(75),
    p90Ms: pct(90),
    p99Ms: pct(99),
    socketErrors: sock
      ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** All of a run's failures in one count (socket errors and non-2xx/3xx answers). */
export const wrkErrors = (r: WrkResult): number =>
  r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout + r.non2xx;

/**
 * Runs wrk pinned to `cpu` in namespace `ns` — through `ip netns exec`,
 * which also bind-mounts /etc/netns/<ns>/hosts, where the bench names its
 * targets (wrk sends the URL's host as the TLS SNI).
 */
export async function runWrk(ns: string, cpu: string, o: WrkOptions): Promise<WrkResult> {
  const r = await execProcess(['taskset', '-c', cpu, 'ip', 'netns', 'exec', ns, ...wrkArgv(o)], {
    reject: false,
    timeout: (o.seconds + 30) * 1000,
  });
  if (r.exitCode !== 0)
    throw new WrkOutputError(`wrk exited ${r.exitCode} (${String(r.stderr).trim()})`, String(r.stdout));
  return parseWrk(String(r.stdout));
}
