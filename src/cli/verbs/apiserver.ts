import fs from 'node:fs';
import type { Command } from 'commander';
import type { CliDeps } from './deps.js';

/** `podwire apiserver`: the API server and the controllers. */
export function register(program: Command, deps: CliDeps): void {
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
    .option(
      '--default-not-ready-toleration-seconds <s>',
      'the toleration of node.kubernetes.io/not-ready:NoExecute every pod gets unless it has one: evicted that long after its node turned NotReady',
      '300',
    )
    .option(
      '--default-unreachable-toleration-seconds <s>',
      'the same for node.kubernetes.io/unreachable:NoExecute (a node that stopped heartbeating)',
      '300',
    )
    .option('--prefix <prefix>', 'the lab this server belongs to (lets lab down find it)')
    // kube-apiserver's names for the same things
    .option(
      '--tls-cert-file <file>',
      'serve HTTPS with this certificate (PEM); without it, plain HTTP on loopback only',
    )
    .option('--tls-private-key-file <file>', "the serving certificate's key (PEM)")
    .option('--client-ca-file <file>', 'accept client certificates this CA signed: user = CN, groups = O')
    .option(
      '--service-account-key-file <file>',
      'public key (PEM) ServiceAccount tokens are verified with (repeatable; default: the signing key’s)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--service-account-signing-key-file <file>', 'private key (PEM) TokenRequest signs tokens with')
    .option(
      '--service-account-issuer <url>',
      'the iss of the tokens issued and accepted',
      'https://kubernetes.default.svc.cluster.local',
    )
    .option('--api-audiences <list>', 'audiences a token must name, comma-separated (default: the issuer)')
    .option(
      '--kubelet-client-certificate <file>',
      'reach the nodes’ :10250 (logs, exec, port-forward, stats) over TLS presenting this certificate',
    )
    .option('--kubelet-client-key <file>', 'its key')
    .option(
      '--authorization-mode <modes>',
      'Node,RBAC (default with TLS: the Node authorizer, then RBAC), RBAC, or AlwaysAllow (default on plain loopback HTTP)',
    )
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
        tlsCertFile?: string;
        tlsPrivateKeyFile?: string;
        clientCaFile?: string;
        serviceAccountKeyFile?: string[];
        serviceAccountSigningKeyFile?: string;
        serviceAccountIssuer?: string;
        apiAudiences?: string;
        authorizationMode?: string;
        defaultNotReadyTolerationSeconds: string;
        defaultUnreachableTolerationSeconds: string;
        kubeletClientCertificate?: string;
        kubeletClientKey?: string;
      }) => {
        const seconds = (flag: string, v: string) => {
          const n = Number(v);
          if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n))
            throw deps.fail(`--${flag} must be a whole number of seconds ≥ 0 (got ${v})`);
          return n;
        };
        const notReady = seconds('default-not-ready-toleration-seconds', o.defaultNotReadyTolerationSeconds);
        const unreachable = seconds('default-unreachable-toleration-seconds', o.defaultUnreachableTolerationSeconds);
        if (!o.kubeletClientCertificate !== !o.kubeletClientKey)
          throw deps.fail('--kubelet-client-certificate and --kubelet-client-key go together');
        const { runApiServer } = await import('../../control/run-apiserver.js');
        const { useKubeletClientCertificate } = await import('../../control/api/kubelet-client.js');
        if (o.kubeletClientCertificate && o.kubeletClientKey)
          useKubeletClientCertificate({
            cert: fs.readFileSync(o.kubeletClientCertificate),
            key: fs.readFileSync(o.kubeletClientKey),
          });
        const log = (m: string) => deps.io.out(`${new Date().toISOString()} ${m}\n`);
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
            tlsCertFile: o.tlsCertFile,
            tlsPrivateKeyFile: o.tlsPrivateKeyFile,
            clientCaFile: o.clientCaFile,
            serviceAccountKeyFiles: o.serviceAccountKeyFile,
            serviceAccountSigningKeyFile: o.serviceAccountSigningKeyFile,
            serviceAccountIssuer: o.serviceAccountIssuer,
            apiAudiences: o.apiAudiences?.split(',').filter(Boolean),
            authorizationMode: o.authorizationMode,
            defaultNotReadyTolerationSeconds: notReady,
            defaultUnreachableTolerationSeconds: unreachable,
          },
          log,
        );
        await new Promise<void>(() => {
          const stop = async (sig: string) => {
            log(`${sig}: stopping`);
            // Stopped is stopped, also with the store gone: a store client still
            // retrying (etcd down) may neither finish closing nor let the process end.
            const late = setTimeout(() => {
              log('the store did not close within 5 s; exiting anyway');
              process.exit(0);
            }, 5_000);
            await server.stop().catch((e) => log(`stopping: ${(e as Error).message}`));
            clearTimeout(late);
            process.exit(0);
          };
          process.once('SIGTERM', () => void stop('SIGTERM'));
          process.once('SIGINT', () => void stop('SIGINT'));
        });
      },
    );
}
