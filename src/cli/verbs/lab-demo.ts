import { applyDemo } from '../../lab/index.js';
import type { LabState } from '../../lab/index.js';
import { table } from '../../text/index.js';
import { podwireCommand } from '../../examples/index.js';
import type { CliDeps } from './deps.js';

/** lab up --demo: the demo app applied, its pods once ready, and what to try. */
export async function demo(deps: CliDeps, state: LabState, dns = false, ingressIp?: string): Promise<void> {
  const say = deps.say;
  say('· applying the demo app (examples/demo/three-tier.yaml)');
  const tty = deps.io.isTTY();
  let lastLine = '';
  const pods = await applyDemo(state, (ready, total, waiting) => {
    const line = `· pods ready ${ready}/${total}${waiting.length ? `  (waiting: ${waiting.slice(0, 4).join(', ')}${waiting.length > 4 ? ', …' : ''})` : ''}`;
    if (line === lastLine) return;
    lastLine = line;
    if (tty) deps.io.out(`\r\x1b[2K${line}`);
    else say(line);
  });
  if (tty) deps.io.out('\n');
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
  // `podwire` as the learner types it: with --lab when this is not the lab podwire picks by default
  const pw = podwireCommand(deps.lab(), process.env.PODWIRE_LAB ?? 'pwlab');
  say('\nTry:');
  say(
    `  ${pw} get pods -o wide                          # from the API server (pods, svc, endpoints, nodes, deploy …)`,
  );
  say(`  ${pw} exec client -- curl -s ${far.status.podIP}:3000/hostname   # pod → pod across nodes, over VXLAN`);
  if (dns)
    say(
      `  ${pw} exec client -- curl -s backend:8080/      # by name: CoreDNS behind kube-dns 10.96.0.10 (nslookup frontend, dig …)`,
    );
  if (ingressIp) {
    say(
      `  ${pw} tls-secret demo-tls --host demo.example.com; ${pw} apply -f examples/demo/ingress.yaml   # an Ingress: / → frontend, /api → backend`,
    );
    say(
      `  ${pw} lab exec client -- curl -sk --resolve demo.example.com:443:${ingressIp} https://demo.example.com/api/   # through the ingress controller (TLS, SNI): the backend sees the controller pod`,
    );
    say(
      `  ${pw} kubectl logs -n ingress-nginx -l app.kubernetes.io/name=ingress-nginx   # its access log, with the real kubectl`,
    );
  }
  say(`  ${pw} exec client -- traceroute -n ${far.status.podIP}     # hops: the gateway on each node`);
  say(`  ${pw} get endpoints backend; ${pw} describe pod ${far.metadata.name}`);
  say(`  ${pw} logs ${far.metadata.name}                    # container output, through the API server`);
  say(`  ${pw} trace client ${far.metadata.name}             # every stage a packet takes`);
  say(
    `  ip netns exec ${state.plan.underlayNs} tcpdump -ni ${state.plan.underlayBridge} udp port 4789   # watch the overlay`,
  );
  say(`  ${pw} example list; ${pw} example run 000-service-clusterip   # the articles’ manifests, end to end`);
  say(
    `  ${pw} kubectl get pods -o wide; ${pw} kubectl exec -it client -- nslookup backend   # the real kubectl (alias kubectl='${pw} kubectl')`,
  );
  say(`  ${pw} lab status;  ${pw} lab down`);
}
