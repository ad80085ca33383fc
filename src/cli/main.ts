import { Command, CommanderError } from 'commander';
import { spawn } from 'node:child_process';
import { restartApiServer, isOurAgent } from '../lab/index.js';
import {
  labUp,
  labDown,
  labStatus,
  restartAgent,
  SCENARIOS,
  scenarioHelpLines,
  breakLab,
  fixLab,
  brokenNow,
  readLabState,
  labPods,
  addPod,
  deletePod,
  findPod,
  podExecEntry,
  execCommand,
} from '../lab/index.js';
import { names, netnsExists, execaRunner } from '../host/index.js';
import { agentConfig } from '../agent/config.js';
import { runAgent } from '../agent/agent.js';
import { table } from './table.js';
import { callAgent } from '../agent/control-server.js';
import { agentSocketPath } from '../agent/agent.js';
import { describeDropReason, type DropReason } from '../dataplane/index.js';
import { captureDrops, captureInNamespace, captureNat } from './capture.js';
import { registerLbCommands } from './lb.js';
import { registerConntrackCommands } from './conntrack.js';
import { captureInterface, parseCaptureFilter, type CaptureFilter } from '../capture/index.js';
import { observe } from './observe.js';
import { readManifests, parseManifests, apply as applyManifests } from './apply.js';
import { applyDemo } from '../lab/demo.js';
import { trace } from './trace.js';
import { traceHttp, parseHttpTarget } from './ingress-trace.js';
import { relayL7Events } from '../observe/l7-relay.js';
import { injectProbe, catchProbe } from '../trace/index.js';
import { analyze, formatAnalysis } from '../analyze/index.js';
import { readCapture } from '../capture/index.js';
import { apiServerFor } from './server-address.js';
import { registerKubeCommands } from './kube/commands.js';
import { registerCorednsCommand } from './coredns.js';
import { registerDnsAddonCommand } from './dns-addon.js';
import { registerExplainPolicyCommand } from './policy-explain-command.js';
import { registerProbeCommand } from './probe.js';
import { applyClusterDns } from '../lab/cluster-dns.js';
import { applyIngressAddon } from '../lab/cluster-ingress.js';
import { registerIngressAddonCommand } from './ingress-addon.js';
import { registerTlsSecretCommand } from './ingress-tls-secret.js';
import { registerOutsideCommands, outsideStatusLines } from '../lab/outside-commands.js';

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
    .option(
      '--server <url>',
      'API server: http://host:port or unix:/path (default: $PODWIRE_SERVER, else the lab’s socket)',
    )
    .showHelpAfterError()
    .exitOverride();

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
    .option('--no-outside', 'leave out the outside: the client and www machines and the cloud load balancer')
    .option('--no-dns', 'leave out the cluster DNS add-on (CoreDNS behind kube-dns 10.96.0.10)')
    .option(
      '--no-ingress',
      'leave out the ingress add-on (ingress-nginx controller pods, IngressClass nginx, GatewayClass cilium)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  podwire lab up --nodes 3 --demo\n  podwire lab up --nodes 2 --no-control-plane',
    )
    .action(
      async (o: {
        nodes: string;
        demo?: boolean;
        controlPlane: boolean;
        store: string;
        outside: boolean;
        dns: boolean;
        ingress: boolean;
      }) => {
        const prefix = program.opts().lab as string;
        if (o.demo && !o.controlPlane)
          throw new CliError('--demo needs the control plane (leave out --no-control-plane)');
        if (o.store !== 'file' && o.store !== 'etcd') throw new CliError('--store must be file or etcd');
        const state = await labUp({
          prefix,
          nodes: Number(o.nodes),
          controlPlane: o.controlPlane,
          store: o.store,
          outside: o.outside,
          log: (m) => say(`· ${m}`),
        });
        if (o.dns && o.controlPlane) await applyClusterDns(state, { ready: !!o.demo, log: (m) => say(`· ${m}`) });
        const ingress =
          o.ingress && o.controlPlane
            ? await applyIngressAddon(state, { ready: true, log: (m) => say(`· ${m}`) })
            : null;
        if (ingress)
          say(
            `· ingress controller Ready${ingress.externalIp ? `: Service ingress-nginx/ingress-nginx-controller EXTERNAL-IP ${ingress.externalIp}` : ''}`,
          );
        if (o.demo) await demo(state, o.dns, ingress?.externalIp);
      },
    );
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
    .command('restart-apiserver')
    .description('stop the API server (and controllers) and start it again on the same store; everyone reconverges')
    .option('--crash', 'kill -9 instead of a clean stop')
    .action(async (o: { crash?: boolean }) => {
      const pid = await restartApiServer({ prefix: program.opts().lab, crash: o.crash });
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
        throw new CliError(
          `say which ${SCENARIOS.find((s) => s.name === scenario)?.target ?? 'target'}: podwire lab break ${scenario} <target>`,
        );
      const s = await breakLab(requireLab(program.opts().lab), scenario, target);
      say(`broken: ${s.name} on ${target} — ${s.summary}`);
      say(`find it: ${s.findWith}`);
      say('undo:    podwire lab fix');
    });
  lab
    .command('fix [scenario] [target]')
    .description('undo what lab break did (all of it, without arguments)')
    .action(async (scenario?: string, target?: string) => {
      const state = requireLab(program.opts().lab);
      const fixed = await fixLab(state, scenario, target);
      say(fixed.length ? fixed.map((f) => `fixed: ${f.scenario} on ${f.target}`).join('\n') : 'nothing is broken');
      const left = brokenNow(state);
      if (left.length) say(`still broken: ${left.map((b) => `${b.scenario} on ${b.target}`).join(', ')}`);
    });
  lab
    .command('status')
    .description('nodes, agents and pods of the lab')
    .action(async () => {
      const { state, nodes, outside } = await labStatus({ prefix: program.opts().lab });
      if (!state) return say(`no lab "${program.opts().lab}" is up`);
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
          `control plane: ${cp.ns} ${cp.ip}:${cp.port} and ${cp.socket}, API server + controllers ${up ? `running (pid ${state.apiserver})` : 'down'}, store ${state.store ?? 'file'}`,
        );
      } else say('control plane: none (--no-control-plane): peers from a file, pods by `podwire pod add`');
      for (const l of outsideStatusLines(state.plan, outside)) say(l);
    });
  registerOutsideCommands(program, lab, {
    labName: () => program.opts().lab,
    readLab: requireLab,
    fail: (m) => new CliError(m),
  });

  program
    .command('agent')
    .description('run the node agent in this network namespace (started for you by lab up / the container entrypoint)')
    .requiredOption('--node <name>', 'this node’s name')
    .option(
      '--pod-cidr <cidr>',
      'this node’s pod CIDR, e.g. 10.244.1.0/24 (with --apiserver: asked for; left out, the API server allocates one)',
    )
    .option(
      '--apiserver <url>',
      'API server (http://host:port or unix:/path): register the Node, run the pods bound to it, peers from Node objects',
    )
    .option('--prefix <prefix>', 'prefix of everything the agent creates', 'pw')
    .option('--state-dir <dir>', 'where IPAM and pod records persist')
    .option('--peers <file>', 'JSON file of peer nodes {"peers":[{name,nodeIp,podCidr}]}')
    .option('--underlay-if <if>', 'underlay interface', 'eth0')
    .option('--pod-mtu <n>', 'pod MTU (1500 − 50 VXLAN overhead)', '1450')
    .option('--metrics-port <n>', 'Prometheus /metrics on the node IP (0: off)', '9101')
    .option('--service-cidr <cidr>', 'Services’ ClusterIP range', '10.96.0.0/12')
    .option('--cluster-cidr <cidr>', 'every pod address of the cluster (never masqueraded)', '10.244.0.0/16')
    .option(
      '--lb-scheduler <name>',
      'default Service scheduler: random (as iptables), rr, wrr, lc, sh, maglev; per Service: annotation podwire.io/lb-scheduler',
      'random',
    )
    .option('--proxy-mode <mode>', 'hash (O(1) frontend table) or linear (iptables-style chains, for teaching)', 'hash')
    .option('--conntrack-max <n>', 'connection-tracking entries (kube-proxy’s conntrack.min default)', '131072')
    .option('--maglev-table-size <n>', 'Maglev lookup table size (prime, ≥ 100 × backends)', '65537')
    .option(
      '--cluster-dns <ips>',
      'the pods’ nameserver under dnsPolicy ClusterFirst (comma-separated; the kube-dns Service)',
      '10.96.0.10',
    )
    .option('--cluster-domain <domain>', 'the cluster’s DNS domain (the pods’ search list)', 'cluster.local')
    .option(
      '--resolv-conf <file>',
      'the node’s resolver file: dnsPolicy Default pods get it, ClusterFirst pods its search list ("": none)',
      '/etc/resolv.conf',
    )
    .action(async (o: Record<string, string>) => {
      // commander's camelCase back to the flags' own names, which agentConfig's errors quote
      const cfg = agentConfig(
        Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v])),
      );
      const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
      const agent = await runAgent(cfg, log);
      await new Promise<void>((resolve) => {
        const stop = async (sig: string) => {
          log(`${sig}: stopping`);
          await agent.stop();
          resolve();
          // Stopped is stopped: no handle left behind (a watch, a probe) may keep the agent up.
          process.exit(0);
        };
        process.once('SIGTERM', () => void stop('SIGTERM'));
        process.once('SIGINT', () => void stop('SIGINT'));
      });
    });

  program
    .command('apiserver')
    .description('run the Kubernetes-style API server and the controllers (kubectl can talk to it)')
    .option(
      '--store <spec>',
      'a directory (the embedded durable store) or etcd://host:port[,host:port]',
      '/var/lib/podwire/store',
    )
    .option('--port <n>', 'TCP port', '6443')
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option(
      '--advertise-address <ip>',
      'the address the kubernetes Service sends pods to (default: --host, when that is not 0.0.0.0 or 127.0.0.1)',
    )
    .option('--socket <path>', 'also listen on this Unix socket')
    .option(
      '--no-controllers',
      'only the API: no node IPAM/lifecycle, scheduler, Deployment, StatefulSet or endpoints controllers',
    )
    .option('--cluster-cidr <cidr>', 'pod addresses; each node gets a /24 of it', '10.244.0.0/16')
    .option('--node-monitor-grace-period <s>', 'seconds without a heartbeat before a node is NotReady', '10')
    .option('--prefix <prefix>', 'the lab this server belongs to (lets lab down find it)')
    .action(
      async (o: {
        store: string;
        port: string;
        host: string;
        advertiseAddress?: string;
        socket?: string;
        controllers: boolean;
        clusterCidr: string;
        nodeMonitorGracePeriod: string;
      }) => {
        const { runApiServer } = await import('../control/run-apiserver.js');
        const log = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);
        const server = await runApiServer(
          {
            store: o.store,
            host: o.host,
            advertiseAddress: o.advertiseAddress,
            port: Number(o.port),
            socket: o.socket,
            controllers: o.controllers,
            clusterCidr: o.clusterCidr,
            nodeMonitorGracePeriodMs: Number(o.nodeMonitorGracePeriod) * 1000,
          },
          log,
        );
        await new Promise<void>((resolve) => {
          const stop = () => void server.stop().then(resolve);
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        });
      },
    );

  program
    .command('apply')
    .description(
      'create or update objects from YAML/JSON manifests (all or nothing: the server checks every document first)',
    )
    .requiredOption('-f, --filename <path...>', 'file, directory or - (stdin); multi-document YAML')
    .option('-n, --namespace <ns>', 'namespace for objects that name none', 'default')
    .option('--server <url>', 'API server (as the global --server)')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire apply -f examples/003-multi-container-pod.yaml\n  cat app.yaml | podwire apply -f -',
    )
    .action(async (o: { filename: string[]; namespace: string; server?: string }) => {
      const { docs, problems } = parseManifests(readManifests(o.filename), o.namespace);
      if (problems.length) throw new CliError(`${problems.join('\nerror: ')}\nnothing was applied`);
      const r = await applyManifests(
        apiServerFor({ server: o.server ?? program.opts().server, lab: program.opts().lab }),
        docs,
      );
      for (const l of r.lines) say(l);
      if (r.problems.length)
        throw new CliError(`${r.problems.join('\nerror: ')}${r.lines.length ? '' : '\nnothing was applied'}`);
    });

  const pod = program
    .command('pod')
    .description(
      'add or remove a bare pod sandbox by hand (a netns on cbr0 with an IP, no containers, no API object): for dataplane experiments',
    );
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
      const prefix = program.opts().lab as string;
      // (the agent names a pod's netns <lab>-pod-<name>, with .<namespace> outside default)
      const ns = names.podNs(prefix, o.namespace === 'default' ? podName : `${podName}.${o.namespace}`);
      if (!(await netnsExists(execaRunner(), ns)))
        throw new CliError(`pod "${podName}" not found in namespace ${o.namespace} of lab ${prefix}`);
      const entry = await podExecEntry(requireLab(prefix), ns, o.container).catch((e: Error) => {
        throw new CliError(e.message);
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

  program
    .command('capture')
    .description(
      'write pcapng (or pcap) from any point: a pod’s eth0, a node’s cbr0 or eth0, the underlay, what an agent’s pipeline drops (each with its reason as the packet comment), or its NAT (before/after)',
    )
    .option('--pod <pod>', 'the pod’s eth0')
    .option('--node <node>', 'a node: with --if cbr0|eth0, or --drops')
    .option('--if <if>', 'cbr0 (the pods’ bridge) or eth0 (the node’s underlay link, VXLAN visible)')
    .option('--underlay', 'the lab’s underlay bridge: every node’s VXLAN traffic')
    .option('--drops', 'with --node: frames the agent’s pipeline dropped, with the reason as comment')
    .option(
      '--nat',
      'with --node: every packet the agent’s Service stage translates, before and after the rewrite (comments pre-nat / post-nat)',
    )
    .option('--pre', 'with --nat: only the packets as they were before NAT')
    .option('--post', 'with --nat: only the packets as NAT left them')
    .option('--proto <p>', 'tcp | udp | icmp | arp | vxlan (inside VXLAN too)')
    .option('--port <n>', 'source or destination port (inside VXLAN too)')
    .option('--host <ip>', 'source or destination address (inside VXLAN too)')
    .option('--format <f>', 'pcapng or pcap', 'pcapng')
    .option('-w, --write <file>', 'output file, or - for stdout (pipe into tshark -i -)', '-')
    .option('-c, --count <n>', 'stop after n packets')
    .option('--duration <s>', 'stop after s seconds')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire capture --underlay --host 10.244.2.2 -w overlay.pcapng -c 20\n  podwire capture --pod client --proto icmp -w - | tshark -i -\n  podwire capture --node node1 --drops -w drops.pcapng\n  podwire capture --node node1 --nat --host 10.96.1.2 -w nat.pcapng',
    )
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const state = requireLab(program.opts().lab);
      const count = o.count ? Number(o.count) : undefined;
      const durationS = o.duration ? Number(o.duration) : undefined;
      const out = String(o.write);
      const points = [o.pod, o.underlay, o.node].filter(Boolean).length;
      if (points !== 1)
        throw new CliError(
          'choose one capture point: --pod <pod>, --node <node> (with --if, --drops or --nat), or --underlay',
        );
      if (o.format !== 'pcapng' && o.format !== 'pcap') throw new CliError('--format must be pcapng or pcap');
      if (o.nat) {
        if (!o.node || o.drops || o.if) throw new CliError('--nat goes with --node only (not --drops or --if)');
        if (o.format === 'pcap')
          throw new CliError('pre-nat / post-nat are pcapng packet comments: use --format pcapng');
        if (o.pre && o.post) throw new CliError('--pre and --post together are the default: leave both out');
        const filter = parseCaptureFilter({
          proto: o.proto as string | undefined,
          port: o.port as string | undefined,
          host: o.host as string | undefined,
        });
        const side = o.pre ? 'pre' : o.post ? 'post' : 'both';
        const n = await captureNat(state, String(o.node), out, {
          side,
          filter,
          count,
          durationS,
          onReady: () =>
            process.stderr.write(
              `capturing ${side === 'both' ? 'before and after' : side === 'pre' ? 'before' : 'after'} NAT on ${o.node}'s pipeline\n`,
            ),
        });
        if (out !== '-') process.stderr.write(`${n} packets captured to ${out}\n`);
        return;
      }
      if (o.pre || o.post) throw new CliError('--pre and --post go with --nat');
      if (o.drops) {
        if (!o.node) throw new CliError('--drops goes with --node');
        if (o.format === 'pcap') throw new CliError('drop reasons are pcapng packet comments: use --format pcapng');
        if (o.proto || o.port || o.host) throw new CliError('filters apply to interface captures, not --drops');
        const n = await captureDrops(state, String(o.node), out, {
          count,
          durationS,
          onReady: () => process.stderr.write(`capturing drops on ${o.node}'s pipeline\n`),
        });
        if (out !== '-') process.stderr.write(`${n} packets captured to ${out}\n`);
        return;
      }
      const filter = parseCaptureFilter({
        proto: o.proto as string | undefined,
        port: o.port as string | undefined,
        host: o.host as string | undefined,
      });
      let ns: string;
      let ifname: string;
      let label: string;
      if (o.pod) {
        const pod = await findPod(state, String(o.pod));
        if (!pod) throw new CliError(`pod "${o.pod}" not found`);
        [ns, ifname, label] = [pod.netns, 'eth0', `${pod.name}/eth0`];
      } else if (o.underlay) {
        [ns, ifname, label] = [state.plan.underlayNs, state.plan.underlayBridge, 'underlay'];
      } else {
        const node = state.plan.nodes.find((n) => n.name === o.node);
        if (!node) throw new CliError(`no node "${o.node}"`);
        if (o.if !== 'cbr0' && o.if !== 'eth0')
          throw new CliError('with --node, say --if cbr0 or --if eth0 (or --drops)');
        [ns, ifname, label] = [node.ns, String(o.if), `${node.name}/${o.if}`];
      }
      // like tcpdump's "listening on ...": says when packets are really being captured
      const onReady = () =>
        process.stderr.write(
          `capturing on ${label}${o.proto || o.port || o.host ? ` (${[o.proto, o.port && `port ${o.port}`, o.host && `host ${o.host}`].filter(Boolean).join(', ')})` : ''}\n`,
        );
      const n = await captureInNamespace({
        ns,
        ifname,
        label,
        format: o.format,
        filter,
        count,
        durationS,
        out,
        promiscuous: Boolean(o.underlay),
        onReady,
      });
      if (out !== '-') process.stderr.write(`${n} packets captured to ${out}\n`);
    });

  program
    .command('capture-here', { hidden: true })
    .description('capture on an interface of the current network namespace, to stdout (used by capture)')
    .requiredOption('--if <if>')
    .requiredOption('--label <label>')
    .option('--format <f>', 'pcapng or pcap', 'pcapng')
    .option('--filter <json>', 'CaptureFilter as JSON', '{}')
    .option('--promisc')
    .option('-c, --count <n>')
    .action(
      async (o: {
        if: string;
        label: string;
        format: 'pcapng' | 'pcap';
        filter: string;
        promisc?: boolean;
        count?: string;
      }) => {
        const cap = captureInterface({
          ifname: o.if,
          label: o.label,
          format: o.format,
          filter: JSON.parse(o.filter) as CaptureFilter,
          promiscuous: o.promisc,
          count: o.count ? Number(o.count) : undefined,
          write: (chunk) => process.stdout.write(chunk),
        });
        process.once('SIGINT', () => cap.stop());
        process.once('SIGTERM', () => cap.stop());
        process.stdout.once('error', () => cap.stop()); // reader went away (EPIPE)
        const n = await cap.done;
        process.stderr.write(`captured ${n}\n`);
      },
    );

  program
    .command('drops')
    .description('what each agent has dropped so far, by reason, with what the reason means')
    .option('--node <node>', 'only this node')
    .action(async (o: { node?: string }) => {
      const state = requireLab(program.opts().lab);
      const rows: string[][] = [];
      for (const n of state.plan.nodes.filter((x) => !o.node || x.name === o.node)) {
        const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/drops', undefined, 3000).catch(() => null);
        if (!r || r.status !== 200) {
          rows.push([n.name, '-', '-', 'agent not answering']);
          continue;
        }
        for (const [reason, count] of Object.entries(r.body as Record<string, number>)) {
          if (count > 0) rows.push([n.name, reason, String(count), describeDropReason(reason as DropReason)]);
        }
      }
      say(rows.length ? table(['NODE', 'REASON', 'DROPS', 'MEANING'], rows) : 'no drops');
    });

  program
    .command('observe')
    .description(
      'live flow log from every agent, like hubble observe: new flows, TCP flags, per-second updates, every drop with its reason',
    )
    .option('--node <node>', 'only this node’s agent')
    .option('--pod <pod>', 'only flows from or to this pod')
    .option(
      '--verdict <v>',
      'FORWARDED, DROPPED or TRANSLATED (a new flow through a Service or masquerade); for HTTP also REDIRECTED',
    )
    .option(
      '--service <name>',
      'only a Service’s translations, the flows they start and drops about it (name or namespace/name)',
    )
    .option(
      '--policy <name>',
      'only a NetworkPolicy’s verdicts: connections it allowed (policy-verdict) and drops of the pods it isolates (name or namespace/name)',
    )
    .option('--port <n>', 'only flows with this source or destination port')
    .option(
      '--dns',
      'only DNS: each query (name, type, the search expansion it looks like) and answer (rcode, records, latency), and queries left unanswered',
    )
    .option(
      '--http',
      'only the ingress controllers’ L7 hop: each request as http-request/http-response (route matched, backend chosen, status, latency); without it they are merged with the flows',
    )
    .option('-o, --output <fmt>', 'json for one JSON object per line')
    .option('-c, --count <n>', 'stop after n events')
    .option('--duration <s>', 'stop after s seconds')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire observe --verdict DROPPED\n  podwire observe --pod client -o json\n  podwire observe --service backend\n  podwire observe --verdict DROPPED --policy default-deny\n  podwire observe --dns --pod client\n  podwire observe --http --verdict DROPPED      # requests the ingress controller answered itself (404, 503, 429 …)',
    )
    .action(
      async (o: {
        node?: string;
        pod?: string;
        verdict?: string;
        service?: string;
        policy?: string;
        port?: string;
        dns?: boolean;
        http?: boolean;
        output?: string;
        count?: string;
        duration?: string;
      }) => {
        if (o.verdict && !['FORWARDED', 'DROPPED', 'TRANSLATED', 'REDIRECTED'].includes(o.verdict.toUpperCase()))
          throw new CliError('--verdict must be FORWARDED, DROPPED, TRANSLATED or REDIRECTED');
        if (o.http && o.dns) throw new CliError('--http and --dns select different events: choose one');
        await observe(requireLab(program.opts().lab), {
          node: o.node,
          pod: o.pod,
          verdict: o.verdict,
          service: o.service,
          policy: o.policy,
          port: o.port ? Number(o.port) : undefined,
          dns: o.dns,
          http: o.http,
          json: o.output === 'json',
          count: o.count ? Number(o.count) : undefined,
          durationS: o.duration ? Number(o.duration) : undefined,
          onReady: () => process.stderr.write(`observing ${o.http ? 'HTTP requests' : 'flows'} (Ctrl-C to stop)\n`),
        });
      },
    );
  program
    .command('observe-l7-relay', { hidden: true })
    .requiredOption('--port <n>')
    .action(async (o: { port: string }) => {
      process.exitCode = await relayL7Events({ port: Number(o.port) });
    });

  program
    .command('trace <pod> <target>')
    .description('send one tagged probe from a pod and report every layer it crossed, or where it stopped and why')
    .option('--ttl <n>', 'IP TTL of the probe', '64')
    .option('--size <bytes>', 'IPv4 size of the probe (default: the source pod’s MTU, so the path MTU is tested too)')
    .option('-o, --output <fmt>', 'json')
    .option('--libc <flavor>', 'resolve a name with glibc’s or musl’s search-list rules', 'glibc')
    .option('--dns-timeout <ms>', 'how long to wait for each DNS answer', '2000')
    .addHelpText(
      'after',
      '\nTarget: <pod|ip>[:<port>][/tcp|udp|icmp] (icmp without a port, tcp with one),\n        or a Service: svc/[<namespace>/]<name>[:<port>][/tcp|udp], or its ClusterIP[:<port>],\n        or any other name: resolved first as the pod resolves it (its /etc/hosts, /etc/resolv.conf,\n        search list and ndots; each query sent from the pod), then traced to the address,\n        or a URL: http(s)://host[:port]/path — DNS, the Service (LoadBalancer, NodePort) to an ingress\n        controller pod, its route match (Ingress/HTTPRoute rule, rewrite, backend Service and weights),\n        then the controller’s own connection to that Service’s backend pod\n\nExamples:\n  podwire trace client web-2:80\n  podwire trace client 10.244.2.2/icmp --ttl 1\n  podwire trace client svc/backend\n  podwire trace client backend:8080              # DNS first, then the Service, then the path\n  podwire trace client api.example.com:80        # the ndots:5 search list, query by query\n  podwire trace client http://app.example.com/api   # through the ingress controller: where it stops, and why',
    )
    .action(
      async (
        podName: string,
        target: string,
        o: { ttl: string; size?: string; output?: string; libc: string; dnsTimeout: string },
      ) => {
        if (o.libc !== 'glibc' && o.libc !== 'musl') throw new CliError('--libc must be glibc or musl');
        const topts = {
          ttl: Number(o.ttl),
          size: o.size ? Number(o.size) : undefined,
          libc: o.libc,
          dnsTimeoutMs: Number(o.dnsTimeout),
        } as const;
        const state = requireLab(program.opts().lab);
        const { result, text } = parseHttpTarget(target)
          ? await traceHttp(state, podName, target, topts)
          : await trace(state, podName, target, topts);
        say(o.output === 'json' ? JSON.stringify(result, null, 2) : text);
        if (result.verdict !== 'DELIVERED' && result.verdict !== 'ANSWERED-BY-NODE') process.exitCode = 1;
      },
    );
  program
    .command('trace-inject', { hidden: true })
    .requiredOption('--pod <pod>')
    .requiredOption('--dst <ip>')
    .requiredOption('--proto <p>')
    .requiredOption('--port <n>')
    .requiredOption('--id <n>')
    .requiredOption('--ttl <n>')
    .option('--size <n>')
    .action(async (o: Record<string, string>) => {
      const r = await injectProbe({
        pod: o.pod,
        dst: o.dst,
        proto: o.proto as 'tcp',
        port: Number(o.port),
        id: Number(o.id),
        ttl: Number(o.ttl),
        size: o.size ? Number(o.size) : undefined,
      });
      say(JSON.stringify(r));
    });
  program
    .command('trace-resolve', { hidden: true })
    .requiredOption('--name <name>')
    .option('--libc <flavor>', '', 'glibc')
    .option('--timeout-ms <n>')
    .option('--attempts <n>')
    .action(async (o: { name: string; libc: string; timeoutMs?: string; attempts?: string }) => {
      const { podResolve } = await import('../resolver/index.js');
      const r = await podResolve({
        name: o.name,
        flavor: o.libc === 'musl' ? 'musl' : 'glibc',
        timeoutMs: o.timeoutMs ? Number(o.timeoutMs) : undefined,
        attempts: o.attempts ? Number(o.attempts) : undefined,
      });
      say(JSON.stringify(r));
    });
  program
    .command('trace-catch', { hidden: true })
    .requiredOption('--src <ip>')
    .requiredOption('--id <n>')
    .option('--timeout-ms <n>', '', '2000')
    .action(async (o: { src: string; id: string; timeoutMs: string }) => {
      const r = await catchProbe({
        src: o.src,
        id: Number(o.id),
        timeoutMs: Number(o.timeoutMs),
        onReady: () => say('ready'),
      });
      say(JSON.stringify(r));
    });

  program
    .command('analyze <file>')
    .description(
      'read a pcap/pcapng (podwire’s or tcpdump’s): conversations, TCP handshake RTT, retransmissions, resets, DNS latency and failures, VXLAN outer->inner, podwire drop reasons',
    )
    .option('--json', 'the whole analysis as JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      const a = analyze(await readCapture(file));
      say(o.json ? JSON.stringify(a, null, 2) : formatAnalysis(a, file));
    });

  program
    .command('bench')
    .argument('<name>', 'overlay, capture, scale, dns, services, netpol or ingress')
    .description('measure podwire beside the kernel’s equivalent path (prints a RESULT line)')
    .action(async (name: string) => {
      const { runBench } = await import('../bench/index.js');
      await runBench(name);
    });
  registerLbCommands(program, () => requireLab(program.opts().lab));
  registerConntrackCommands(program, () => requireLab(program.opts().lab));
  registerKubeCommands(program, () => apiServerFor({ server: program.opts().server, lab: program.opts().lab }));
  registerCorednsCommand(program, (m) => new CliError(m));
  registerDnsAddonCommand(program, () => apiServerFor({ server: program.opts().server, lab: program.opts().lab }));
  registerIngressAddonCommand(
    program,
    () => apiServerFor({ server: program.opts().server, lab: program.opts().lab }),
    (m) => new CliError(m),
  );
  registerTlsSecretCommand(
    program,
    () => apiServerFor({ server: program.opts().server, lab: program.opts().lab }),
    (m) => new CliError(m),
  );
  registerExplainPolicyCommand(program, () => apiServerFor({ server: program.opts().server, lab: program.opts().lab }));
  registerProbeCommand(program, {
    server: () => apiServerFor({ server: program.opts().server, lab: program.opts().lab }),
    lab: () => requireLab(program.opts().lab),
    fail: (m) => new CliError(m),
  });
  return program;
}

async function demo(state: Awaited<ReturnType<typeof labUp>>, dns = false, ingressIp?: string): Promise<void> {
  say('· applying the demo app (examples/demo/three-tier.yaml)');
  const tty = process.stdout.isTTY;
  let lastLine = '';
  const pods = await applyDemo(state, (ready, total, waiting) => {
    const line = `· pods ready ${ready}/${total}${waiting.length ? `  (waiting: ${waiting.slice(0, 4).join(', ')}${waiting.length > 4 ? ', …' : ''})` : ''}`;
    if (line === lastLine) return;
    lastLine = line;
    if (tty) process.stdout.write(`\r\x1b[2K${line}`);
    else say(line);
  });
  if (tty) process.stdout.write('\n');
  say('');
  const rows = pods
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => [
      p.metadata.name,
      p.status?.podIP ?? '',
      p.spec?.nodeName ?? '',
      (p.metadata.labels?.tier as string | undefined) ?? '',
    ]);
  say(table(['NAME', 'IP', 'NODE', 'TIER'], rows));
  const far =
    pods.find(
      (p) =>
        p.metadata.labels?.tier === 'frontend' &&
        p.spec?.nodeName === state.plan.nodes[state.plan.nodes.length - 1].name,
    ) ?? pods.find((p) => p.metadata.labels?.tier === 'frontend')!;
  const cp = state.plan.controlPlane;
  say('\nTry:');
  say(
    `  podwire get pods -o wide                          # from the API server (pods, svc, endpoints, nodes, deploy …)`,
  );
  say(`  podwire exec client -- curl -s ${far.status.podIP}:3000/hostname   # pod → pod across nodes, over VXLAN`);
  if (dns)
    say(
      `  podwire exec client -- curl -s backend:8080/      # by name: CoreDNS behind kube-dns 10.96.0.10 (nslookup frontend, dig …)`,
    );
  if (ingressIp) {
    say(
      `  podwire tls-secret demo-tls --host demo.example.com; podwire apply -f examples/demo/ingress.yaml   # an Ingress: / → frontend, /api → backend`,
    );
    say(
      `  podwire lab exec client -- curl -sk --resolve demo.example.com:443:${ingressIp} https://demo.example.com/api/   # through the ingress controller (TLS, SNI): the backend sees the controller pod`,
    );
    say(
      `  ip netns exec ${state.plan.controlPlane.ns} kubectl -s http://${state.plan.controlPlane.ip}:${state.plan.controlPlane.port} logs -n ingress-nginx -l app.kubernetes.io/name=ingress-nginx   # its access log`,
    );
  }
  say(`  podwire exec client -- traceroute -n ${far.status.podIP}     # hops: the gateway on each node`);
  say(`  podwire get endpoints backend; podwire describe pod ${far.metadata.name}`);
  say(`  podwire logs ${far.metadata.name}                    # container output, through the API server`);
  say(`  podwire trace client ${far.metadata.name}             # every stage a packet takes`);
  say(
    `  ip netns exec ${state.plan.underlayNs} tcpdump -ni ${state.plan.underlayBridge} udp port 4789   # watch the overlay`,
  );
  say(`  ip netns exec ${cp.ns} kubectl -s http://${cp.ip}:${cp.port} get pods -o wide   # real kubectl`);
  say('  podwire lab status;  podwire lab down');
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
