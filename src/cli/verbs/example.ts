import type { Command } from 'commander';
import { ApiClient, ApiClientError } from '../../control/client/index.js';
import { makeSelfSigned } from '../../ingress/index.js';
import {
  EXAMPLES,
  findExample,
  listLines,
  runExample,
  deleteExample,
  readyState,
  hintFacts,
  hintsFor,
  formatHints,
  ExampleRunError,
  ExampleNotFoundError,
  type ExampleIo,
  type ReadyState,
} from '../../examples/index.js';
import { readLabState } from '../../lab/index.js';
import type { CliDeps } from './deps.js';
import { packagePath } from '../../host/index.js';

/**
 * `podwire example list | run <name> | delete <name>`: the articles'
 * manifests run end to end (src/examples has the catalogue, the marks and
 * the API server side; this is the command line around them).
 */
/** the lab `podwire` means without --lab (main.ts's default): hints name --lab when another is used */
const DEFAULT_LAB = process.env.PODWIRE_LAB ?? 'pwlab';

/** examples/ beside src/ (or dist/) */
export const EXAMPLES_DIR = packagePath('examples');

const seconds = (v: string, what: string, fail: (m: string) => Error): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw fail(`${what}: want a number of seconds, got "${v}"`);
  return n;
};

function progressLine(s: ReadyState): string {
  const waiting = s.waiting.length
    ? `  (waiting: ${s.waiting.slice(0, 3).join(', ')}${s.waiting.length > 3 ? ', …' : ''})`
    : '';
  const addr = s.noAddress.length ? `  (no address yet: ${s.noAddress.join(', ')})` : '';
  return `· pods ready ${s.ready}/${s.expected}${waiting}${addr}`;
}

export function register(program: Command, deps: CliDeps): void {
  const say = deps.say;
  const example = program
    .command('example')
    .description('run the articles’ manifests (examples/*.yaml) end to end, with what they name but do not give');
  const find = (name: string) => {
    try {
      return findExample(name);
    } catch (e) {
      throw e instanceof ExampleNotFoundError ? deps.fail(e.message) : e;
    }
  };
  const withIo = async <T>(fn: (io: ExampleIo) => Promise<T>): Promise<T> => {
    const client = new ApiClient(deps.server());
    try {
      return await fn({
        client,
        examplesDir: EXAMPLES_DIR,
        makeTlsPair: (cn, hosts) => makeSelfSigned(cn, hosts),
        log: say,
      });
    } catch (e) {
      if (e instanceof ExampleRunError) throw deps.fail([e.message, ...e.problems.map((p) => `  ${p}`)].join('\n'));
      if (e instanceof ApiClientError) throw deps.fail(e.message);
      throw e;
    } finally {
      client.close();
    }
  };

  example
    .command('list')
    .description('every example: name, kinds, where it runs, what it shows')
    .action(() => {
      for (const l of listLines(EXAMPLES)) say(l);
    });

  example
    .command('run <name>')
    .description(
      'apply examples/<name>.yaml unchanged with its companion (namespaces, labelled workloads, TLS Secrets), wait until its pods are Ready, print what to try',
    )
    .option('--dry-run', 'only let the API server check every object (?dryRun=All); nothing is made')
    .option('--timeout <seconds>', 'how long to wait for its pods to be Ready', '120')
    .option('--no-wait', 'do not wait for the pods (no hints with addresses)')
    .addHelpText(
      'after',
      '\nA unique prefix of the name is enough. Everything it makes carries the label\npodwire.dev/example; `podwire example delete <name>` removes it again.\n\nExamples:\n  podwire example list\n  podwire example run 000-service-clusterip\n  podwire example run 000-networkpolicy-default-deny-all\n  podwire example run 003-ingress --dry-run',
    )
    .action(async (name: string, o: { dryRun?: boolean; timeout: string; wait: boolean }) => {
      const e = find(name);
      const timeoutMs = seconds(o.timeout, '--timeout', deps.fail) * 1000;
      await withIo(async (io) => {
        const r = await runExample(e, io, { dryRun: o.dryRun });
        for (const l of r.lines) say(l);
        if (o.dryRun || !o.wait) return;
        const deadline = Date.now() + timeoutMs;
        let last = '';
        let s: ReadyState;
        for (;;) {
          s = await readyState(io.client, r.used);
          const line = progressLine(s);
          if (line !== last) say((last = line));
          const podsDone = s.ready >= s.expected && !s.waiting.length;
          if ((podsDone && !s.noAddress.length) || Date.now() > deadline) break;
          await new Promise((res) => setTimeout(res, 500));
        }
        if (s.ready < s.expected || s.waiting.length)
          throw deps.fail(
            `${e.name}: pods not Ready after ${o.timeout} s: ${s.waiting.join(', ') || `${s.ready} of ${s.expected} exist`}\n` +
              `  look with: podwire get pods -n ${e.home} -l podwire.dev/example; podwire describe pod -n ${e.home} <pod>`,
          );
        if (s.noAddress.length)
          say(`warning: no address yet for ${s.noAddress.join(', ')} (does the lab have its cloud load balancer?)`);
        const state = readLabState(deps.lab()) ?? null;
        const cp = state?.plan.controlPlane;
        const facts = await hintFacts(io.client, r.used, {
          lab: deps.lab(),
          defaultLab: DEFAULT_LAB,
          kubectl: cp ? `podwire${deps.lab() === DEFAULT_LAB ? '' : ` --lab ${deps.lab()}`} kubectl` : null,
          wwwIP: state?.plan.outside.www.ip,
        });
        say(`\n${e.name} is running. Try:`);
        for (const l of formatHints(hintsFor(e, facts))) say(l);
      });
    });

  example
    .command('delete <name>')
    .description('remove what `example run <name>` made (shared companions stay while another example uses them)')
    .option('--timeout <seconds>', 'how long to wait for its pods to go', '60')
    .action(async (name: string, o: { timeout: string }) => {
      const e = find(name);
      const timeoutMs = seconds(o.timeout, '--timeout', deps.fail) * 1000;
      await withIo(async (io) => {
        const r = await deleteExample(e, io, { timeoutMs });
        for (const l of r.lines) say(l);
        if (!r.lines.length) say(`nothing of ${e.name} to delete (not run, or already deleted)`);
        if (r.lingering.length) say(`warning: still going after ${o.timeout} s: ${r.lingering.join(', ')}`);
      });
    });
}
