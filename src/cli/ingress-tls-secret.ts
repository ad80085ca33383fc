import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ApiClient, ApiClientError, type ApiServerTarget } from '../control/client/index.js';
import { makeSelfSigned, tlsSecretObject } from '../ingress/index.js';
import { CliError } from './verbs/deps.js';

export { tlsSecretObject };

/**
 * `podwire tls-secret NAME --host a.example.com[,…] [-n NS]`: a
 * self-signed certificate for those names (openssl, as the lab's www
 * certificate) stored as a kubernetes.io/tls Secret — what the articles'
 * Ingress and Gateway manifests name and do not give (app-tls-cert,
 * tls-secret, wildcard-cert for *.example.com). The same Secret
 * `kubectl create secret tls NAME --cert --key` makes from files.
 */
const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** "a.example.com, *.example.com" → the names, checked (lower case, DNS names or wildcards). */
export function parseHosts(spec: string): string[] {
  const hosts = spec
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!hosts.length) throw new CliError('--host: name at least one host');
  for (const h of hosts)
    if (!HOST.test(h) && !/^\d+\.\d+\.\d+\.\d+$/.test(h))
      throw new CliError(`--host: "${h}" is not a DNS name (a leading "*." is allowed)`);
  return hosts;
}

export function registerTlsSecretCommand(
  program: Command,
  server: () => ApiServerTarget,
  fail: (msg: string) => Error,
): void {
  program
    .command('tls-secret <name>')
    .description(
      'make a self-signed certificate for the hosts and store it as a kubernetes.io/tls Secret (for Ingress tls / Gateway certificateRefs)',
    )
    .requiredOption(
      '--host <names>',
      'comma-separated DNS names the certificate is for (the first is its CN; *.example.com for a wildcard)',
    )
    .option('-n, --namespace <ns>', 'namespace of the Secret', 'default')
    .option('--days <n>', 'validity in days', '365')
    .option('--overwrite', 'replace the Secret if it exists')
    .option('-o, --output <format>', 'yaml: print the Secret instead of creating it')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire tls-secret app-tls-cert --host app.example.com\n  podwire tls-secret wildcard-cert --host "*.example.com" -n infra\n  podwire exec client -- curl -sk --resolve app.example.com:443:<EXTERNAL-IP> https://app.example.com/',
    )
    .action(
      async (
        name: string,
        o: { host: string; namespace: string; days: string; overwrite?: boolean; output?: string },
      ) => {
        let hosts: string[];
        try {
          hosts = parseHosts(o.host);
        } catch (e) {
          throw fail((e as Error).message);
        }
        const days = Number(o.days);
        if (!Number.isInteger(days) || days < 1) throw fail(`--days: want a whole number of days, got "${o.days}"`);
        if (o.output && o.output !== 'yaml') throw fail(`--output: only yaml (got "${o.output}")`);
        const pair = await makeSelfSigned(hosts[0], hosts, days);
        const secret = tlsSecretObject(name, o.namespace, pair);
        if (o.output) return void process.stdout.write(stringify(secret));
        const client = new ApiClient(server());
        try {
          try {
            await client.create(secret);
            process.stdout.write(`secret/${name} created (kubernetes.io/tls, self-signed for ${hosts.join(', ')})\n`);
          } catch (e) {
            if (!(e instanceof ApiClientError && e.status === 409 && o.overwrite))
              throw e instanceof ApiClientError ? fail(e.message) : e;
            const cur = await client.get('secrets', o.namespace, name);
            await client.update({ ...secret, metadata: { ...cur.metadata } });
            process.stdout.write(`secret/${name} replaced (kubernetes.io/tls, self-signed for ${hosts.join(', ')})\n`);
          }
        } finally {
          client.close();
        }
      },
    );
}
