/**
 * compileRoutes: the cluster's Ingress and Gateway API objects → one
 * RouteTable (pure; route() does no I/O), the status updates to write and
 * the events to record. See model/ for each rule and the documents it
 * follows (Kubernetes' Ingress, ingress-nginx, the Gateway API spec).
 *
 * Ports: the Ingress listeners are opts.httpPort (plain) and opts.httpsPort
 * (TLS), always served, as ingress-nginx does; each programmed Gateway
 * listener adds its port. Gateways and Ingresses share this one controller,
 * so a port can be both (the article's Gateway listens on 443 like the
 * Ingress HTTPS port): there a request goes to the Gateway's routes first
 * and, when none of them matches, to the Ingress rules — so one cannot take
 * the other's hosts by merely existing. Certificates on a shared port: exact
 * SNI (either API), then wildcards, then a Gateway listener without
 * hostname, then the default certificate.
 */
import type {
  ClusterObjects,
  CompileOptions,
  CompiledRoutes,
  Listener,
  Obj,
  PemPair,
  RequestInfo,
  RouteDecision,
  RouteTable,
  StatusUpdate,
} from './types.js';
import { CertificateStore } from './model/certificates.js';
import { describeGatewayApi, describeIngresses } from './model/describe.js';
import { compileGatewayApi } from './model/gateway-api.js';
import type { GatewayRouter } from './model/gateway-router.js';
import { ingressClassChoice } from './model/ingress-class.js';
import { IngressRouter } from './model/ingress-router.js';
import { compileIngresses } from './model/ingress-rules.js';
import { asArray, EventSink, ingressAgeOrder, nameOf, nsOf, ObjectIndex } from './model/objects.js';

const EMPTY: ClusterObjects = {
  ingresses: [],
  ingressClasses: [],
  gatewayClasses: [],
  gateways: [],
  httpRoutes: [],
  referenceGrants: [],
  services: [],
  secrets: [],
  namespaces: [],
};

export function compileRoutes(input: Partial<ClusterObjects>, opts: CompileOptions): CompiledRoutes {
  const objects: ClusterObjects = { ...EMPTY, ...input };
  const now = opts.nowIso ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const events = new EventSink();
  const index = new ObjectIndex(objects);
  const certs = new CertificateStore(opts.defaultCertificate);

  const ingresses = compileIngresses(objects.ingresses, objects.ingressClasses, index, opts, events, certs);
  const ingressRouter = new IngressRouter(ingresses, (loc, why) =>
    events.add(
      'Ingress',
      loc.ingress,
      'Warning',
      'InvalidPath',
      `${loc.ref.rule}: not a valid regular expression on a regex host (${why}); this path is ignored`,
    ),
  );
  const gw = compileGatewayApi(objects, index, opts, events, certs, now);

  const listeners: Listener[] = [
    { port: opts.httpPort, tls: false },
    { port: opts.httpsPort, tls: true },
  ];
  for (const l of gw.listeners) if (!listeners.some((x) => x.port === l.port)) listeners.push(l);
  listeners.sort((a, b) => a.port - b.port);

  const lines = [...describeIngresses(ingresses, opts.httpsPort), ...describeGatewayApi(gw)];
  const table = new Table(listeners, opts, ingressRouter, gw.router, certs, lines);
  return { table, statuses: gw.statuses, events: events.events };
}

class Table implements RouteTable {
  constructor(
    readonly listeners: readonly Listener[],
    private readonly opts: CompileOptions,
    private readonly ingress: IngressRouter,
    private readonly gateway: GatewayRouter,
    private readonly certs: CertificateStore,
    private readonly lines: string[],
  ) {}

  route(req: RequestInfo): RouteDecision {
    const g = this.gateway.route(req);
    if (g?.matched) return g.decision;
    const ingressPort = req.tls ? req.port === this.opts.httpsPort : req.port === this.opts.httpPort;
    if (ingressPort) return this.ingress.route(req);
    if (g) return g.decision;
    return {
      kind: 'error',
      status: 404,
      reason: `nothing listens for ${req.tls ? 'HTTPS' : 'HTTP'} on port ${req.port}`,
    };
  }

  certificate(sni: string | undefined, port: number): PemPair | undefined {
    return this.certs.lookup(sni, port);
  }

  describe(): string[] {
    return [...this.lines];
  }
}

/** The Ingresses this controller implements (their class is ours), oldest first: the ones whose status it writes. */
export function ourIngresses(
  objects: Pick<ClusterObjects, 'ingresses' | 'ingressClasses'>,
  opts: Pick<CompileOptions, 'ingressController'>,
): Obj[] {
  return asArray(objects.ingresses)
    .filter((i) => ingressClassChoice(i, objects.ingressClasses ?? [], opts.ingressController).ours)
    .sort(ingressAgeOrder);
}

/**
 * An Ingress's status: status.loadBalancer.ingress is the controller's own
 * address (its LoadBalancer Service's EXTERNAL-IP, which only the controller
 * process knows), e.g. [{ ip: '172.28.0.240' }] — what `kubectl get ingress`
 * shows as ADDRESS.
 */
export function ingressStatus(ingress: Obj, lbIngress: { ip?: string; hostname?: string }[]): StatusUpdate {
  return {
    resource: 'ingresses',
    namespace: nsOf(ingress),
    name: nameOf(ingress),
    status: {
      loadBalancer: {
        ingress: lbIngress.map((e) => ({
          ...(e.ip ? { ip: e.ip } : {}),
          ...(e.hostname ? { hostname: e.hostname } : {}),
        })),
      },
    },
  };
}
