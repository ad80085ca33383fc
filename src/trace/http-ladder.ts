import type { RouteRef } from '../ingress/index.js';
import type { Layer, TraceResult } from './report.js';
import type { RouteStep } from './http-route.js';
import { TraceError } from './errors.js';

/**
 * `podwire trace <pod> http(s)://host[:port]/path`: the whole ladder of a
 * request through the ingress controller, composed from two packet traces
 * and the L7 decision between them —
 *
 *   DNS → Service/LoadBalancer (or NodePort) → controller pod       (leg 1: the client pod's probe)
 *       → listener, TLS, route match, rewrite, backend Service       (the routing model)
 *       → Service → backend pod                                      (leg 2: a probe from the controller pod)
 *
 * and where it stops: the packet drop of either leg, or the controller
 * answering itself (404 no route, 503 backend missing, a redirect). Pure:
 * the CLI gathers (src/cli/ingress-trace.ts), this composes.
 */
export interface HttpTarget {
  scheme: 'http' | 'https';
  /** lowercase, as the Host header and SNI carry it */
  host: string;
  port: number;
  /** the path as the client sends it (dot-segments resolved, as curl does) */
  path: string;
  /** without '?', '' when none */
  query: string;
  url: string;
}

export function parseHttpTarget(s: string): HttpTarget | null {
  if (!/^https?:\/\//i.test(s)) return null;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new TraceError('ERR_BAD_URL', `"${s}" is not a URL (http(s)://host[:port]/path)`);
  }
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
  const host = u.hostname.toLowerCase();
  if (!host) throw new TraceError('ERR_BAD_URL', `"${s}" names no host`);
  const query = u.search.replace(/^\?/, '');
  const url = `${scheme}://${host}${u.port ? `:${u.port}` : ''}${u.pathname}${u.search}`;
  return { scheme, host, port, path: u.pathname, query, url };
}

/** One packet leg as `trace` reported it. */
export interface PacketLeg {
  result: TraceResult;
  /** how many of result.layers (at the start) are the DNS layer */
  dnsLayers: number;
  /** the address the name resolved to, or was */
  address?: string;
  /** the pod the probe arrived in */
  deliveredTo?: string;
}

/** The Service frontend leg 1's address:port is. */
export interface Frontend {
  service: string;
  /** LoadBalancer | NodePort | ClusterIP | ExternalIP */
  type: string;
  address: string;
  port: number;
  /** the pod port it leads to (the controller's listener) */
  targetPort: number;
}

export interface HttpLadderInput {
  target: HttpTarget;
  src: { name: string; ip: string; node: string };
  toController: PacketLeg;
  frontend?: Frontend;
  /** the ingress controller pod leg 1 reached; undefined when it reached something else */
  controller?: { name: string; ip: string; node: string };
  /**
   * A NodePort of another node: leg 1 ends where the pod's packet leaves its
   * node masqueraded (agents follow a probe by its pod source address), so
   * the hop from that node to a controller pod is said, not traced: the
   * pod that node's agent may pick (with externalTrafficPolicy Local only
   * its own; none: it drops the connection).
   */
  nodePort?: { node: string; localOnly: boolean; controller?: string };
  /** "Ingress default/app", "HTTPRoute app-team/api-route": the routes naming the host (said when DNS leads elsewhere) */
  claimedBy: string[];
  routeStep?: RouteStep;
  toBackend?: PacketLeg;
}

export type HttpVerdict = TraceResult['verdict'] | 'ANSWERED-BY-INGRESS' | 'REDIRECTED';

export interface HttpTraceResult {
  layers: Layer[];
  verdict: HttpVerdict;
  summary: string;
  reason?: string;
  /** the HTTP status the controller answers itself with, when it does */
  status?: number;
  route?: RouteRef;
  /** "ns/name:port" of the backend Service followed */
  backend?: string;
}

/** What the client gets when the controller's own connection to the backend fails on the way. */
function upstreamConsequence(reason: string | undefined): string {
  if (reason === 'no-endpoints') return 'the agent resets the connection, so the controller answers 502 Bad Gateway';
  if (reason?.startsWith('policy-denied'))
    return "a policy drop is silent, so the controller's connect times out and it answers 504 Gateway Timeout";
  return "the controller's connection fails, so it answers 502 Bad Gateway or 504 Gateway Timeout";
}

export function composeHttpTrace(i: HttpLadderInput): { result: HttpTraceResult; text: string } {
  const title = `trace ${i.src.name} (${i.src.ip}, ${i.src.node}) -> ${i.target.url}`;
  const leg1 = i.toController.result;
  const layers: Layer[] = leg1.layers.slice(0, i.toController.dnsLayers);
  const f = i.frontend;
  if (f) {
    const what =
      f.type === 'NodePort' ? `a NodePort of Service ${f.service}` : `the ${f.type} address of Service ${f.service}`;
    layers.push({
      where: i.src.name,
      what: `ingress: ${f.address}:${f.port} is ${what}: to the controller pods' :${f.targetPort}`,
    });
  }
  layers.push(...leg1.layers.slice(i.toController.dnsLayers));
  const done = (r: Omit<HttpTraceResult, 'layers'>) => {
    const result: HttpTraceResult = { layers, ...r };
    return { result, text: formatHttpTrace(result, title) };
  };
  const reason = leg1.reason ? { reason: leg1.reason } : {};
  const np = i.nodePort;
  if (leg1.verdict === 'DELIVERED' && np && f) {
    const policy = np.localOnly
      ? 'externalTrafficPolicy Local: only a controller pod on that node'
      : 'any ready controller pod';
    const pick = np.controller
      ? `to ${np.controller}`
      : 'to none: no controller pod runs there, so its agent drops the connection (etp-local-no-endpoint)';
    layers.push({
      where: `${np.node} agent`,
      what: `nodeport: ${f.address}:${f.port} (${policy}) ${pick}; not followed packet by packet past the masquerade`,
    });
    if (!np.controller)
      return done({
        verdict: 'DROPPED',
        reason: 'etp-local-no-endpoint',
        summary: `NodePort ${f.port} of ${np.node}: Service ${f.service} has externalTrafficPolicy Local and no controller pod on ${np.node}`,
      });
  }
  if (leg1.verdict !== 'DELIVERED' || !i.controller) {
    if (leg1.verdict === 'DELIVERED' && i.claimedBy.length) {
      const at = i.toController.deliveredTo ?? i.toController.address ?? '?';
      layers.push({
        where: i.src.name,
        what: `http: ${i.target.host} leads to ${at}, not to an ingress controller: ${i.claimedBy.join(', ')} route this host only for requests that reach the controller (point the name at its EXTERNAL-IP: DNS, or hostAliases in the pod)`,
      });
      return done({ verdict: leg1.verdict, summary: `${leg1.summary}; not through the ingress controller`, ...reason });
    }
    return done({
      verdict: leg1.verdict,
      summary:
        f && leg1.verdict !== 'DELIVERED'
          ? `on the way to the ingress controller (Service ${f.service}): ${leg1.summary}`
          : leg1.summary,
      ...reason,
    });
  }
  const ctl = i.controller;
  const step = i.routeStep!;
  layers.push(...step.layers);
  const route = step.route ? { route: step.route } : {};
  if (step.stop) {
    const s = step.stop;
    const at = step.route ? ` (${step.route.kind} ${step.route.name}, ${step.route.rule})` : '';
    const summary =
      s.verdict === 'REDIRECTED'
        ? `${ctl.name} redirects${at}: ${s.reason}`
        : `${s.status} from ${ctl.name} at the route step${at}: ${s.reason}`;
    return done({ verdict: s.verdict, summary, status: s.status, reason: s.reason, ...route });
  }
  const b = step.next!;
  const backend = `${b.service}:${b.port}`;
  const leg2 = i.toBackend!;
  layers.push({
    where: ctl.name,
    what: `proxy: a new connection from ${ctl.ip} to Service ${b.service} at ${b.address}:${b.port}:`,
  });
  layers.push(...leg2.result.layers.slice(leg2.dnsLayers));
  const r2 = leg2.result;
  const by = step.route ? `${step.route.kind} ${step.route.name} (${step.route.rule})` : 'the route';
  if (r2.verdict === 'DELIVERED') {
    const to = leg2.deliveredTo ?? b.address;
    return done({
      verdict: 'DELIVERED',
      summary: `delivered to ${to} through Service ${b.service}, routed by ${by} in ${ctl.name}`,
      backend,
      ...route,
    });
  }
  const summary = `routed by ${by} in ${ctl.name} to Service ${b.service}; then ${r2.summary}${r2.verdict === 'DROPPED' ? `: ${upstreamConsequence(r2.reason)}` : ''}`;
  return done({ verdict: r2.verdict, summary, backend, ...(r2.reason ? { reason: r2.reason } : {}), ...route });
}

export function formatHttpTrace(r: HttpTraceResult, title: string): string {
  const w = Math.max(0, ...r.layers.map((l) => l.where.length));
  return [
    title,
    ...r.layers.map((l, n) => `${String(n + 1).padStart(2)}. ${l.where.padEnd(w)}  ${l.what}`),
    `${r.verdict}: ${r.summary}`,
  ].join('\n');
}
