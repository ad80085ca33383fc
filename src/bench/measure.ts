import { execa } from 'execa';

/**
 * iperf3 TCP from one namespace to another; Gbit/s as the receiver counted
 * it. A run that ends without a result (iperf3 can exit 0 with only an
 * "error" in its JSON, e.g. when the one-off server went away) is tried again
 * with a fresh server, a few times.
 */
export async function iperfGbps(serverNs: string, clientNs: string, serverIp: string, seconds: number, port = 5299): Promise<number> {
  let out = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const server = execa('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', String(port)], { reject: false });
    try {
      for (let i = 0; i < 50; i++) {
        const r = await execa('ip', ['netns', 'exec', clientNs, 'iperf3', '-c', serverIp, '-p', String(port), '-t', String(seconds), '-J'], { reject: false });
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
  throw new Error(`iperf3 gave no result: ${out.slice(0, 300)}`);
}

/** ping RTTs in microseconds (count probes at a 10 ms interval); returns the median. */
export async function pingP50Us(ns: string, ip: string, count = 200): Promise<number> {
  const r = await execa('ip', ['netns', 'exec', ns, 'ping', '-c', String(count), '-i', '0.01', '-q', '-W', '1', ip], { reject: false });
  if (r.exitCode !== 0) throw new Error(`ping ${ip} failed: ${r.stdout}`);
  // -q gives only the summary; rerun without it to collect per-probe times
  const full = await execa('ip', ['netns', 'exec', ns, 'ping', '-c', String(count), '-i', '0.01', '-W', '1', ip], { reject: false });
  const rtts = [...String(full.stdout).matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  if (!rtts.length) throw new Error('no RTT samples');
  return rtts[Math.floor(rtts.length / 2)];
}
