import { Command } from 'commander';
import { registerCorednsCommand } from './coredns.js';

/**
 * The slim entry for `podwire coredns` (bin/podwire.js picks it): a kube-dns
 * pod runs only the DNS server, so it loads only that — not the lab, the
 * control plane, the benchmarks and every other verb the full CLI imports
 * (about 30 MB of heap a pod would carry for nothing).
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('podwire').exitOverride();
  registerCorednsCommand(program, (msg) => new Error(msg));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('commander.')) {
      process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
      return;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
