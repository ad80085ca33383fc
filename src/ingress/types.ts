/**
 * The seam between the ingress controller's pure routing model (compile.ts
 * and the matchers: Ingress, NGINX annotations, Gateway API) and the parts
 * that touch sockets (proxy/, the controller process). Pure data: the
 * proxy asks RouteTable.route() what to do with a request and does it.
 *
 *   compileRoutes(ClusterObjects, CompileOptions) → { table: RouteTable, statuses, events }
 *   table.route(RequestInfo) → RouteDecision   (no I/O, no allocation beyond the answer)
 *   table.certificate(sni, port) → the PEM pair to present, or undefined
 *   table.listeners → the ports (and TLS or not) the controller must serve
 */

/** API objects as the API server serves them (validated and defaulted). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

/** What the controller watches; every list is the whole cluster's. */
export interface ClusterObjects {
  ingresses: Obj[];
  ingressClasses: Obj[];
  gatewayClasses: Obj[];
  gateways: Obj[];
  httpRoutes: Obj[];
  referenceGrants: Obj[];
  services: Obj[];
  /** only kubernetes.io/tls Secrets matter (tls.crt / tls.key, base64 in data) */
  secrets: Obj[];
  namespaces: Obj[];
}

export interface CompileOptions {
  /** IngressClass spec.controller this controller implements: 'k8s.io/ingress-nginx' */
  ingressController: string;
  /** GatewayClass spec.controllerName this controller implements: 'io.cilium/gateway-controller' */
  gatewayController: string;
  /** the controller's own listeners for Ingress: HTTP and HTTPS ports (80, 443 in the pod) */
  httpPort: number;
  httpsPort: number;
  /** the PEM pair served when no Secret matches the SNI (ingress-nginx's "Kubernetes Ingress Controller Fake Certificate") */
  defaultCertificate?: PemPair;
  /** generation stamps for status conditions' observedGeneration are taken from the objects */
  nowIso?: string;
}

export interface PemPair {
  cert: string;
  key: string;
}

/** One request as the proxy saw it. Host is lowercased, without port; path without query. */
export interface RequestInfo {
  /** the listener it arrived on (the pod's port) */
  port: number;
  tls: boolean;
  /** TLS SNI, if any */
  sni?: string;
  host: string;
  method: string;
  path: string;
  /** raw query string without '?', '' when none */
  query: string;
  /** lowercased header names */
  headers: Record<string, string | string[] | undefined>;
  /** the client's address (for rate limits keyed by client, X-Forwarded-For) */
  clientIp: string;
}

/** Where a request goes: a Service port, reached at its ClusterIP through the cluster network. */
export interface BackendTarget {
  /** "ns/name" */
  service: string;
  /** the Service port asked for (resolved from a port name when the route named one) */
  port: number;
  /** ClusterIP to connect to ('' when the Service is headless: the proxy then fails with 503) */
  address: string;
  /** Gateway API weight (Ingress: 1) */
  weight: number;
  /**
   * Set when this backend cannot be used (Gateway API: a backendRef to a missing Service, or across
   * namespaces without a ReferenceGrant). The spec wants its share of the requests answered with this
   * status (500), so the proxy still picks it by weight and then answers { status, reason }.
   */
  failure?: { status: number; reason: string };
}

/** A header change (Gateway API HeaderModifier; also used for annotations) */
export interface HeaderChanges {
  set?: [string, string][];
  add?: [string, string][];
  remove?: string[];
}

export interface RouteRef {
  /** 'Ingress' | 'HTTPRoute' */
  kind: string;
  /** "ns/name" */
  name: string;
  /** e.g. "app.example.com/api (Prefix)", "rules[0].matches[1]" */
  rule: string;
}

export type RouteDecision =
  | {
      kind: 'proxy';
      route: RouteRef;
      /** choose by weight (one entry for Ingress); a weight of 0 is never chosen */
      backends: BackendTarget[];
      /** the path (and query) to send upstream, after rewrite-target / URLRewrite; undefined = unchanged */
      rewritePath?: string;
      /** Host header upstream (URLRewrite hostname); undefined = unchanged */
      rewriteHost?: string;
      requestHeaders?: HeaderChanges;
      responseHeaders?: HeaderChanges;
      /** RequestMirror: a copy of the request goes here too, its answer ignored */
      mirror?: BackendTarget[];
      /** NGINX limit-rps per client IP: over it, 429 (ingress-nginx answers 503 by default; podwire follows the issue: 429) */
      rateLimitRps?: number;
      /** requests allowed at once above the rate (ingress-nginx: limit-rps × limit-burst-multiplier, default ×5, nodelay) */
      rateLimitBurst?: number;
      /** a key the proxy's rate limiter buckets by (route identity), so two Ingresses do not share a bucket */
      rateLimitKey?: string;
    }
  | { kind: 'redirect'; route: RouteRef; status: 301 | 302 | 303 | 307 | 308; location: string }
  /** no backend to send to: the status (404 no route, 503 backend missing/without endpoints, 500 bad config) and why, in words */
  | { kind: 'error'; route?: RouteRef; status: number; reason: string };

export interface Listener {
  port: number;
  tls: boolean;
}

export interface RouteTable {
  readonly listeners: readonly Listener[];
  route(req: RequestInfo): RouteDecision;
  /** the certificate for this SNI on this port (exact host, then wildcard, then the default) */
  certificate(sni: string | undefined, port: number): PemPair | undefined;
  /** every route in words, for `podwire ingress routes` / describe (stable order) */
  describe(): string[];
}

/** A status the controller should write (PUT …/status), computed from the objects. */
export interface StatusUpdate {
  /** 'ingresses' | 'gateways' | 'httproutes' | 'gatewayclasses' */
  resource: string;
  namespace?: string;
  name: string;
  status: Obj;
}

/** An event the controller should record on an object (Warning for missing Services, Secrets …). */
export interface EventRecord {
  kind: string;
  namespace?: string;
  name: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface CompiledRoutes {
  table: RouteTable;
  statuses: StatusUpdate[];
  events: EventRecord[];
}
