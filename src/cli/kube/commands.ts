import { Option, type Command } from 'commander';
import { ApiClient, type ApiServerTarget } from '../../control/client/index.js';
import type { KubeContext } from './context.js';
import { del } from './delete.js';
import { describe } from './describe.js';
import { errorLine } from './errors.js';
import { get } from './get.js';
import { logs } from './logs.js';
import { wait } from './wait.js';

/**
 * kubectl's verbs as podwire subcommands, against the API server that
 * `server()` names (--server, $PODWIRE_SERVER, or the lab's socket):
 * get, describe, delete, logs, wait. Same flags, output and exit codes as
 * kubectl 1.30; errors are printed here (`error: …` / `Error from server
 * (Reason): …`) and set the exit code to 1.
 */
type Opts = Record<string, any>;

function kubeContext(server: ApiServerTarget, interruptible: boolean): { ctx: KubeContext; done(): void } {
  const client = new ApiClient(server);
  let onSignal: (() => void) | null = null;
  const interrupted = new Promise<void>((resolve) => {
    if (!interruptible) return;
    onSignal = () => resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const ctx: KubeContext = {
    client,
    server: client.server,
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    now: () => Date.now(),
    interrupted,
  };
  return {
    ctx,
    done() {
      if (onSignal) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      client.close();
    },
  };
}

export function registerKubeCommands(program: Command, server: () => ApiServerTarget): void {
  const run =
    (interruptible: (o: Opts) => boolean, fn: (ctx: KubeContext, args: string[], o: Opts) => Promise<number>) =>
    async (...argv: unknown[]): Promise<void> => {
      const cmd = argv[argv.length - 1] as Command;
      const o = cmd.opts();
      const args = argv.slice(0, -2).flatMap((a) => (a === undefined ? [] : Array.isArray(a) ? a : [a])) as string[];
      const s = server();
      const { ctx, done } = kubeContext(s, interruptible(o));
      let code: number;
      try {
        code = await fn(ctx, args, o);
      } catch (e) {
        ctx.err(`${errorLine(e, ctx.server)}\n`);
        code = 1;
      } finally {
        done();
      }
      process.exitCode = code;
    };
  const never = () => false;
  /** the flags every verb shares; --server here too, so it works after the verb's own flags */
  const common = (c: Command, namespaced = true) => {
    if (namespaced) c.option('-n, --namespace <ns>', 'the namespace of the objects', 'default');
    c.addOption(new Option('--server <url>', 'API server (as the global --server)').hideHelp());
    c.hook('preAction', (_this, action) => {
      const s = action.opts().server;
      if (s) program.setOptionValue('server', s);
    });
    return c;
  };

  common(
    program
      .command('get')
      .description('display one or many objects, as kubectl get')
      .argument('[type-and-names...]', 'TYPE[,TYPE…] [NAME…] | TYPE/NAME… | all')
      .option('-A, --all-namespaces', 'list across all namespaces')
      .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
      .option('--field-selector <selector>', 'field selector, e.g. spec.nodeName=node1')
      .option('-o, --output <format>', 'wide | yaml | json | name | jsonpath=TEMPLATE | custom-columns=SPEC')
      .option('--show-labels', 'a last column with the labels')
      .option('-w, --watch', 'after listing, print a row for every change')
      .option('--watch-only', 'print only the changes')
      .option('--ignore-not-found', 'a missing named object is not an error')
      .addHelpText(
        'after',
        '\nExamples:\n  podwire get pods -o wide\n  podwire get all -A\n  podwire get svc,ep web\n  podwire get pod web-1 -o yaml\n  podwire get pods -l app=web -w',
      ),
  ).action(
    run(
      (o) => !!(o.watch || o.watchOnly),
      (ctx, args, o) => get(ctx, args, o as never),
    ),
  );

  common(
    program
      .command('describe')
      .description('show details of objects, with their events, as kubectl describe')
      .argument('[type-and-names...]', 'TYPE [NAME_PREFIX…] | TYPE/NAME…')
      .option('-A, --all-namespaces', 'across all namespaces')
      .option('-l, --selector <selector>', 'label selector')
      .option('--show-events <bool>', 'show the events of the object', 'true')
      .addHelpText(
        'after',
        '\nExamples:\n  podwire describe pod web-1\n  podwire describe nodes\n  podwire describe svc/web',
      ),
  ).action(run(never, (ctx, args, o) => describe(ctx, args, { ...o, showEvents: o.showEvents !== 'false' } as never)));

  common(
    program
      .command('delete')
      .description('delete objects by type and name, selector, or file, as kubectl delete')
      .argument('[type-and-names...]', 'TYPE NAME… | TYPE/NAME… | TYPE --all | TYPE -l SELECTOR')
      .option('-f, --filename <path...>', 'delete what these manifests describe')
      .option('-A, --all-namespaces', 'with --all or -l: across all namespaces')
      .option('--all', 'every object of the type in the namespace')
      .option('-l, --selector <selector>', 'label selector')
      .option('--field-selector <selector>', 'field selector')
      .option('--ignore-not-found', 'a missing object is not an error')
      .option(
        '--grace-period <s>',
        'seconds a pod gets to stop (default: its terminationGracePeriodSeconds); 0 with --force: at once',
      )
      .option('--now', 'same as --grace-period=1')
      .option('--force', 'with --grace-period=0: remove at once, without waiting for the node to confirm')
      .option('--wait <bool>', 'wait until deleted objects are gone (default true)')
      .addHelpText(
        'after',
        '\nExamples:\n  podwire delete pod web-1\n  podwire delete pods -l app=web\n  podwire delete -f examples/003-multi-container-pod.yaml',
      ),
  ).action(run(never, (ctx, args, o) => del(ctx, args, o as never)));

  common(
    program
      .command('logs')
      .description('print (or follow) a container’s logs, as kubectl logs')
      .argument('[pod]', 'POD or TYPE/NAME (deploy/web: one of its pods)')
      .option('-c, --container <name>', 'which container (default: the first)')
      .option('-f, --follow', 'stream new lines as they come')
      .option('--tail <n>', 'only the last n lines (-1: all)')
      .option('-p, --previous', 'the previous, terminated instance of the container')
      .option('--timestamps', 'each line with its RFC3339 timestamp')
      .option('--all-containers', 'every container of the pod')
      .option('-l, --selector <selector>', 'the pods with these labels')
      .option('--prefix', 'prefix each line with the pod and container name')
      .addHelpText(
        'after',
        '\nExamples:\n  podwire logs web-1\n  podwire logs -f deploy/web --tail 20\n  podwire logs web-1 -c sidecar --previous',
      ),
  ).action(
    run(
      (o) => !!o.follow,
      (ctx, args, o) => logs(ctx, args[0], o as never),
    ),
  );

  common(
    program
      .command('wait')
      .description('wait for a condition on objects (watching, not polling), as kubectl wait')
      .argument('[type-and-names...]', 'TYPE/NAME… | TYPE NAME… | TYPE -l SELECTOR | TYPE --all')
      .requiredOption('--for <condition>', 'condition=Ready[=true] | delete | jsonpath={.status.phase}=Running')
      .option('-A, --all-namespaces', 'with --all or -l: across all namespaces')
      .option('-l, --selector <selector>', 'label selector')
      .option('--field-selector <selector>', 'field selector')
      .option('--all', 'every object of the type in the namespace')
      .option('--timeout <duration>', 'give up after this long (30s, 1m, 0: check once)', '30s')
      .addHelpText(
        'after',
        "\nExamples:\n  podwire wait --for=condition=Ready pod/web-1\n  podwire wait --for=condition=Ready pods -l app=web --timeout=60s\n  podwire wait --for=delete pod/web-1\n  podwire wait --for=jsonpath='{.status.phase}'=Running pod/web-1",
      ),
  ).action(run(never, (ctx, args, o) => wait(ctx, args, o as never)));
}
