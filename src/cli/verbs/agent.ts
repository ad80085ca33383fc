import type { Command } from 'commander';
import { agentConfig, runAgent } from '../../agent/index.js';
import type { CliDeps } from './deps.js';

/** `podwire agent`: the node agent, in the network namespace it is started in. */
export function register(program: Command, deps: CliDeps): void {
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
      'API server (https://host:port, http://host:port or unix:/path): register the Node, run the pods bound to it, peers from Node objects',
    )
    .option(
      '--kubeconfig <file>',
      'the agent’s credentials for the API server (a node certificate: system:node:<name>); its server unless --apiserver',
    )
    .option(
      '--cluster-ca-file <file>',
      'the cluster CA pods get with their ServiceAccount token (default: the kubeconfig’s; none: no tokens projected)',
    )
    .option('--tls-cert-file <file>', ':10250 (logs, stats, exec, port-forward) over TLS with this certificate')
    .option('--tls-private-key-file <file>', 'its key')
    .option(
      '--client-ca-file <file>',
      'CA of the clients :10250 accepts: only the API server’s kubelet client (or system:masters); others 401/403',
    )
    .option(
      '--takeover',
      'start beside this node’s running agent and take the node over from it without a forwarding gap (its sockets, connections, ports); the old agent exits',
    )
    .option(
      '--anti-spoofing <on|off>',
      'drop pod frames whose source MAC/IP is not the pod’s (off only to measure its cost)',
      process.env.PODWIRE_ANTI_SPOOFING ?? 'on',
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
      const log = (m: string) => deps.io.out(`${new Date().toISOString()} ${m}\n`);
      const agent = await runAgent(cfg, log, {
        // a successor has the node (handover.ts): nothing is left to stop
        onHandedOver: () => process.exit(0),
      });
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
}
