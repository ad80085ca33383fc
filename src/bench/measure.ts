import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from './errors.js';
import { execProcess, packagePath } from '../host/index.js';

/**
 * iperf3 TCP from one namespace to another; Gbit/s as the receiver counted
 * it. A run that ends without a result (iperf3 can exit 0 with only an
 * "error" in its JSON, e.g. when the one-off server went away) is tried again
 * with a fresh server, a few times.
 */
export async function iperfGbps(
  serverNs: string,
  clientNs: string,
  serverIp: string,
  seconds: number,
  port = 5299,
): Promise<number> {
  let out = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const server = execProcess(['ip', 'netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', String(port)], {
      reject: false,
    });
    try {
      for (let i = 0; i < 50; i++) {
        const r = await execProcess(
          ['ip', 'netns', 'exec', clientNs, 'iperf3', '-c', serverIp, '-p', String(port), '-t', String(seconds), '-J'],
          { reject: false },
        );
        out = String(r.stdout);
        if (r.exitCode === 0) {
          let bps: unknown;
          try {
            bps = JSON.parse(out)?.end?.sum_received?.bits_per_second;
          } catch {
            bps = undefined;
          }
          if (typeof bps === 'number') return bps / 1e9;
          break; // a run without a result: new server, new try
        }
        await new Promise((res) => setTimeout(res, 100)); // server not listening yet
      }
    } finally {
      server.kill();
      await server;
    }
  }
  throw new BenchError('ERR_NO_RESULT', `iperf3 gave no result: ${out.slice(0, 300)}`);
}

/** ping RTTs in microseconds (count probes at a 10 ms interval); returns the median. */
export async function pingP50Us(ns: string, ip: string, count = 200): Promise<number> {
  const r = await execProcess(
    ['ip', 'netns', 'exec', ns, 'ping', '-c', String(count), '-i', '0.01', '-q', '-W', '1', ip],
    {
      reject: false,
    },
  );
  if (r.exitCode !== 0) throw new BenchError('ERR_TOOL_FAILED', `ping ${ip} failed: ${r.stdout}`);
  // -q gives only the summary; rerun without it to collect per-probe times
  const full = await execProcess(
    ['ip', 'netns', 'exec', ns, 'ping', '-c', String(count), '-i', '0.01', '-W', '1', ip],
    {
      reject: false,
    },
  );
  const rtts = [...String(full.stdout).matchAll(/time=([\d.]+) ms/g)]
    .map((m) => Number(m[1]) * 1000)
    .sort((a, b) => a - b);
  if (!rtts.length) throw new BenchError('ERR_NO_RESULT', 'no RTT samples');
  return rtts[Math.floor(rtts.length / 2)];
}

const CONNECT_SOURCE = packagePath('src', 'bench', 'connect-latency.c');

/** Compiles connect-latency.c (src/bench) into `dir`; returns the binary's path. */
export async function buildConnectClient(dir: string): Promise<string> {
  const bin = path.join(dir, 'connect-latency');
  await execProcess(['cc', '-O2', '-Wall', '-o', bin, CONNECT_SOURCE]);
  return bin;
}

export interface ConnectLatency {
  p50Us: number;
  p99Us: number;
  /** connects that took ≥ 1 s: their first SYN (or SYN-ACK) was lost and TCP sent it again after its initial 1 s timeout */
  retransmitted: number;
  /** p99 of the others: the latency of a handshake that was not lost */
  p99FirstSynUs: number;
  samples: number;
  failures: number;
  /** connects whose source port an earlier sample of the run had used (a new flow on an old conntrack tuple, when the backend is the same) */
  portsReused: number;
}

/** TCP's initial retransmission timeout (RFC 6298): a connect this slow had its SYN lost. */
const SYN_RTO_US = 1_000_000;

/**
 * New-connection latency from namespace `ns` to random VIPs of `vips` on
 * `port` (SYN → SYN-ACK: connect() until writable), `samples` of them after
 * `warmup`, back to back. Percentiles by nearest rank.
 */
export async function connectLatency(
  bin: string,
  ns: string,
  vips: string[],
  port: number,
  samples: number,
  dir: string,
  warmup = 300,
): Promise<ConnectLatency> {
  const file = path.join(dir, `vips-${vips.length}.txt`);
  fs.writeFileSync(file, `${vips.join('\n')}\n`);
  const r = await execProcess(
    ['ip', 'netns', 'exec', ns, bin, file, String(port), String(samples), String(warmup), '12345'],
    { timeout: 600_000 },
  );
  const lines = String(r.stdout).split('\n').filter(Boolean);
  const ok = lines.filter((l) => !l.startsWith('fail')).map((l) => l.split(' ').map(Number));
  const us = ok.map(([t]) => t).sort((a, b) => a - b);
  const ports = new Set(ok.map(([, p]) => p));
  if (!us.length)
    throw new BenchError('ERR_NO_RESULT', `no connection succeeded from ${ns}: ${lines.slice(0, 3).join('; ')}`);
  const rank = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
  const firstSyn = us.filter((x) => x < SYN_RTO_US);
  return {
    p50Us: rank(us, 0.5),
    p99Us: rank(us, 0.99),
    retransmitted: us.length - firstSyn.length,
    p99FirstSynUs: firstSyn.length ? rank(firstSyn, 0.99) : NaN,
    samples: us.length,
    failures: lines.length - us.length,
    portsReused: ok.length - ports.size,
  };
}

/**
 * iperf3 to a pod directly and through its Service VIP, `rounds` times each,
 * taking turns; the best of each (the run other load disturbed least).
 */
export async function iperfDirectAndVip(
  serverNs: string,
  clientNs: string,
  podIp: string,
  vip: string,
  seconds: number,
  port: number,
  rounds = 3,
): Promise<{ direct: number; vip: number }> {
  let direct = 0;
  let viaVip = 0;
  for (let i = 0; i < rounds; i++) {
    direct = Math.max(direct, await iperfGbps(serverNs, clientNs, podIp, seconds, port));
    viaVip = Math.max(viaVip, await iperfGbps(serverNs, clientNs, vip, seconds, port));
  }
  return { direct, vip: viaVip };
}
