import { Command, CommanderError } from 'commander';
import { readLabState } from '../lab/index.js';
import { apiServerFor } from './server-address.js';
import { CliError, processIo, type CliDeps, type CliIo } from './verbs/deps.js';

const DEFAULT_LAB = process.env.PODWIRE_LAB ?? 'pwlab';

type Registrar = (program: Command, deps: CliDeps) => void;

/**
 * podwire's commands, in the order `podwire --help` lists them: each entry names the top-level
 * commands one module registers, and loads that module only when asked. A command loads the
 * code of its own verb and nothing else: every `podwire exec` or `podwire get` in a workshop or
 * a test is a process start, and loading every verb (the agent, the API server, the ingress
 * proxy…) made each cost about a second of CPU. test/unit/cli/verbs.test.ts keeps the names true.
 */
export const VERBS: { names: string[]; load: () => Promise<Registrar> }[] = [
  { names: ['lab', 'www', 'cloudlb'], load: async () => (await import('./verbs/lab.js')).register },
  { names: ['agent'], load: async () => (await import('./verbs/agent.js')).register },
  { names: ['apiserver'], load: async () => (await import('./verbs/apiserver.js')).register },
  { names: ['apply'], load: async () => (await import('./verbs/apply.js')).register },
  { names: ['pod'], load: async () => (await import('./verbs/pod.js')).register },
  { names: ['exec'], load: async () => (await import('./verbs/exec.js')).register },
  { names: ['capture', 'capture-here'], load: async () => (await import('./verbs/capture.js')).register },
  { names: ['drops'], load: async () => (await import('./verbs/drops.js')).register },
  { names: ['observe', 'observe-l7-relay'], load: async () => (await import('./verbs/observe.js')).register },
  {
    names: ['trace', 'trace-inject', 'trace-resolve', 'trace-catch'],
    load: async () => (await import('./verbs/trace.js')).register,
  },
  { names: ['analyze'], load: async () => (await import('./verbs/analyze.js')).register },
  { names: ['bench'], load: async () => (await import('./verbs/bench.js')).register },
  { names: ['kubectl'], load: async () => (await import('./verbs/kubectl.js')).register },
  { names: ['pki'], load: async () => (await import('./verbs/pki.js')).register },
  { names: ['example'], load: async () => (await import('./verbs/example.js')).register },
  { names: ['ui'], load: async () => (await import('./verbs/ui.js')).register },
  {
    names: ['lb'],
    load: async () => {
      const { registerLbCommands } = await import('./lb.js');
      return (program, deps) => registerLbCommands(program, () => deps.requireLab());
    },
  },
  {
    names: ['conntrack'],
    load: async () => {
      const { registerConntrackCommands } = await import('./conntrack.js');
      return (program, deps) => registerConntrackCommands(program, () => deps.requireLab());
    },
  },
  {
    names: ['get', 'describe', 'delete', 'logs', 'wait'],
    load: async () => {
      const { registerKubeCommands } = await import('./kube/commands.js');
      return (program, deps) => registerKubeCommands(program, deps.server);
    },
  },
  {
    names: ['coredns'],
    load: async () => {
      const { registerCorednsCommand } = await import('./coredns.js');
      return (program, deps) => registerCorednsCommand(program, (m) => deps.fail(m));
    },
  },
  {
    names: ['dns-addon'],
    load: async () => {
      const { registerDnsAddonCommand } = await import('./dns-addon.js');
      return (program, deps) => registerDnsAddonCommand(program, deps.server);
    },
  },
  {
    names: ['ingress-addon'],
    load: async () => {
      const { registerIngressAddonCommand } = await import('./ingress-addon.js');
      return (program, deps) => registerIngressAddonCommand(program, deps.server, (m) => deps.fail(m));
    },
  },
  {
    names: ['tls-secret'],
    load: async () => {
      const { registerTlsSecretCommand } = await import('./ingress-tls-secret.js');
      return (program, deps) => registerTlsSecretCommand(program, deps.server, (m) => deps.fail(m));
    },
  },
  {
    names: ['explain-policy'],
    load: async () => {
      const { registerExplainPolicyCommand } = await import('./policy-explain-command.js');
      return (program, deps) => registerExplainPolicyCommand(program, deps.server);
    },
  },
  {
    names: ['probe'],
    load: async () => {
      const { registerProbeCommand } = await import('./probe.js');
      return (program, deps) =>
        registerProbeCommand(program, { server: deps.server, lab: () => deps.requireLab(), fail: (m) => deps.fail(m) });
    },
  },
];

/** The global options that take a value: skipped when looking for the command's name. */
const VALUE_OPTIONS = new Set(['--lab', '--server']);

/** The command `argv` asks for (its first word that is not a global option), if any. */
export function commandName(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (VALUE_OPTIONS.has(a)) i++;
    else if (a === '--') return undefined;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * The registrars `argv` needs: the one module whose command it names, else every one (for
 * --help, `podwire help`, no command, or a mistyped one, whose error lists the commands).
 */
export async function registrarsFor(argv?: string[]): Promise<Registrar[]> {
  const name = argv && commandName(argv);
  const one = name && VERBS.find((v) => v.names.includes(name));
  return Promise.all((one ? [one] : VERBS).map((v) => v.load()));
}

/** The podwire command: the global options and the given verbs (default: all), writing to `io`. */
export async function buildProgram(io: CliIo = processIo, registrars?: Registrar[]): Promise<Command> {
  const program = new Command();
  program
    .name('podwire')
    .description('Kubernetes networking you can watch packet by packet')
    .option('--lab <prefix>', 'which lab (its namespaces carry this prefix)', DEFAULT_LAB)
    .option(
      '--server <url>',
      'API server: http://host:port or unix:/path (default: $PODWIRE_SERVER, else the lab’s socket)',
    )
    .showHelpAfterError()
    .exitOverride();

  const deps: CliDeps = {
    io,
    say: (line) => io.out(`${line}\n`),
    lab: () => program.opts().lab as string,
    server: () => apiServerFor({ server: program.opts().server, lab: program.opts().lab }),
    requireLab(prefix = deps.lab()) {
      const state = readLabState(prefix);
      if (!state) throw new CliError(`no lab "${prefix}" is up (run: podwire lab up)`);
      return state;
    },
    fail: (msg) => new CliError(msg),
  };
  for (const register of registrars ?? (await registrarsFor())) register(program, deps);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(processIo, await registrarsFor(argv));
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

export { CliError };
