import { Command, CommanderError } from 'commander';
import { spawn } from 'node:child_process';
import { labUp, labDown, labStatus, restartAgent, readLabState, labPods, addPod, deletePod, findPod } from '../lab/index.js';
import { names, netnsExists, execaRunner } from '../host/index.js';
import { agentConfig } from '../agent/config.js';
import { runAgent } from '../agent/agent.js';
import { table } from './table.js';
import { captureDrops } from './capture.js';
import { observe } from './observe.js';

const DEFAULT_LAB = process.env.PODWIRE_LAB ?? 'pwlab';

class CliError extends Error {}

function requireLab(prefix: string) {
  const state = readLabState(prefix);
  if (!state) throw new CliError(`no lab "${prefix}" is up (run: podwire lab up)`);
  return state;
}

const say = (msg: string): void => void process.stdout.write(`${msg}\n`);

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('podwire')
    .description('Kubernetes networking you can watch packet by packet')
    .option('--lab <prefix>', 'which lab (its namespaces carry this prefix)', DEFAULT_LAB)
    .showHelpAfterError()
    .exitOverride();

  const lab = program.command('lab').description('a cluster of network-namespace nodes on this machine');
  lab
    .command('up')
    .description('build the underlay and N nodes, start one agent per node')
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--demo', 'add demo pods and print what to try')
    .addHelpText('after', '\nExamples:\n  podwire lab up --nodes 3 --demo\n  podwire lab up --nodes 2')
    .action(async (o: { nodes: string; demo?: boolean }) => {
      const prefix = program.opts().lab as string;
      const state = await labUp({ prefix, nodes: Number(o.nodes), log: (m) => say(`· ${m}`) });
      if (o.demo) await demo(state);
    });
  lab
    .command('down')
    .description('stop the agents and remove every namespace, link and file the lab made')
    .action(async () => {
      await labDown({ prefix: program.opts().lab, log: say });
    });
  lab
    .command('restart-agent <node>')
    .description('stop a node’s agent and start a new one; pods stay and are adopted')
    .option('--crash', 'kill -9 instead of a clean stop')
    .action(async (node: string, o: { crash?: boolean }) => {
      const pid = await restartAgent({ prefix: program.opts().lab, node, crash: o.crash });
      say(`agent on ${node} restarted (pid ${pid})`);
    });
  lab
    .command('status')
    .description('nodes, agents and pods of the lab')
    .action(async () => {
      const { state, nodes } = await labStatus({ prefix: program.opts().lab });
      if (!state) return say(`no lab "${program.opts().lab}" is up`);
      say(table(['NODE', 'NODE-IP', 'POD-CIDR', 'AGENT', 'PID', 'PODS', 'PEERS-RESOLVED'], nodes.map((n) => [n.name, n.ip, n.podCidr, n.agent, String(n.pid ?? '-'), String(n.pods), `${n.peersResolved}/${nodes.length - 1}`])));
    });

  program
    .command('agent')
    .description('run the node agent in this network namespace (started for you by lab up / the container entrypoint)')
    .requiredOption('--node <name>', 'this node’s name')
    .requiredOption('--pod-cidr <cidr>', 'this node’s pod CIDR, e.g. 10.244.1.0/24')
    .option('--prefix <prefix>', 'prefix of everything the agent creates', 'pw')
    .option('--state-dir <dir>', 'where IPAM and pod records persist')
    .option('--peers <file>', 'JSON file of peer nodes {"peers":[{name,nodeIp,podCidr}]}')
    .option('--underlay-if <if>', 'underlay interface', 'eth0')
    .option('--pod-mtu <n>', 'pod MTU (1500 − 50 VXLAN overhead)', '1450')
    .option('--metrics-port <n>', 'Prometheus /metrics on the node IP (0: off)', '9101')
    .action(async (o: Record<string, string>) => {
      const cfg = agentConfig({ ...o, node: o.node, 'pod-cidr': o.podCidr, 'state-dir': o.stateDir, 'underlay-if': o.underlayIf, 'pod-mtu': o.podMtu, 'metrics-port': o.metricsPort });
      const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
      const agent = await runAgent(cfg, log);
      await new Promise<void>((resolve) => {
        const stop = async (sig: string) => {
          log(`${sig}: stopping`);
          await agent.stop();
          resolve();
        };
        process.once('SIGTERM', () => void stop('SIGTERM'));
        process.once('SIGINT', () => void stop('SIGINT'));
      });
    });

  const pod = program.command('pod').description('add or remove lab pods by hand (until the control plane lands)');
  pod
    .command('add <name>')
    .requiredOption('--node <node>', 'node to put it on')
    .action(async (name: string, o: { node: string }) => {
      const p = await addPod(requireLab(program.opts().lab), o.node, name);
      say(`pod/${p.name} created on ${o.node}: ${p.ip}`);
    });
  pod.command('delete <name>').action(async (name: string) => {
    await deletePod(requireLab(program.opts().lab), name);
    say(`pod "${name}" deleted`);
  });

  program
    .command('get')
    .argument('<resource>', 'pods')
    .option('-o, --output <fmt>', 'wide | json | name')
    .action(async (resource: string, o: { output?: string }) => {
      if (!['pods', 'pod', 'po'].includes(resource)) throw new CliError(`the server doesn't have a resource type "${resource}"`);
      const pods = await labPods(requireLab(program.opts().lab));
      if (o.output === 'json') return say(JSON.stringify(pods, null, 2));
      if (o.output === 'name') return say(pods.map((p) => `pod/${p.name}`).join('\n'));
      const wide = o.output === 'wide';
      const head = wide ? ['NAME', 'IP', 'NODE', 'MAC', 'NETNS'] : ['NAME', 'IP', 'NODE'];
      say(table(head, pods.map((p) => (wide ? [p.name, p.ip, p.node, p.mac, p.netns] : [p.name, p.ip, p.node]))));
    });

  program
    .command('exec <pod>')
    .description('run a command inside a pod’s network namespace')
    .argument('<cmd...>', 'command (after --)')
    .addHelpText('after', '\nExamples:\n  podwire exec client -- ping -c 3 10.244.2.2\n  podwire exec web-2 -- ip addr')
    .action(async (podName: string, argv: string[]) => {
      const prefix = program.opts().lab as string;
      const ns = names.podNs(prefix, podName);
      if (!(await netnsExists(execaRunner(), ns))) throw new CliError(`pod "${podName}" not found in lab ${prefix}`);
      const code = await new Promise<number>((resolve) => {
        const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'inherit' });
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
        child.on('error', () => resolve(127));
      });
      process.exitCode = code;
    });

  program
    .command('capture')
    .description('write a pcapng of what an agent’s pipeline drops, each with its reason as the packet comment')
    .requiredOption('--node <node>', 'whose agent')
    .option('--drops', 'frames the pipeline dropped (the capture point available today)', true)
    .option('-w, --write <file>', 'pcapng file, or - for stdout (pipe into tshark -r -)', '-')
    .option('-c, --count <n>', 'stop after n packets')
    .option('--duration <s>', 'stop after s seconds')
    .addHelpText('after', '\nExamples:\n  podwire capture --node node1 -w drops.pcapng -c 10\n  podwire capture --node node2 -w - | tshark -r - -T fields -e frame.comment')
    .action(async (o: { node: string; write: string; count?: string; duration?: string }) => {
      const n = await captureDrops(requireLab(program.opts().lab), o.node, o.write, {
        count: o.count ? Number(o.count) : undefined,
        durationS: o.duration ? Number(o.duration) : undefined,
      });
      if (o.write !== '-') process.stderr.write(`${n} packets captured to ${o.write}\n`);
    });

  program
    .command('observe')
    .description('live flow log from every agent, like hubble observe: new flows, TCP flags, per-second updates, every drop with its reason')
    .option('--node <node>', 'only this node’s agent')
    .option('--pod <pod>', 'only flows from or to this pod')
    .option('--verdict <v>', 'FORWARDED or DROPPED')
    .option('--port <n>', 'only flows with this source or destination port')
    .option('-o, --output <fmt>', 'json for one JSON object per line')
    .option('-c, --count <n>', 'stop after n events')
    .option('--duration <s>', 'stop after s seconds')
    .addHelpText('after', '\nExamples:\n  podwire observe --verdict DROPPED\n  podwire observe --pod client -o json')
    .action(async (o: { node?: string; pod?: string; verdict?: string; port?: string; output?: string; count?: string; duration?: string }) => {
      if (o.verdict && !['FORWARDED', 'DROPPED'].includes(o.verdict.toUpperCase())) throw new CliError('--verdict must be FORWARDED or DROPPED');
      await observe(requireLab(program.opts().lab), {
        node: o.node,
        pod: o.pod,
        verdict: o.verdict,
        port: o.port ? Number(o.port) : undefined,
        json: o.output === 'json',
        count: o.count ? Number(o.count) : undefined,
        durationS: o.duration ? Number(o.duration) : undefined,
      });
    });

  program
    .command('bench')
    .argument('<name>', 'overlay')
    .description('measure podwire beside the kernel’s equivalent path (prints a RESULT line)')
    .action(async (name: string) => {
      const { runBench } = await import('../bench/index.js');
      await runBench(name);
    });
  return program;
}

async function demo(state: Awaited<ReturnType<typeof labUp>>): Promise<void> {
  const nodes = state.plan.nodes.map((n) => n.name);
  const wanted: [string, string][] = [['client', nodes[0]], ...nodes.map((n, i) => [`web-${i + 1}`, n] as [string, string])];
  for (const [name, node] of wanted) {
    if (!(await findPod(state, name))) await addPod(state, node, name);
  }
  const pods = await labPods(state);
  say('');
  say(table(['NAME', 'IP', 'NODE'], pods.map((p) => [p.name, p.ip, p.node])));
  const far = pods.find((p) => p.name === `web-${nodes.length}`)!;
  const near = pods.find((p) => p.name === 'web-1')!;
  say('\nTry:');
  say(`  podwire exec client -- ping -c 3 ${near.ip}        # same node: through the agent on ${near.node}`);
  say(`  podwire exec client -- ping -c 3 ${far.ip}        # across nodes: VXLAN, VNI 1, UDP 4789`);
  say(`  podwire exec client -- traceroute -n ${far.ip}     # hops: gateway on each node`);
  say(`  ip netns exec ${state.plan.underlayNs} tcpdump -ni ${state.plan.underlayBridge} udp port 4789   # watch the overlay`);
  say('  podwire get pods -o wide;  podwire lab status;  podwire lab down');
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
