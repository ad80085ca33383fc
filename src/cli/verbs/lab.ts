import fs from 'node:fs';
import type { Command } from 'commander';
import {
  labUp,
  labDown,
  labStatus,
  restartAgent,
  restartApiServer,
  isOurAgent,
  SCENARIOS,
  scenarioHelpLines,
  breakLab,
  fixLab,
  brokenNow,
  applyClusterDns,
  applyIngressAddon,
  registerOutsideCommands,
  outsideStatusLines,
  adminKubeconfigPath,
  writeAdminKubeconfig,
  superviseLab,
  supervisorStatusLines,
} from '../../lab/index.js';
import { processRunning } from '../../host/index.js';
import { table } from '../../text/index.js';
import { demo } from './lab-demo.js';
import type { CliDeps } from './deps.js';

/** `podwire lab …`: build, inspect, break and tear down a lab of network-namespace nodes. */
export function register(program: Command, deps: CliDeps): void {
  const say = deps.say;
  const lab = program.command('lab').description('a cluster of network-namespace nodes on this machine');
  lab
    .command('up')
    .description('build the underlay and N nodes, start the API server, controllers and one agent per node')
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--demo', 'apply the demo app (seed 003’s three tiers) and print what to try')
    .option('--no-control-plane', 'dataplane only: no API server; pods only with `podwire pod add`')
    .option(
      '--store <kind>',
      'the API server’s store: file (embedded, durable) or etcd (Debian’s etcd, in the control-plane namespace)',
      'file',
    )
    .option(
      '--eviction-seconds <s>',
      'how long pods tolerate a NotReady or unreachable node before they are evicted and replaced elsewhere (the API server’s --default-*-toleration-seconds; Kubernetes’ default 300)',
    )
    .option('--no-outside', 'leave out the outside: the client and www machines and the cloud load balancer')
    .option('--no-dns', 'leave out the cluster DNS add-on (CoreDNS behind kube-dns 10.96.0.10)')
    .option(
      '--no-ingress',
      'leave out the ingress add-on (ingress-nginx controller pods, IngressClass nginx, GatewayClass cilium)',
    )
    .option(
      '--no-supervisor',
      'leave out the supervisor that starts again an agent, the API server or etcd that dies (kill -9 included)',
    )
    .addHelpText(
      'after',
      "\nExamples:\n  podwire lab up --nodes 3 --demo\n  podwire lab up --nodes 2 --no-control-plane\n  podwire lab up --eviction-seconds 30   # a lost node's pods replaced in about a minute",
    )
    .action(
      async (o: {
        nodes: string;
        demo?: boolean;
        controlPlane: boolean;
        store: string;
        evictionSeconds?: string;
        outside: boolean;
        dns: boolean;
        ingress: boolean;
        supervisor: boolean;
      }) => {
        const prefix = deps.lab();
        if (o.demo && !o.controlPlane) throw deps.fail('--demo needs the control plane (leave out --no-control-plane)');
        if (o.store !== 'file' && o.store !== 'etcd') throw deps.fail('--store must be file or etcd');
        const evictionSeconds = o.evictionSeconds === undefined ? undefined : Number(o.evictionSeconds);
        if (evictionSeconds !== undefined && !(/^\d+$/.test(o.evictionSeconds!.trim()) && evictionSeconds <= 86_400))
          throw deps.fail(
            `--eviction-seconds must be a whole number of seconds, 0 to 86400 (got ${o.evictionSeconds})`,
          );
        if (evictionSeconds !== undefined && !o.controlPlane)
          throw deps.fail('--eviction-seconds needs the control plane (leave out --no-control-plane)');
        const state = await labUp({
          prefix,
          nodes: Number(o.nodes),
          controlPlane: o.controlPlane,
          store: o.store,
          evictionSeconds,
          outside: o.outside,
          supervise: o.supervisor,
          log: (m) => say(`· ${m}`),
        });
        if (state.apiserver)
          say(
            `· kubectl: podwire kubectl … (the admin kubeconfig above; for the machine's kubectl: podwire lab kubeconfig)`,
          );
        if (o.dns && o.controlPlane) await applyClusterDns(state, { ready: !!o.demo, log: (m) => say(`· ${m}`) });
        const ingress =
          o.ingress && o.controlPlane
            ? await applyIngressAddon(state, { ready: true, log: (m) => say(`· ${m}`) })
            : null;
        if (ingress)
          say(
            `· ingress controller Ready${ingress.externalIp ? `: Service ingress-nginx/ingress-nginx-controller EXTERNAL-IP ${ingress.externalIp}` : ''}`,
          );
        if (o.demo) await demo(deps, state, o.dns, ingress?.externalIp);
        // the web view is a separate process the learner starts (and stops) when they want it
        if (state.apiserver)
          say(`· web view: podwire${prefix === 'pwlab' ? '' : ` --lab ${prefix}`} ui  → http://127.0.0.1:8090`);
      },
    );
  lab
    .command('supervise')
    .description('run the lab’s supervisor: restarts what dies, with back-off (started for you by lab up)')
    .action(async () => {
      const stop = new AbortController();
      process.once('SIGTERM', () => stop.abort());
      process.once('SIGINT', () => stop.abort());
      await superviseLab({
        prefix: deps.lab(),
        log: (m) => say(`${new Date().toISOString()} ${m}`),
        signal: stop.signal,
      });
    });
  lab
    .command('down')
    .description('stop the agents and remove every namespace, link and file the lab made')
    .action(async () => {
      await labDown({ prefix: deps.lab(), log: say });
    });
  lab
    .command('restart-agent <node>')
    .description('stop a node’s agent and start a new one; pods stay and are adopted')
    .option('--crash', 'kill -9 instead of a clean stop')
    .action(async (node: string, o: { crash?: boolean }) => {
      const pid = await restartAgent({ prefix: deps.lab(), node, crash: o.crash });
      say(`agent on ${node} restarted (pid ${pid})`);
    });
  lab
    .command('restart-apiserver')
    .description('stop the API server (and controllers) and start it again on the same store; everyone reconverges')
    .option('--crash', 'kill -9 instead of a clean stop')
    .action(async (o: { crash?: boolean }) => {
      const pid = await restartApiServer({ prefix: deps.lab(), crash: o.crash });
      say(`API server restarted (pid ${pid})`);
    });
  lab
    .command('break [scenario] [target]')
    .description('make a fault to find (no arguments: list the scenarios)')
    .addHelpText(
      'after',
      `\nScenarios:\n${scenarioHelpLines().join('\n')}\n\nExamples:\n  podwire lab break agent-down node2\n  podwire lab break mtu-mismatch client\n  podwire lab break ingress-backend-missing app-ingress`,
    )
    .action(async (scenario?: string, target?: string) => {
      if (!scenario) {
        say(
          table(
            ['SCENARIO', 'TARGET', 'WHAT IT BREAKS', 'FIND IT WITH'],
            SCENARIOS.map((s) => [s.name, s.target, s.summary, s.findWith]),
          ),
        );
        return;
      }
      target ??= SCENARIOS.find((s) => s.name === scenario)?.defaultTarget;
      if (!target)
        throw deps.fail(
          `say which ${SCENARIOS.find((s) => s.name === scenario)?.target ?? 'target'}: podwire lab break ${scenario} <target>`,
        );
      const s = await breakLab(deps.requireLab(), scenario, target);
      say(`broken: ${s.name} on ${target} — ${s.summary}`);
      say(`find it: ${s.findWith}`);
      say('undo:    podwire lab fix');
    });
  lab
    .command('fix [scenario] [target]')
    .description('undo what lab break did (all of it, without arguments)')
    .action(async (scenario?: string, target?: string) => {
      const state = deps.requireLab();
      const fixed = await fixLab(state, scenario, target);
      say(fixed.length ? fixed.map((f) => `fixed: ${f.scenario} on ${f.target}`).join('\n') : 'nothing is broken');
      const left = brokenNow(state);
      if (left.length) say(`still broken: ${left.map((b) => `${b.scenario} on ${b.target}`).join(', ')}`);
    });
  lab
    .command('status')
    .description('nodes, agents and pods of the lab')
    .action(async () => {
      const { state, nodes, outside } = await labStatus({ prefix: deps.lab() });
      if (!state) return say(`no lab "${deps.lab()}" is up`);
      say(
        table(
          ['NODE', 'NODE-IP', 'POD-CIDR', 'AGENT', 'PID', 'PODS', 'PEERS-UP'],
          nodes.map((n) => [
            n.name,
            n.ip,
            n.podCidr,
            n.agent,
            String(n.pid ?? '-'),
            n.agent === 'running' ? String(n.pods) : '?',
            n.agent === 'running' ? `${n.peersUp}/${nodes.length - 1}` : '-',
          ]),
        ),
      );
      if (state.apiserver) {
        const cp = state.plan.controlPlane;
        const up = isOurAgent(state.apiserver, state.plan.prefix, 'apiserver');
        say(
          `control plane: ${cp.ns} ${cp.ip}:${cp.port} and ${cp.socket}, API server + controllers ${up ? `running (pid ${state.apiserver})` : 'down'}, store ${state.store ?? 'file'}, pods evicted from a lost node after ${state.evictionSeconds ?? 300} s`,
        );
      } else say('control plane: none (--no-control-plane): peers from a file, pods by `podwire pod add`');
      if (state.etcd) say(`etcd: ${processRunning(state.etcd) ? `running (pid ${state.etcd})` : 'down'}`);
      for (const l of supervisorStatusLines(state)) say(l);
      for (const l of outsideStatusLines(state.plan, outside)) say(l);
    });
  lab
    .command('kubeconfig')
    .description(
      'print the lab’s admin kubeconfig (https with the lab CA, the kubernetes-admin client certificate) for the machine’s kubectl',
    )
    .option('--path', 'print only where it is')
    .addHelpText(
      'after',
      [
        '',
        'The API server is on the lab’s underlay, reachable from the lab’s namespaces (podwire kubectl runs kubectl in the',
        'control plane’s). The machine’s own kubectl, as root:',
        '  podwire lab kubeconfig > lab.kubeconfig',
        '  ip netns exec <lab>-cp kubectl --kubeconfig lab.kubeconfig get nodes',
      ].join('\n'),
    )
    .action((o: { path?: boolean }) => {
      const state = deps.requireLab();
      if (!state.apiserver) throw deps.fail('this lab has no control plane (it was made with --no-control-plane)');
      const file = adminKubeconfigPath(state.plan);
      if (!fs.existsSync(file)) writeAdminKubeconfig(state.plan);
      if (o.path) say(file);
      else deps.io.out(fs.readFileSync(file, 'utf8'));
    });
  registerOutsideCommands(program, lab, {
    labName: () => deps.lab(),
    readLab: (prefix) => deps.requireLab(prefix),
    fail: (m) => deps.fail(m),
  });
}
