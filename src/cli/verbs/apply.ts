import type { Command } from 'commander';
import { readManifests, parseManifests, apply as applyManifests } from '../../control/client/index.js';
import { apiServerFor } from '../server-address.js';
import type { CliDeps } from './deps.js';

/** `podwire apply -f`: manifests to the API server, all or nothing. */
export function register(program: Command, deps: CliDeps): void {
  const say = deps.say;
  program
    .command('apply')
    .description(
      'create or update objects from YAML/JSON manifests (all or nothing: every document checked first, a failed write undone)',
    )
    .requiredOption('-f, --filename <path...>', 'file, directory or - (stdin); multi-document YAML')
    .option('-n, --namespace <ns>', 'namespace for objects that name none', 'default')
    .option('--server <url>', 'API server (as the global --server)')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire apply -f examples/003-multi-container-pod.yaml\n  cat app.yaml | podwire apply -f -',
    )
    .action(async (o: { filename: string[]; namespace: string; server?: string }) => {
      const { docs, problems } = parseManifests(readManifests(o.filename), o.namespace);
      if (problems.length) throw deps.fail(`${problems.join('\nerror: ')}\nnothing was applied`);
      const r = await applyManifests(
        o.server ? apiServerFor({ server: o.server, lab: deps.lab() }) : deps.server(),
        docs,
      );
      for (const l of r.lines) say(l);
      if (r.problems.length)
        throw deps.fail(`${r.problems.join('\nerror: ')}${r.lines.length || r.partial ? '' : '\nnothing was applied'}`);
    });
}
