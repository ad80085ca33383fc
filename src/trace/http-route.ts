import { X509Certificate } from 'node:crypto';
import type { BackendTarget, RouteDecision, RouteRef } from '../ingress/index.js';
import type { Layer } from './report.js';

/**
 * The L7 step of an HTTP trace: what the ingress controller pod decides
 * about the request, from the routing model compiled the way the
 * controller compiles it (the CLI does it locally from the API objects).
 * Pure: layers in words, and either the backend the controller connects to
 * next or where the request stops and why.
 */
export interface RouteStepInput {
  /** the controller pod ("ns/name") */
  controller: string;
  method: string;
  /** "http://app.example.com/api" as asked */
  url: string;
  host: string;
  /** the controller's listener: the pod port the request arrives on */
  port: number;
  tls: boolean;
  /** TLS: the certificate route table serves for this SNI, described (undefined: none, the controller's default) */
  certificate?: { subject: string; names: string[] } | null;
  decision: RouteDecision;
  /** the route table in words (RouteTable.describe()), to say what a host does have when nothing matched */
  routes: string[];
}

export interface RouteStep {
  layers: Layer[];
  /** where the request goes next: the Service port the controller connects to */
  next?: BackendTarget;
  route?: RouteRef;
  stop?: { verdict: 'ANSWERED-BY-INGRESS' | 'REDIRECTED'; status: number; reason: string };
}

/** A PEM certificate in words: its subject and subjectAltNames (null: no certificate). */
export function certificateWords(pem: string | undefined): { subject: string; names: string[] } | null {
  if (!pem) return null;
  try {
    const c = new X509Certificate(pem);
    return { subject: c.subject.replace(/\n/g, ', '), names: (c.subjectAltName ?? '').split(', ').filter(Boolean) };
  } catch {
    return { subject: '(unreadable PEM)', names: [] };
  }
}

const pct = (w: number, total: number) => `${Math.round((w * 1000) / total) / 10}%`;
const routeName = (r: RouteRef) => `${r.kind} ${r.name}, ${r.rule}`;

/** The heaviest usable backend (ties: the first), as the one the trace follows. */
export function followedBackend(bs: BackendTarget[]): BackendTarget | undefined {
  let best: BackendTarget | undefined;
  for (const b of bs) if (b.weight > 0 && (!best || b.weight > best.weight)) best = b;
  return best;
}

function backendWords(b: BackendTarget): string {
  return `Service ${b.service}:${b.port}${b.address ? ` (ClusterIP ${b.address}:${b.port})` : ' (headless: no ClusterIP)'}`;
}

function headerWords(h: { set?: [string, string][]; add?: [string, string][]; remove?: string[] }): string {
  return [
    ...(h.set ?? []).map(([k, v]) => `set ${k}: ${v}`),
    ...(h.add ?? []).map(([k, v]) => `add ${k}: ${v}`),
    ...(h.remove ?? []).map((k) => `remove ${k}`),
  ].join(', ');
}

export function explainRoute(s: RouteStepInput): RouteStep {
  const layers: Layer[] = [];
  const add = (what: string) => layers.push({ where: s.controller, what });
  add(`listener: :${s.port} (${s.tls ? 'HTTPS' : 'HTTP'}) ${s.method} ${s.url}, Host ${s.host}`);
  if (s.tls) {
    add(
      s.certificate
        ? `tls: SNI ${s.host} -> certificate ${s.certificate.subject}${s.certificate.names.length ? ` (${s.certificate.names.join(', ')})` : ''}`
        : `tls: no Secret's certificate for SNI ${s.host}: the controller presents its default (fake) certificate, which a verifying client refuses`,
    );
  }
  const d = s.decision;
  if (d.kind === 'error') {
    const known = s.routes.filter((l) => l.startsWith(`${s.host} `) || l.startsWith(`${s.host}: `));
    const listed = known.length > 5 ? [...known.slice(0, 5), `… ${known.length - 5} more`] : known;
    const has =
      d.status === 404
        ? known.length
          ? `; what host ${s.host} has: ${listed.join(' | ')}`
          : `; no Ingress or HTTPRoute names host ${s.host}`
        : '';
    add(`route: ${d.route ? `${routeName(d.route)}: ` : ''}${d.status} ${d.reason}${has}`);
    return {
      layers,
      ...(d.route ? { route: d.route } : {}),
      stop: { verdict: 'ANSWERED-BY-INGRESS', status: d.status, reason: d.reason },
    };
  }
  add(`route: ${routeName(d.route)}`);
  if (d.kind === 'redirect') {
    add(`redirect: ${d.status} to ${d.location}`);
    return {
      layers,
      route: d.route,
      stop: { verdict: 'REDIRECTED', status: d.status, reason: `${d.status} to ${d.location}` },
    };
  }
  if (d.rewritePath !== undefined) add(`rewrite: path -> ${d.rewritePath}`);
  if (d.rewriteHost !== undefined) add(`rewrite: Host -> ${d.rewriteHost}`);
  if (d.requestHeaders && headerWords(d.requestHeaders)) add(`request headers: ${headerWords(d.requestHeaders)}`);
  if (d.responseHeaders && headerWords(d.responseHeaders)) add(`response headers: ${headerWords(d.responseHeaders)}`);
  if (d.rateLimitRps)
    add(
      `rate limit: ${d.rateLimitRps} requests/s per client${d.rateLimitBurst ? ` (burst ${d.rateLimitBurst})` : ''}: over it, 429`,
    );
  for (const m of d.mirror ?? []) add(`mirror: a copy to ${backendWords(m)}, its answer ignored`);
  const next = followedBackend(d.backends);
  if (!next) {
    add('backend: none with a weight above 0');
    return {
      layers,
      route: d.route,
      stop: { verdict: 'ANSWERED-BY-INGRESS', status: 500, reason: 'no backend with a weight above 0' },
    };
  }
  const live = d.backends.filter((b) => b.weight > 0);
  if (live.length > 1) {
    const total = live.reduce((n, b) => n + b.weight, 0);
    const each = d.backends
      .map(
        (b) =>
          `${b.service}:${b.port} weight ${b.weight} (${pct(b.weight, total)})${b.failure ? ` → ${b.failure.status}` : ''}`,
      )
      .join(', ');
    add(`backend: by weight, each request on its own: ${each}; following the heaviest, ${backendWords(next)}`);
  } else add(`backend: ${backendWords(next)}`);
  if (next.failure) {
    return {
      layers,
      route: d.route,
      stop: { verdict: 'ANSWERED-BY-INGRESS', status: next.failure.status, reason: next.failure.reason },
    };
  }
  if (!next.address) {
    const reason = `Service ${next.service} is headless: no ClusterIP to connect to`;
    return { layers, route: d.route, stop: { verdict: 'ANSWERED-BY-INGRESS', status: 503, reason } };
  }
  return { layers, route: d.route, next };
}
