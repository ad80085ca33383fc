import type { Command } from 'commander';
import { ApiClient, type ApiServerTarget } from '../control/client/index.js';
import { ensureIngressAddon, ingressAddonYaml } from '../lab/index.js';

/**
 * `podwire ingress-addon`: the ingress add-on's objects as YAML (namespace
 * ingress-nginx, the controller Deployment and LoadBalancer Service,
 * IngressClass nginx, GatewayClass cilium) — what `podwire lab up` applies.
 * `--apply` creates them where missing instead (the compose cluster's demo
 * container runs that).
 */
export function registerIngressAddonCommand(
  program: Command,
  server: () => ApiServerTarget,
  fail: (msg: string) => Error,
): void {
  program
    .command('ingress-addon')
    .description(
      'the ingress add-on (ingress-nginx controller pods, LoadBalancer Service, IngressClass nginx, GatewayClass cilium) as YAML; --apply: create it',
    )
    .option('--replicas <n>', 'controller replicas (lab up: 2 with 3 nodes or more, else 1)', '1')
    .option('--apply', 'create the objects where missing instead of printing them')
    .addHelpText(
      'after',
      '\nExamples:\n  podwire ingress-addon | kubectl apply -f -\n  podwire ingress-addon --apply --replicas 2',
    )
    .action(async (o: { replicas: string; apply?: boolean }) => {
      const replicas = Number(o.replicas);
      if (!Number.isInteger(replicas) || replicas < 0)
        throw fail(`--replicas: want a whole number, got "${o.replicas}"`);
      if (!o.apply) return void process.stdout.write(ingressAddonYaml({ replicas }));
      const client = new ApiClient(server());
      try {
        for (const r of await ensureIngressAddon(client, { replicas })) {
          const kind =
            r.kind === 'IngressClass'
              ? 'ingressclass.networking.k8s.io'
              : r.kind === 'GatewayClass'
                ? 'gatewayclass.gateway.networking.k8s.io'
                : r.kind === 'Deployment'
                  ? 'deployment.apps'
                  : r.kind.toLowerCase();
          process.stdout.write(`${kind}/${r.name} ${r.created ? 'created' : 'unchanged (it exists)'}\n`);
        }
      } finally {
        client.close();
      }
    });
}
