import fs from 'node:fs';
import { compileRoutes, ControllerMetrics, L7EventHub, httpEvent } from '../ingress/index.js';
import { IngressProxy, formatAccessLine } from '../ingress/proxy/index.js';
import type { ClusterObjects, PemPair } from '../ingress/index.js';

/**
 * `bench ingress`'s proxy-bound measure (ingress-ceiling.ts) runs podwire's
 * proxy as the controller runs it, without an API server to watch: the
 * objects (Ingress, IngressClass, Service, Secret) are read from a JSON
 * file, compiled by compileRoutes with the controller's options, and served
 * by the same IngressProxy with the controller's per-request work
 * (src/ingress/controller/sync.ts onAccess: the access line on stdout, the
 * Prometheus series, the L7 event for `observe`). What it leaves out is
 * what costs nothing per request: informers, status writes, :10254.
 *
 *   node dist/bench/ingress-engine-main.js OBJECTS.json
 *
 * Prints `serving` once its listeners are bound; SIGTERM stops it.
 */
interface EngineInput {
  objects: Partial<ClusterObjects>;
  certificate: PemPair;
  httpPort: number;
  httpsPort: number;
}

async function main(file: string): Promise<void> {
  const input = JSON.parse(fs.readFileSync(file, 'utf8')) as EngineInput;
  const compiled = compileRoutes(input.objects, {
    ingressController: 'k8s.io/ingress-nginx',
    gatewayController: 'io.cilium/gateway-controller',
    httpPort: input.httpPort,
    httpsPort: input.httpsPort,
    defaultCertificate: input.certificate,
    nowIso: new Date().toISOString(),
  });
  const metrics = new ControllerMetrics({
    controllerClass: 'k8s.io/ingress-nginx',
    namespace: 'ingress-nginx',
    pod: 'bench',
    electionId: 'bench',
  });
  const hub = new L7EventHub();
  const out = (line: string) => void process.stdout.write(`${line}\n`);
  const proxy = new IngressProxy({
    table: compiled.table,
    onAccess: (e) => {
      out(formatAccessLine(e));
      metrics.request(e);
      if (hub.subscribers) hub.publish(httpEvent(e, { pod: 'bench', node: 'bench' }));
    },
  });
  await proxy.start();
  process.stderr.write(
    `serving ${compiled.table.listeners.map((l) => `:${l.port}${l.tls ? ' (TLS)' : ''}`).join(' ')}\n`,
  );
  process.once('SIGTERM', () => void proxy.stop(1000).then(() => process.exit(0)));
}

main(process.argv[2]).catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
