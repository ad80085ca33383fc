import type { Command } from 'commander';
import type { CliDeps } from './deps.js';

/** `podwire bench <name>`: podwire beside the kernel's equivalent path. */
export function register(program: Command, deps: CliDeps): void {
  program
    .command('bench')
    .argument('<name>', 'overlay, capture, scale, dns, services, netpol, streams, ingress or restart')
    .description('measure podwire beside the kernel’s equivalent path (prints a RESULT line)')
    .action(async (name: string) => {
      const { runBench } = await import('../../bench/index.js');
      await runBench(name);
    });
}
