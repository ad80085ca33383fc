import type { Command } from 'commander';
import { trace } from '../trace.js';
import { traceHttp, parseHttpTarget } from '../ingress-trace.js';
import { injectProbe, catchProbe } from '../../trace/index.js';
import type { CliDeps } from './deps.js';

/** `podwire trace <pod> <target>` (and the hidden helpers it runs inside namespaces: trace-inject, trace-resolve, trace-catch). */
export function register(program: Command, deps: CliDeps): void {
  const say = deps.say;
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
        if (o.libc !== 'glibc' && o.libc !== 'musl') throw deps.fail('--libc must be glibc or musl');
        const topts = {
          ttl: Number(o.ttl),
          size: o.size ? Number(o.size) : undefined,
          libc: o.libc,
          dnsTimeoutMs: Number(o.dnsTimeout),
        } as const;
        const state = deps.requireLab();
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
      const { podResolve } = await import('../../resolver/index.js');
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
}
