import type { Command } from 'commander';
import { ApiClient, type ApiServerTarget } from '../control/client/index.js';
import { ensureClusterDns, clusterDnsYaml, addonLines } from '../lab/index.js';

/**
 * `podwire dns-addon`: create the cluster DNS add-on's objects (ConfigMap
 * and Deployment `coredns`, Service `kube-dns` 10.96.0.10, in kube-system)
 * where they are missing — what `podwire lab up` does at start and the
 * compose cluster's demo container runs. `--print` writes them as YAML instead.
 */
export function registerDnsAddonCommand(program: Command, server: () => ApiServerTarget): void {
  program
    .command('dns-addon')
    .description(
      'create the cluster DNS add-on (CoreDNS behind kube-dns 10.96.0.10) where it is missing; --print: its YAML',
    )
    .option('--print', 'print the objects as YAML instead of creating them')
    .addHelpText('after', '\nExamples:\n  podwire dns-addon\n  podwire dns-addon --print | podwire apply -f -')
    .action(async (o: { print?: boolean }) => {
      if (o.print) return void process.stdout.write(clusterDnsYaml());
      const client = new ApiClient(server());
      try {
        for (const line of addonLines(await ensureClusterDns(client))) process.stdout.write(`${line}\n`);
      } finally {
        client.close();
      }
    });
}
