import type { Command } from 'commander';
import { podExecEntry, execCommand } from '../../lab/index.js';
import { names, netnsExists, execaRunner, startProcess } from '../../host/index.js';
import type { CliDeps } from './deps.js';
import { execInPod, ExecUpgradeError, defaultContainer } from '../../control/api/index.js';

/** `podwire exec <pod> -- cmd`: a command where a pod's containers run. */
export function register(program: Command, deps: CliDeps): void {
  program
    .command('exec <pod>')
    .description(
      'run a command in a pod’s container, as kubectl exec (-i, -t, -c; the command’s exit code); a bare pod from `podwire pod add` has no containers: there, the pod’s network namespace only',
    )
    .argument('<cmd...>', 'command (after --)')
    .option('-n, --namespace <ns>', 'the pod’s namespace', 'default')
    .option(
      '-c, --container <name>',
      'the container (default: the only one, else kubectl.kubernetes.io/default-container)',
    )
    .option('-i, --stdin', 'pass stdin to the command (also when stdin is a pipe or a file)')
    .option('-t, --tty', 'run the command on a terminal sized as yours (with -i: an interactive shell)')
    .addHelpText(
      'after',
      '\nAs kubectl exec: through the API server to the agent of the pod’s node (pods/exec over WebSocket), which enters the container’s namespaces (network, mount, UTS, IPC, PID) with its user, capabilities and environment; the exit code is the command’s.\n\nExamples:\n  podwire exec client -- ping -c 3 10.244.2.2\n  podwire exec client -- cat /etc/resolv.conf\n  podwire exec -it client -- sh\n  podwire exec web-2 -c sidecar -- ip addr\n  podwire exec -n production api-0 -- ss -tln',
    )
    .action(
      async (
        podName: string,
        argv: string[],
        o: { namespace: string; container?: string; stdin?: boolean; tty?: boolean },
      ) => {
        const prefix = deps.lab();
        const tty = Boolean(o.tty && process.stdin.isTTY);
        if (o.tty && !process.stdin.isTTY) deps.io.err('Unable to use a TTY - input is not a terminal\n');
        const withStdin = Boolean(o.stdin) || !process.stdin.isTTY;
        try {
          if (tty) process.stdin.setRawMode(true);
          const server = deps.server();
          process.exitCode = await execInPod({
            server,
            namespace: o.namespace,
            pod: podName,
            // as kubectl: without -c, the pod's default container (the annotation's, else the first)
            container: o.container ?? (await defaultContainer(server, o.namespace, podName)),
            command: argv,
            stdin: withStdin ? process.stdin : undefined,
            stdout: process.stdout,
            stderr: process.stderr,
            tty,
            size: () => ({ width: process.stdout.columns ?? 80, height: process.stdout.rows ?? 24 }),
            onResize: (fn) => process.stdout.on('resize', fn),
          });
          return;
        } catch (e) {
          // a bare pod from `podwire pod add` (no API object), or a lab without a control plane: its netns only
          const noApi =
            (e instanceof ExecUpgradeError && e.status === 404 && e.reason === 'NotFound') ||
            ['ECONNREFUSED', 'ENOENT'].includes((e as NodeJS.ErrnoException).code ?? '');
          if (!noApi) throw deps.fail((e as Error).message);
        } finally {
          if (tty) process.stdin.setRawMode(false);
          process.stdin.pause();
        }
        // (the agent names a pod's netns <lab>-pod-<name>, with .<namespace> outside default)
        const ns = names.podNs(prefix, o.namespace === 'default' ? podName : `${podName}.${o.namespace}`);
        if (!(await netnsExists(execaRunner(), ns)))
          throw deps.fail(`pods "${podName}" not found in namespace ${o.namespace} of lab ${prefix}`);
        const entry = await podExecEntry(deps.requireLab(prefix), ns, o.container).catch((e: Error) => {
          throw deps.fail(e.message);
        });
        const command = execCommand(entry, podName, argv);
        const env =
          entry.kind === 'container'
            ? { ...entry.env, ...(process.env.TERM ? { TERM: process.env.TERM } : {}) }
            : process.env;
        const code = await new Promise<number>((resolve) => {
          const child = startProcess(command, { stdio: 'inherit', env });
          child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
          child.on('error', () => resolve(127));
        });
        process.exitCode = code;
      },
    );
}
