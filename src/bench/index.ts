import { benchOverlay } from './overlay.js';
import { benchCapture } from './capture.js';
import { benchScale } from './scale.js';
import { benchServices } from './services.js';
import { BenchError } from './errors.js';

const BENCHES: Record<string, () => Promise<unknown>> = {
  overlay: () => benchOverlay({ seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 8) }),
  capture: () => benchCapture({ seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 6) }),
  scale: () => benchScale(),
  dns: async () =>
    (await import('./dns.js')).benchDns({
      seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 8),
      services: Number(process.env.PODWIRE_BENCH_DNS_OBJECTS ?? 1000),
      pods: Number(process.env.PODWIRE_BENCH_DNS_OBJECTS ?? 1000),
    }),
  services: () =>
    benchServices({
      count: Number(process.env.PODWIRE_BENCH_SERVICES ?? 10_000),
      samples: Number(process.env.PODWIRE_BENCH_SAMPLES ?? 5000),
      seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 6),
    }),
  netpol: async () =>
    (await import('./netpol.js')).benchNetpol({
      count: Number(process.env.PODWIRE_BENCH_POLICIES ?? 1000),
      samples: Number(process.env.PODWIRE_BENCH_SAMPLES ?? 3000),
      seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 4),
      rounds: Number(process.env.PODWIRE_BENCH_ROUNDS ?? 2),
      visits: Number(process.env.PODWIRE_BENCH_VISITS ?? 2),
      changes: Number(process.env.PODWIRE_BENCH_CHANGES ?? 5),
    }),
  streams: async () =>
    (await import('./streams.js')).benchStreams({
      megabytes: Number(process.env.PODWIRE_BENCH_MB ?? 50),
      rounds: Number(process.env.PODWIRE_BENCH_ROUNDS ?? 3),
      samples: Number(process.env.PODWIRE_BENCH_SAMPLES ?? 40),
    }),
  restart: async () =>
    (await import('./restart.js')).benchRestart({
      rounds: Number(process.env.PODWIRE_BENCH_ROUNDS ?? 3),
      seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 4),
    }),
  ui: async () =>
    (await import('./ui.js')).benchUi({
      seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 8),
      rounds: Number(process.env.PODWIRE_BENCH_ROUNDS ?? 3),
    }),
  ingress: async () =>
    (await import('./ingress.js')).benchIngress({
      seconds: Number(process.env.PODWIRE_BENCH_SECONDS ?? 5),
      connections: Number(process.env.PODWIRE_BENCH_CONNECTIONS ?? 32),
      rounds: Number(process.env.PODWIRE_BENCH_ROUNDS ?? 3),
    }),
};

export async function runBench(name: string): Promise<void> {
  const bench = BENCHES[name];
  if (!bench)
    throw new BenchError('ERR_UNKNOWN_BENCH', `unknown benchmark "${name}" (have: ${Object.keys(BENCHES).join(', ')})`);
  await bench();
}
