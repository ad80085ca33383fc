import { Option, type Command } from 'commander';
import { ApiClient, type ApiServerTarget } from '../control/client/index.js';
import { errorLine } from './kube/errors.js';
import { explainConnection, parsePodRef, parseTarget, type ClusterObjects } from './policy-explain.js';
import { formatExplanation } from './policy-explain-format.js';
import { CliError } from './verbs/deps.js';

/**
 * `podwire explain-policy <from-pod> <to>:<port>[/proto]`: would this new
 * connection be allowed by the cluster's NetworkPolicies, by what, and if
 * not, which policies isolate it. Reads pods, namespaces, NetworkPolicies
 * (and the target's Services) from the API server, the way every agent
 * compiles them; the reasoning is policy-explain.ts, the words
 * policy-explain-format.ts. Exit code 0: allowed; 1: denied (or an error).
 */
export function registerExplainPolicyCommand(program: Command, server: () => ApiServerTarget): void {
  program
    .command('explain-policy')
    .description(
      'would a new connection from a pod to a pod or Service be allowed by NetworkPolicy — by which rule, or which policies isolate it',
    )
    .argument('<from-pod>', 'the client pod: NAME or NS/NAME')
    .argument(
      '<to>',
      'POD:PORT | NS/POD:PORT | svc/NAME[:PORT] | svc/NS/NAME[:PORT], then /tcp, /udp or /sctp (default tcp); PORT a number or a port name; a bare NAME that is no pod is a Service',
    )
    .option('-n, --namespace <ns>', 'namespace of names given without one', 'default')
    .option('-o, --output <format>', 'json: the same answer as data')
    .addOption(new Option('--server <url>', 'API server (as the global --server)').hideHelp())
    .addHelpText(
      'after',
      `
Egress is judged at the source pod, ingress at the destination; through a
Service each backend pod is judged on its target port (after DNAT), as the
agents do. Exit status: 0 when allowed (for a Service: by every ready
backend), 1 when denied, partly allowed, with no backend, or on an error.

Examples:
  podwire explain-policy client backend-6c9f-k2x8p:8080
  podwire explain-policy client svc/backend:8080
  podwire explain-policy default/client kube-system/coredns-5d78-abcde:53/udp
  podwire explain-policy -n shop web-0 svc/db:postgres -o json`,
    )
    .action(async (fromText: string, toText: string, o: { namespace: string; output?: string; server?: string }) => {
      if (o.server) program.setOptionValue('server', o.server);
      const s = server();
      const client = new ApiClient(s);
      try {
        if (o.output !== undefined && o.output !== 'json')
          throw new CliError(`--output must be json (got "${o.output}")`);
        const from = parsePodRef(fromText, o.namespace);
        const target = parseTarget(toText, o.namespace);
        const [pods, namespaces, policies, services] = await Promise.all([
          client.list('pods', {}),
          client.list('namespaces', {}),
          client.list('networkpolicies', {}),
          target.kind === 'pod'
            ? Promise.resolve({ items: [] })
            : client.list('services', { namespace: target.namespace }),
        ]);
        const objs: ClusterObjects = {
          pods: pods.items,
          namespaces: namespaces.items,
          policies: policies.items,
          services: services.items,
        };
        const e = explainConnection(objs, from, target);
        process.stdout.write(o.output === 'json' ? `${JSON.stringify(e, null, 2)}\n` : formatExplanation(e));
        process.exitCode = e.allowed ? 0 : 1;
      } catch (e) {
        process.stderr.write(`${errorLine(e, client.server)}\n`);
        process.exitCode = 1;
      } finally {
        client.close();
      }
    });
}
