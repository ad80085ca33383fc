import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { podExecEntry, execCommand } from '../../lab/index.js';
import { names, netnsExists, execaRunner } from '../../host/index.js';
import type { CliDeps } from './deps.js';

/** `podwire exec <pod> -- cmd`: a command where a pod's containers run. */
export function register(program: Command, deps: CliDeps): void {
  program
    .command('exec <pod>')
    .description(
      'run a command in a pod’s container: its mount, UTS and network namespaces (its /etc/resolv.conf and /etc/hosts) and its environment, as kubectl exec; a bare pod from `podwire pod add` has no containers: there, the pod’s network namespace only',
    )
    .argument('<cmd...>', 'command (after --)')
    .option('-n, --namespace <ns>', 'the pod’s namespace', 'default')
    .option(
      '-c, --container <name>',
      'the container (default: kubectl.kubernetes.io/default-container, else the first running one)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  podwire exec client -- ping -c 3 10.244.2.2\n  podwire exec client -- cat /etc/resolv.conf\n  podwire exec web-2 -c sidecar -- ip addr\n  podwire exec -n production api-0 -- ss -tln',
    )
    .action(async (podName: string, argv: string[], o: { namespace: string; container?: string }) => {
      const prefix = deps.lab();
      // (the agent names a pod's netns <lab>-pod-<name>, with .<namespace> outside default)
      const ns = names.podNs(prefix, o.namespace === 'default' ? podName : `${podName}.${o.namespace}`);
      if (!(await netnsExists(execaRunner(), ns)))
        throw deps.fail(`pod "${podName}" not found in namespace ${o.namespace} of lab ${prefix}`);
      const entry = await podExecEntry(deps.requireLab(prefix), ns, o.container).catch((e: Error) => {
        throw deps.fail(e.message);
      });
      const [cmd, ...args] = execCommand(entry, podName, argv);
      const env =
        entry.kind === 'container'
          ? { ...entry.env, ...(process.env.TERM ? { TERM: process.env.TERM } : {}) }
          : process.env;
      const code = await new Promise<number>((resolve) => {
        const child = spawn(cmd, args, { stdio: 'inherit', env });
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
        child.on('error', () => resolve(127));
      });
      process.exitCode = code;
    });
}
