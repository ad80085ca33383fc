import { parseControllerArgs, ControllerArgsError } from '../ingress/index.js';

/**
 * The slim entry for `podwire ingress-controller` (bin/podwire.js picks it):
 * what an ingress-nginx controller pod runs (src/kubelet/images.ts maps the
 * image to it). It loads only the controller, the route compiler and the
 * proxy — not the lab, the control plane and every other verb the full CLI
 * imports. Flags are ingress-nginx's (src/ingress/controller/args.ts), read
 * without commander because they are pflag's, not ours.
 */
export const USAGE = `Usage: podwire ingress-controller [ingress-nginx flags]

The ingress controller as an ingress-nginx pod runs it (the lab's add-on
starts it for the image registry.k8s.io/ingress-nginx/controller). It
watches Ingress, IngressClass, GatewayClass, Gateway, HTTPRoute,
ReferenceGrant, Service, EndpointSlice, Secret and Namespace, proxies HTTP
and HTTPS on :80/:443 (and Gateway listener ports), and serves :10254
/healthz, /metrics, /podwire/events and /podwire/routes.

Flags honoured (ingress-nginx's): --ingress-class, --controller-class,
--publish-service, --publish-status-address, --update-status,
--watch-namespace, --watch-ingress-without-class, --default-ssl-certificate,
--http-port, --https-port, --healthz-port, --enable-metrics, --election-id,
--apiserver-host; podwire's: --gateway-controller-name. Other
ingress-nginx flags are accepted and ignored (logged at start).
`;

export async function main(argv: string[]): Promise<void> {
  const flags = argv.slice(3);
  if (flags.includes('--help') || flags.includes('-h')) return void process.stdout.write(USAGE);
  try {
    const args = parseControllerArgs(flags, process.env);
    const { runIngressController, stopOnSignals } = await import('../ingress/controller/run.js');
    const h = await runIngressController(args);
    stopOnSignals(h);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    if (err instanceof ControllerArgsError)
      process.stderr.write(`(podwire ingress-controller --help lists the flags)\n`);
    process.exitCode = 1;
  }
}
