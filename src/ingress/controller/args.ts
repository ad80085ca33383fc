/**
 * The ingress controller's command line, as ingress-nginx's
 * /nginx-ingress-controller takes it (pflag: `--flag=value`, `--flag value`,
 * a bare `--flag` for booleans), so the real Deployment's args run
 * unchanged. The flags that mean something here are honoured; the many
 * that tune NGINX, the admission webhook or leader-election timing are
 * accepted and listed in `ignored`, which the controller logs at start.
 * Pure: tests read the decisions as data.
 */
export const INGRESS_CONTROLLER = 'k8s.io/ingress-nginx';
export const INGRESS_CLASS = 'nginx';
/** The GatewayClass controllerName this controller implements: Cilium's, as the article's manifest names it. */
export const GATEWAY_CONTROLLER = 'io.cilium/gateway-controller';

export interface NamespacedName {
  namespace: string;
  name: string;
}

export interface ControllerArgs {
  /** --ingress-class: the class name (for the kubernetes.io/ingress.class annotation and IngressClass by name) */
  ingressClass: string;
  /** --controller-class: IngressClass spec.controller this controller implements */
  controllerClass: string;
  /** --gateway-controller-name (podwire's): GatewayClass spec.controllerName it implements */
  gatewayController: string;
  /** --publish-service: the Service whose EXTERNAL-IP goes into Ingress status */
  publishService?: NamespacedName;
  /** --publish-status-address: addresses written instead (comma-separated) */
  publishStatusAddress: string[];
  /** --update-status (default true) */
  updateStatus: boolean;
  /** --watch-namespace: only Ingresses of this namespace ('' = all) */
  watchNamespace: string;
  /** --watch-ingress-without-class */
  watchIngressWithoutClass: boolean;
  /** --default-ssl-certificate: a kubernetes.io/tls Secret served when no other matches */
  defaultSslCertificate?: NamespacedName;
  httpPort: number;
  httpsPort: number;
  /** --healthz-port: /healthz, /metrics and podwire's /podwire/events */
  healthzPort: number;
  /** --enable-metrics (default true) */
  enableMetrics: boolean;
  /** --election-id: names the leader in logs and metrics (podwire elects without a Lease: see leader.ts) */
  electionId: string;
  /** --apiserver-host */
  apiserver?: string;
  /** recognised flags without effect in podwire, as given */
  ignored: string[];
}

export class ControllerArgsError extends Error {
  readonly code = 'ERR_INGRESS_ARGS';
}

type Kind = 'string' | 'bool' | 'port' | 'ignored';
const FLAGS: Record<string, Kind> = {
  'ingress-class': 'string',
  'controller-class': 'string',
  'gateway-controller-name': 'string',
  'publish-service': 'string',
  'publish-status-address': 'string',
  'update-status': 'bool',
  'watch-namespace': 'string',
  'watch-ingress-without-class': 'bool',
  'default-ssl-certificate': 'string',
  'http-port': 'port',
  'https-port': 'port',
  'healthz-port': 'port',
  'enable-metrics': 'bool',
  'election-id': 'string',
  'apiserver-host': 'string',
};

/** ingress-nginx flags podwire accepts and does nothing with (NGINX tuning, webhook, timings, profiling). */
const IGNORED = new Set([
  'configmap',
  'tcp-services-configmap',
  'udp-services-configmap',
  'validating-webhook',
  'validating-webhook-certificate',
  'validating-webhook-key',
  'default-backend-service',
  'ingress-class-by-name',
  'enable-ssl-passthrough',
  'enable-ssl-chain-completion',
  'enable-topology-aware-routing',
  'sync-period',
  'sync-rate-limit',
  'status-update-interval',
  'election-ttl',
  'profiling',
  'profiler-port',
  'status-port',
  'stream-port',
  'default-server-port',
  'ssl-passthrough-proxy-port',
  'metrics-per-host',
  'metrics-per-undefined-host',
  'report-node-internal-ip-address',
  'maxmind-license-key',
  'maxmind-edition-ids',
  'shutdown-grace-period',
  'post-shutdown-grace-period',
  'kubeconfig',
  'v',
  'logtostderr',
  'watch-namespace-selector',
  'disable-catch-all',
  'disable-full-test',
  'disable-svc-external-name',
  'annotations-prefix',
  'enable-annotation-validation',
  'health-check-path',
  'health-check-timeout',
  'time-buckets',
  'length-buckets',
  'size-buckets',
  'exclude-socket-metrics',
  'publish-status-address-from-service',
  'allow-cross-namespace-resources',
  'dynamic-configuration-retries',
  'internal-logger-address',
  'update-status-on-shutdown',
  'enable-metrics-per-host',
]);

const BOOL = /^(true|false|1|0|t|f|TRUE|FALSE|True|False)$/;

function nsName(flag: string, v: string, defaultNs?: string): NamespacedName {
  const parts = v.split('/');
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  if (parts.length === 1 && parts[0] && defaultNs) return { namespace: defaultNs, name: parts[0] };
  throw new ControllerArgsError(`--${flag}: want <namespace>/<name>, got "${v}"`);
}

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new ControllerArgsError(`--${flag}: bad port "${v}"`);
  return n;
}

/**
 * Read the flags. `env` expands nothing (the kubelet already did
 * $(POD_NAMESPACE)); it gives the default namespace for a bare
 * --publish-service name.
 */
export function parseControllerArgs(argv: readonly string[], env: { POD_NAMESPACE?: string } = {}): ControllerArgs {
  const a: ControllerArgs = {
    ingressClass: INGRESS_CLASS,
    controllerClass: INGRESS_CONTROLLER,
    gatewayController: GATEWAY_CONTROLLER,
    publishStatusAddress: [],
    updateStatus: true,
    watchNamespace: '',
    watchIngressWithoutClass: false,
    httpPort: 80,
    httpsPort: 443,
    healthzPort: 10254,
    enableMetrics: true,
    electionId: 'ingress-controller-leader',
    ignored: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (!tok.startsWith('-') || tok === '-' || tok === '--')
      throw new ControllerArgsError(
        `unexpected argument "${tok}" (flags only, as /nginx-ingress-controller takes them)`,
      );
    const body = tok.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    let inline: string | undefined = eq < 0 ? undefined : body.slice(eq + 1);
    const kind: Kind | undefined = FLAGS[name] ?? (IGNORED.has(name) ? 'ignored' : undefined);
    if (!kind) throw new ControllerArgsError(`unknown flag: --${name}`);
    const next = argv[i + 1];
    if (kind === 'bool') {
      // pflag: a bare boolean flag is true; its value only ever comes after '='
      const v = inline ?? 'true';
      if (!BOOL.test(v)) throw new ControllerArgsError(`--${name}: bad boolean "${v}"`);
      const b = /^(true|1|t)$/i.test(v);
      if (name === 'update-status') a.updateStatus = b;
      else if (name === 'watch-ingress-without-class') a.watchIngressWithoutClass = b;
      else a.enableMetrics = b;
      continue;
    }
    if (inline === undefined) {
      // an ignored flag may be a boolean (--enable-ssl-passthrough): it takes no value then
      if (kind === 'ignored' && (next === undefined || next.startsWith('-'))) {
        a.ignored.push(tok);
        continue;
      }
      if (next === undefined) throw new ControllerArgsError(`flag needs an argument: --${name}`);
      inline = next;
      i++;
    }
    const v = inline;
    switch (name) {
      case 'ingress-class':
        a.ingressClass = v;
        break;
      case 'controller-class':
        a.controllerClass = v;
        break;
      case 'gateway-controller-name':
        a.gatewayController = v;
        break;
      case 'publish-service':
        a.publishService = nsName(name, v, env.POD_NAMESPACE);
        break;
      case 'publish-status-address':
        a.publishStatusAddress = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case 'watch-namespace':
        a.watchNamespace = v;
        break;
      case 'default-ssl-certificate':
        a.defaultSslCertificate = nsName(name, v, env.POD_NAMESPACE);
        break;
      case 'http-port':
        a.httpPort = port(name, v);
        break;
      case 'https-port':
        a.httpsPort = port(name, v);
        break;
      case 'healthz-port':
        a.healthzPort = port(name, v);
        break;
      case 'election-id':
        a.electionId = v;
        break;
      case 'apiserver-host':
        a.apiserver = v;
        break;
      default:
        a.ignored.push(`--${name}=${v}`);
    }
  }
  const ports = [a.httpPort, a.httpsPort, a.healthzPort];
  if (new Set(ports).size !== ports.length)
    throw new ControllerArgsError(`--http-port, --https-port and --healthz-port must differ (got ${ports.join(', ')})`);
  return a;
}
