import type { Command } from 'commander';
import { ApiClient, type ApiServerTarget } from '../control/client/index.js';
import { parseDuration } from '../dns/index.js';
import { execaRunner } from '../host/index.js';
import type { LabState } from '../lab/index.js';
import {
  formatMatrix,
  matrixFailed,
  matrixJson,
  parseTopologySpec,
  probe,
  probeTopologyYaml,
  TARGET_MODES,
  type ProbeOptions,
  type TargetMode,
} from '../probe/index.js';
import { CliError } from './verbs/deps.js';

/**
 * `podwire probe`: the reachability matrix, expected (the policy model)
 * beside observed (real traffic from inside each pod), one table per
 * protocol/port as cyclonus prints it; exit 1 on any mismatch.
 */
export interface ProbeFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  ports: string;
  protocols: string;
  to: string;
  timeout: string;
  output: string;
  parallel: string;
  printTopology?: string | boolean;
}

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

/** The command's flags → ProbeOptions, or an error that names the flag (pure). */
export function probeOptionsOf(f: ProbeFlags): ProbeOptions {
  if (f.namespace && f.allNamespaces) throw new CliError('-n and -A: choose one');
  const ports = f.ports
    .split(',')
    .filter(Boolean)
    .map((p) => {
      if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)
        throw new CliError(`--ports: "${p}" is not a port (1-65535)`);
      return Number(p);
    });
  if (!ports.length) throw new CliError('--ports: give at least one port, e.g. 80,81');
  const protocols = f.protocols
    .split(',')
    .filter(Boolean)
    .map((p) => {
      const l = p.toLowerCase();
      if (!(PROTOCOLS as readonly string[]).includes(l))
        throw new CliError(`--protocols: "${p}" is not one of ${PROTOCOLS.join(', ')}`);
      return l as (typeof PROTOCOLS)[number];
    });
  if (!protocols.length) throw new CliError('--protocols: give at least one of tcp, udp, sctp');
  if (!(TARGET_MODES as readonly string[]).includes(f.to))
    throw new CliError(`--to must be ${TARGET_MODES.join(', ')}`);
  const timeoutMs = parseDuration(f.timeout);
  if (timeoutMs === null || timeoutMs <= 0)
    throw new CliError(`--timeout: "${f.timeout}" is not a duration (e.g. 1s, 500ms)`);
  if (f.output !== 'table' && f.output !== 'json') throw new CliError('-o must be table or json');
  const parallel = Number(f.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new CliError(`--parallel: "${f.parallel}" is not a positive whole number`);
  return {
    ...(f.namespace ? { namespace: f.namespace } : {}),
    ...(f.allNamespaces ? { allNamespaces: true } : {}),
    ...(f.selector ? { selector: f.selector } : {}),
    ports: [...new Set(ports)],
    protocols: [...new Set(protocols)],
    to: f.to as TargetMode,
    timeoutMs,
    parallel,
  };
}

const HELP = `
What it sends: from inside each source pod (one process per pod, entered as
\`podwire exec\` enters it), to every target pod on every port and protocol at
once: TCP connect(); UDP "hostname" and a wait for the answer. A policy drop
is silent, so:
  connected  TCP established / a UDP answer
  refused    TCP reset / ICMP port unreachable: it reached the pod, nothing listens
  blocked    nothing before --timeout
SCTP is reported as not probed, once (Node has no SCTP sockets).

What it expects: from podwire's policy model (pods, namespaces and
NetworkPolicies read from the API server): allowed iff the source's egress
and the target's ingress both allow it; a pod to itself always.

The targets must SERVE every probed port and protocol, or "allowed" shows as
refused (a mismatch, rightly: nothing was there to connect to). Pods that do:
  agnhost serve-hostname --tcp --udp --http=false --port <p>   (one container per port)
  any image podwire has no workload for, declaring TCP and UDP containerPorts
  (the generic listener answers TCP and UDP)
  --print-topology x,y,z:a,b,c prints such pods (cyclonus's namespaces x,y,z ×
  pods a,b,c, labels ns=… and pod=…, a Service s-<ns>-<pod> each) for --ports.

--to service-ip / service-name probe each target through a Service whose only
backend it is (the one printed with --print-topology), by ClusterIP or by
<svc>.<ns>.svc.cluster.local resolved by the source pod's resolver; the
expectation is the backend's, on its target port.

Cells:  . allowed as expected   X blocked as expected   ! observed differs
        ? not probed (why is listed)   - no target
Exit status 1 on any mismatch or cell that could not be probed.

Examples:
  podwire probe --print-topology x,y,z:a,b,c | podwire apply -f -
  podwire probe
  podwire probe -n x --ports 80 --protocols tcp
  podwire probe -l pod=a --to service-name -o json`;

export function registerProbeCommand(
  program: Command,
  deps: { server: () => ApiServerTarget; lab: () => LabState; fail: (msg: string) => Error },
): void {
  program
    .command('probe')
    .description(
      'reachability matrix of pods × ports × protocols: what the NetworkPolicy model expects beside what real traffic does (cyclonus-style), exit 1 on any mismatch',
    )
    .option('-n, --namespace <ns>', 'only pods of this namespace (default: every namespace but kube-system)')
    .option('-A, --all-namespaces', 'pods of every namespace, kube-system too')
    .option('-l, --selector <selector>', 'only pods with these labels (pod=a,ns in (x,y))')
    .option('--ports <list>', 'ports to probe on every target', '80,81')
    .option('--protocols <list>', 'tcp, udp, sctp', 'tcp,udp')
    .option('--to <how>', 'pods (their IPs), service-ip or service-name', 'pods')
    .option('--timeout <duration>', 'how long a probe waits before it counts as blocked', '1s')
    .option('-o, --output <fmt>', 'table or json (every cell: expected, observed, detail)', 'table')
    .option('--parallel <n>', 'source pods probing at once', '3')
    .option(
      '--print-topology [namespaces:pods]',
      'print the manifests of a probe topology (default x,y,z:a,b,c) serving --ports and --protocols, and exit',
    )
    .addHelpText('after', HELP)
    .action(async (f: ProbeFlags) => {
      let opts: ProbeOptions;
      try {
        opts = probeOptionsOf(f);
      } catch (e) {
        throw deps.fail((e as Error).message);
      }
      if (f.printTopology !== undefined) {
        const spec = parseTopologySpec(typeof f.printTopology === 'string' ? f.printTopology : 'x,y,z:a,b,c');
        const protocols = opts.protocols.filter((p) => p !== 'sctp') as ('tcp' | 'udp')[];
        return void process.stdout.write(probeTopologyYaml({ ...spec, ports: opts.ports, protocols }));
      }
      const api = new ApiClient(deps.server());
      try {
        const m = await probe({ api, state: deps.lab(), runner: execaRunner() }, opts);
        process.stdout.write(`${f.output === 'json' ? matrixJson(m) : formatMatrix(m)}\n`);
        if (matrixFailed(m)) process.exitCode = 1;
      } finally {
        api.close();
      }
    });
}
