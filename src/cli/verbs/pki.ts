import type { Command } from 'commander';
import { ensurePki } from '../../host/index.js';
import { writeClusterKubeconfigs } from '../../lab/index.js';
import type { CliDeps } from './deps.js';

/**
 * `podwire pki`: make (or keep) a cluster's PKI and kubeconfigs in a
 * directory, as `kubeadm init phase certs` and `kubeconfig` do — what the
 * compose cluster's apiserver container runs before the API server (the
 * netns lab makes its own at `lab up`). Idempotent: what is there and still
 * good is kept, so a restarted container keeps its identities.
 */
export function register(program: Command, deps: CliDeps): void {
  const many = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)];
  program
    .command('pki')
    .description(
      'make a cluster’s CA, API server and client certificates, ServiceAccount keys and kubeconfigs in a directory (compose’s apiserver runs it)',
    )
    .requiredOption('--dir <dir>', 'where (mode 0700; keys 0600)')
    .requiredOption('--apiserver-url <url>', 'the API server URL the kubeconfigs name, e.g. https://172.28.0.2:6443')
    .option('--apiserver-ip <ip>', 'an address the API server’s certificate names (repeatable)', many, [])
    .option('--apiserver-name <name>', 'a DNS name it names (repeatable)', many, [])
    .option(
      '--node <name>',
      'a node: its certificate and node-<name>.kubeconfig (repeatable, or comma-separated)',
      many,
      [],
    )
    .addHelpText(
      'after',
      '\nExample:\n  podwire pki --dir /etc/podwire/pki --apiserver-url https://172.28.0.2:6443 --apiserver-ip 172.28.0.2 --apiserver-name apiserver --node node1,node2,node3',
    )
    .action(
      async (o: {
        dir: string;
        apiserverUrl: string;
        apiserverIp: string[];
        apiserverName: string[];
        node: string[];
      }) => {
        const made = await ensurePki({
          dir: o.dir,
          apiserverIps: o.apiserverIp,
          apiserverDnsNames: o.apiserverName,
          nodes: o.node,
        });
        const files = writeClusterKubeconfigs({ pkiDir: o.dir, server: o.apiserverUrl, nodes: o.node });
        deps.say(
          `pki in ${o.dir}: ${made.created.length ? `made ${made.created.join(', ')}` : 'all kept'}; kubeconfigs ${files.map((f) => f.slice(o.dir.length + 1)).join(', ')}`,
        );
      },
    );
}
