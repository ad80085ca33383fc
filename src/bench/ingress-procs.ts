import fs from 'node:fs';

/**
 * Processes and their CPU time, read from /proc, for `bench ingress`: what
 * each side of the comparison spent per request, and how busy the rest of
 * the lab's path was while it ran.
 */

/** CPU seconds a process has used so far, all its threads (utime + stime); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/** The direct children of `pid` (an nginx master's workers). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.split(') ')[1].split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

export function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** CPUs a process may run on, as the kernel reports them (Cpus_allowed_list: "1", "0-1"). */
export function allowedCpus(pid: number): string {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? m[1] : '?';
}

/**
 * A CPU meter over named groups of processes: start() reads their CPU
 * time, stop() returns each group's share of one core over the interval
 * (1.0: a whole core busy for the whole time).
 */
export class CpuMeter {
  private t0 = 0;
  private c0: Record<string, number> = {};

  constructor(private readonly groups: Record<string, () => number[]>) {}

  private read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pids] of Object.entries(this.groups)) out[name] = pids().reduce((s, p) => s + cpuSeconds(p), 0);
    return out;
  }

  start(): void {
    this.c0 = this.read();
    this.t0 = performance.now();
  }

  /** each group's CPU seconds since start() and its share of a core */
  stop(): Record<string, { cpuS: number; cores: number }> {
    const c1 = this.read();
    const wallS = (performance.now() - this.t0) / 1000;
    const out: Record<string, { cpuS: number; cores: number }> = {};
    for (const name of Object.keys(c1)) {
      const cpuS = Math.max(0, c1[name] - (this.c0[name] ?? 0));
      out[name] = { cpuS, cores: cpuS / wallS };
    }
    return out;
  }
}
