import type { Command } from 'commander';
import { analyze, formatAnalysis } from '../../analyze/index.js';
import { readCapture } from '../../capture/index.js';
import type { CliDeps } from './deps.js';

/** `podwire analyze <file>`: what a capture shows. */
export function register(program: Command, deps: CliDeps): void {
  const say = deps.say;
  program
    .command('analyze <file>')
    .description(
      'read a pcap/pcapng (podwire’s or tcpdump’s): conversations, TCP handshake RTT, retransmissions, resets, DNS latency and failures, VXLAN outer->inner, podwire drop reasons',
    )
    .option('--json', 'the whole analysis as JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      const a = analyze(await readCapture(file));
      say(o.json ? JSON.stringify(a, null, 2) : formatAnalysis(a, file));
    });
}
