import type { Command } from 'commander';

/**
 * `podwire coredns`: the cluster DNS server a kube-dns pod runs (src/dns/run.ts).
 * Also takes CoreDNS's own single-dash flags, as the real Deployment passes
 * them: `-conf PATH` (the ConfigMap's mount: podwire reads the ConfigMap
 * through the API instead) and `-dns.port N`.
 */
export function registerCorednsCommand(program: Command, fail: (msg: string) => Error): void {
  program
    .command('coredns')
    .description('the cluster DNS server (CoreDNS’s plugins: kubernetes, forward, cache, …) as a kube-dns pod runs it')
    .option('--conf <file>', 'a Corefile on disk (edits reload when it has the reload plugin)')
    .option(
      '--configmap <ns/name>',
      'read the Corefile from this ConfigMap (key Corefile) through the API, and watch it',
    )
    .option(
      '--apiserver <url>',
      'API server when KUBERNETES_SERVICE_HOST/PORT are not set (default https://10.96.0.1:443)',
    )
    .option('--dns-port <n>', 'serve every server block on this port instead of the Corefile’s')
    .option(
      '--zone-fixture <json>',
      'feed the kubernetes plugin from a JSON list of Services, EndpointSlices, Pods instead of the API',
    )
    .argument('[coredns-flags...]', 'CoreDNS’s own flags: -conf PATH, -dns.port N')
    .allowUnknownOption()
    .addHelpText(
      'after',
      '\nExamples:\n  podwire coredns --configmap kube-system/coredns\n  podwire coredns --conf ./Corefile --dns-port 1053 --zone-fixture objects.json',
    )
    .action(
      async (
        rest: string[],
        o: { conf?: string; configmap?: string; apiserver?: string; dnsPort?: string; zoneFixture?: string },
      ) => {
        let dnsPort = o.dnsPort;
        let configmap = o.configmap;
        for (let i = 0; i < rest.length; i++) {
          const flag = rest[i].replace(/^--?/, '');
          const [name, inline] = flag.split('=', 2);
          const value = () => inline ?? rest[++i];
          if (name === 'conf') {
            const path = value();
            // podwire has no volumes: the Corefile the ConfigMap volume would hold is read from the ConfigMap itself
            configmap ??= 'kube-system/coredns';
            process.stdout.write(
              `[INFO] -conf ${path}: podwire mounts no volumes; reading ConfigMap ${configmap} (key Corefile) through the API instead\n`,
            );
          } else if (name === 'dns.port') dnsPort = value();
          else if (name === 'quiet' || name === 'pidfile') {
            if (name === 'pidfile') value();
          } else throw fail(`coredns: unknown flag "${rest[i]}"`);
        }
        if (o.conf && configmap) throw fail('coredns: --conf and --configmap (or -conf) exclude each other');
        if (!o.conf && !configmap)
          throw fail('coredns: say where the Corefile is: --conf <file> or --configmap <namespace/name>');
        const port = dnsPort === undefined ? undefined : Number(dnsPort);
        if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
          throw fail(`coredns: bad port "${dnsPort}"`);
        const { runCoredns, stopOnSignals } = await import('../dns/index.js');
        const h = await runCoredns({
          conf: o.conf,
          configmap,
          apiserver: o.apiserver,
          dnsPort: port,
          zoneFixture: o.zoneFixture,
        });
        stopOnSignals(h);
      },
    );
}
