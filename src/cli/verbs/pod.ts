import type { Command } from 'commander';
import { addPod, deletePod } from '../../lab/index.js';
import type { CliDeps } from './deps.js';

/** `podwire pod add|delete`: bare pod sandboxes for dataplane experiments. */
export function register(program: Command, deps: CliDeps): void {
  const say = deps.say;
  const pod = program
    .command('pod')
    .description(
      'add or remove a bare pod sandbox by hand (a netns on cbr0 with an IP, no containers, no API object): for dataplane experiments',
    );
  pod
    .command('add <name>')
    .requiredOption('--node <node>', 'node to put it on')
    .action(async (name: string, o: { node: string }) => {
      const p = await addPod(deps.requireLab(), o.node, name);
      say(`pod/${p.name} created on ${o.node}: ${p.ip}`);
    });
  pod.command('delete <name>').action(async (name: string) => {
    await deletePod(deps.requireLab(), name);
    say(`pod "${name}" deleted`);
  });
}
