import fs from 'node:fs';
import os from 'node:os';
import { runInteractive } from '../host/index.js';
import type { Command } from 'commander';
import { table } from '../text/index.js';
import { labMachines, netnsEtcDir, type LabPlan, LAB_DEFAULTS } from './plan.js';
import type { LabState } from './lab.js';
import type { OutsideStatus } from './outside.js';
import { cloudLbRows } from '../cloudlb/index.js';
import { loadKubeconfig } from '../control/client/index.js';

/**
 * The CLI of the lab's outside: `podwire lab exec <machine> -- cmd…`, and
 * the two processes the lab (or compose) runs there, `podwire www` and
 * `podwire cloudlb`. Registered by src/cli/main.ts.
 */
const stamp = (m: string) => process.stdout.write(`${new Date().toISOString()} ${m}\n`);

/**
 * The argv that runs `argv` on a lab machine: its network namespace, a UTS
 * namespace named after it (as `podwire exec` does for pods) and, when the
 * machine has an /etc/netns/<ns> directory (the client: its resolv.conf),
 * a private mount namespace with those files over /etc's, as `ip netns exec` does.
 */
export function labExecArgv(ns: string, machine: string, argv: string[], etcDir?: string): string[] {
  if (!etcDir)
    return [
      'nsenter',
      `--net=/run/netns/${ns}`,
      '--',
      'unshare',
      '--uts',
      '--',
      'sh',
      '-c',
      'hostname "$0" 2>/dev/null; exec "$@"',
      machine,
      ...argv,
    ];
  const script =
    'hostname "$0" 2>/dev/null; for f in "$1"/*; do [ -e "$f" ] || continue; mount --bind "$f" "/etc/${f##*/}" || echo "podwire: could not bind-mount $f over /etc/${f##*/}" >&2; done; shift; exec "$@"';
  return [
    'nsenter',
    `--net=/run/netns/${ns}`,
    '--',
    'unshare',
    '--uts',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    script,
    machine,
    etcDir,
    ...argv,
  ];
}

/** Run it with the terminal passed through; resolves with its exit code (128 + signal when killed). */
export function runPassthrough(argv: string[]): Promise<number> {
  return runInteractive(argv);
}

export function registerOutsideCommands(
  program: Command,
  lab: Command,
  opts: { labName: () => string; readLab: (prefix: string) => LabState; fail: (msg: string) => Error },
): void {
  lab
    .command('exec <machine>')
    .description(
      'run a command on a machine of the lab: client, www, cloudlb, cp, a node, or the underlay (pods: podwire exec)',
    )
    .argument('<cmd...>', 'command (after --)')
    .addHelpText(
      'after',
      [
        '',
        'Machines: client (172.28.0.100, outside the cluster), www (172.28.0.200, "the internet"),',
        'cloudlb (172.28.0.3, the cloud load balancer), cp (172.28.0.2, the control plane), node1…N,',
        'underlay (the bridge every machine is plugged into). The command runs in the machine’s',
        'network namespace with the machine’s name as hostname; files and programs are this host’s.',
        '',
        'Examples:',
        '  podwire lab exec client -- curl -s http://172.28.0.200/',
        '  podwire lab exec client -- curl -sk https://172.28.0.200/',
        '  podwire lab exec client -- dig api.example.com     # the outside’s DNS (the client’s resolv.conf)',
        '  podwire lab exec node1 -- tcpdump -eni eth0 host 172.28.0.240',
        '  podwire lab exec underlay -- tcpdump -eni pwul0 arp',
      ].join('\n'),
    )
    .action(async (machine: string, argv: string[]) => {
      const state = opts.readLab(opts.labName());
      const machines = labMachines(state.plan, {
        controlPlane: !!state.apiserver,
        outside: !!state.outside && !!state.plan.outside,
      });
      const m = machines.find((x) => x.name === machine);
      if (!m)
        throw opts.fail(
          `no machine "${machine}" in lab ${state.plan.prefix}: one of ${machines.map((x) => x.name).join(', ')}${machine.startsWith('pod') || !machines.length ? '' : ' (pods: podwire exec <pod> -- …)'}`,
        );
      const etc = netnsEtcDir(m.ns);
      process.exitCode = await runPassthrough(labExecArgv(m.ns, m.name, argv, fs.existsSync(etc) ? etc : undefined));
    });

  program
    .command('www')
    .description(
      'serve "the internet" of the lab: HTTP, HTTPS and UDP echo, answering with your source address, and DNS for its external names (started for you by lab up / compose)',
    )
    .option('--name <name>', 'what the page calls this server', 'www')
    .option('--host <ip>', 'address to listen on', '0.0.0.0')
    .option('--http <port>', 'HTTP port, or off', '80')
    .option('--https <port>', 'HTTPS port, or off', '443')
    .option('--echo <port>', 'UDP echo port (RFC 862), or off', '7')
    .option('--dns <port>', 'DNS port (UDP and TCP): the lab’s external names, NXDOMAIN for the rest; or off', '53')
    .option(
      '--dns-address <ip>',
      'the address the external names answer with (default: this machine’s first IPv4 address)',
    )
    .option('--tls-dir <dir>', 'www.crt and www.key; made (self-signed, by openssl) when missing', '/run/podwire/www')
    .option('--prefix <prefix>', 'the lab this server belongs to (lets lab down find it)')
    .action(
      async (o: {
        name: string;
        host: string;
        http: string;
        https: string;
        echo: string;
        dns: string;
        dnsAddress?: string;
        tlsDir: string;
      }) => {
        const { runWww } = await import('./www.js');
        const { ensureSelfSignedCert } = await import('./www-cert.js');
        const port = (v: string) => (v === 'off' ? null : Number(v));
        let tls;
        const ips = Object.values(os.networkInterfaces())
          .flat()
          .filter((a) => a && a.family === 'IPv4' && !a.internal)
          .map((a) => a!.address);
        if (port(o.https) !== null) {
          tls = await ensureSelfSignedCert(o.tlsDir, {
            commonName: o.name,
            ips: ips.length ? ips : ['127.0.0.1'],
            dnsNames: [o.name],
          });
          if (tls.created) stamp(`made a self-signed certificate for ${o.name} (${ips.join(', ')}) in ${tls.certFile}`);
        }
        const server = await runWww({
          name: o.name,
          host: o.host,
          httpPort: port(o.http),
          httpsPort: port(o.https),
          echoPort: port(o.echo),
          dnsPort: port(o.dns),
          dnsAddress: o.dnsAddress ?? ips[0] ?? '127.0.0.1',
          tls,
          log: stamp,
        });
        await untilSignal(() => server.stop());
      },
    );

  program
    .command('cloudlb')
    .description(
      'run the emulated cloud load balancer: EXTERNAL-IPs for LoadBalancer Services, health checks, frames to a healthy node (started for you by lab up / compose)',
    )
    .option(
      '--apiserver <url>',
      'API server (https://host:port with $PODWIRE_KUBECONFIG’s credentials, http://host:port or unix:/path)',
      process.env.PODWIRE_SERVER,
    )
    .option('--pool <range>', 'EXTERNAL-IPs to hand out: first-last, an address or a CIDR', LAB_DEFAULTS.lbPool)
    .option('--interface <if>', 'the link to the nodes and clients', 'eth0')
    .option('--socket <path>', 'serve GET /status on this Unix socket')
    .option('--prefix <prefix>', 'the lab this load balancer belongs to (lets lab down find it)')
    .action(async (o: { apiserver?: string; pool: string; interface: string; socket?: string }) => {
      if (!o.apiserver) throw opts.fail('say which API server: --apiserver URL (or $PODWIRE_SERVER)');
      const { runCloudLb } = await import('../cloudlb/index.js');
      // compose: the admin kubeconfig's CA and client certificate ($PODWIRE_KUBECONFIG, as the podwire CLI reads it)
      const kubeconfig = process.env.PODWIRE_KUBECONFIG;
      const apiserver = kubeconfig ? { ...loadKubeconfig(kubeconfig), server: o.apiserver } : o.apiserver;
      const lb = await runCloudLb({ apiserver, pool: o.pool, ifname: o.interface, socket: o.socket }, stamp);
      await untilSignal(() => lb.stop());
    });
}

function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise<void>(() => {
    const onSignal = (sig: string) => {
      stamp(`${sig}: stopping`);
      void stop().finally(() => process.exit(0));
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}

/** What `podwire lab status` adds for the outside (pure: the unit tests compare it). */
export function outsideStatusLines(plan: LabPlan, s: OutsideStatus | null): string[] {
  if (!s || !plan.outside) return ['outside: none (--no-outside)'];
  const { client, www, cloudLb } = plan.outside;
  const out = [
    `outside: client ${client.ns} ${client.ip} (podwire lab exec client -- …)`,
    `         www ${www.ns} ${www.ip}: http :${www.httpPort}, https :${www.httpsPort}, udp echo :${www.echoPort}, ${s.www.running ? `running (pid ${s.www.pid})` : 'down'}`,
  ];
  if (!s.cloudLb) {
    out.push('cloud load balancer: none (it needs the control plane)');
    return out;
  }
  const st = s.cloudLb.status;
  out.push(
    `cloud load balancer: ${cloudLb.ns} ${cloudLb.ip}, EXTERNAL-IPs ${cloudLb.pool}, ${s.cloudLb.running ? `running (pid ${s.cloudLb.pid})` : 'down'}${st ? `, ${st.counters.forwarded} frames forwarded, ${st.flows} flows` : ''}`,
  );
  if (st?.services.length)
    out.push(table(['SERVICE', 'EXTERNAL-IP', 'PORTS', 'HEALTH CHECK', 'NODES'], cloudLbRows(st)));
  else if (st) out.push('  no Services of type LoadBalancer');
  return out;
}
