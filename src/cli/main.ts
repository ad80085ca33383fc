import { Command, CommanderError } from 'commander';
import { readLabState } from '../lab/index.js';
import { apiServerFor } from './server-address.js';
import { registerLbCommands } from './lb.js';
import { registerConntrackCommands } from './conntrack.js';
import { registerKubeCommands } from './kube/commands.js';
import { registerCorednsCommand } from './coredns.js';
import { registerDnsAddonCommand } from './dns-addon.js';
import { registerExplainPolicyCommand } from './policy-explain-command.js';
import { registerProbeCommand } from './probe.js';
import { registerIngressAddonCommand } from './ingress-addon.js';
import { registerTlsSecretCommand } from './ingress-tls-secret.js';
import { CliError, processIo, type CliDeps, type CliIo } from './verbs/deps.js';
import * as lab from './verbs/lab.js';
import * as agent from './verbs/agent.js';
import * as apiserver from './verbs/apiserver.js';
import * as apply from './verbs/apply.js';
import * as pod from './verbs/pod.js';
import * as exec from './verbs/exec.js';
import * as capture from './verbs/capture.js';
import * as drops from './verbs/drops.js';
import * as observe from './verbs/observe.js';
import * as trace from './verbs/trace.js';
import * as analyze from './verbs/analyze.js';
import * as bench from './verbs/bench.js';
import * as kubectl from './verbs/kubectl.js';
import * as example from './verbs/example.js';

const DEFAULT_LAB = process.env.PODWIRE_LAB ?? 'pwlab';

/** podwire's own verbs, one module each (src/cli/verbs), in the order `podwire --help` lists them. */
const VERBS = [
  lab,
  agent,
  apiserver,
  apply,
  pod,
  exec,
  capture,
  drops,
  observe,
  trace,
  analyze,
  bench,
  kubectl,
  example,
];

/** The podwire command: the global options, every verb, writing to `io`. */
export function buildProgram(io: CliIo = processIo): Command {
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
  for (const verb of VERBS) verb.register(program, deps);
  registerLbCommands(program, () => deps.requireLab());
  registerConntrackCommands(program, () => deps.requireLab());
  registerKubeCommands(program, deps.server);
  registerCorednsCommand(program, (m) => deps.fail(m));
  registerDnsAddonCommand(program, deps.server);
  registerIngressAddonCommand(program, deps.server, (m) => deps.fail(m));
  registerTlsSecretCommand(program, deps.server, (m) => deps.fail(m));
  registerExplainPolicyCommand(program, deps.server);
  registerProbeCommand(program, {
    server: deps.server,
    lab: () => deps.requireLab(),
    fail: (m) => deps.fail(m),
  });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
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
