/**
 * Every route in words, for `podwire ingress routes` and describe. Stable
 * order: Ingress hosts alphabetically (the catch-all `*` last), their paths
 * alphabetically (Exact, Prefix, ImplementationSpecific for one path); then
 * the Gateway listeners (Gateway, listener), their route hostnames, their
 * matches in the order route() tries them.
 *
 *   app.example.com /api (Prefix) → default/api-service:80 (10.96.0.12:80) · Ingress default/app-ingress · ssl-redirect, limit-rps 10 (burst 50)
 *   api.example.com PathPrefix /v2 → app-team/api-v2:80 (10.96.0.20:80) weight 90, … · HTTPRoute app-team/api-route rules[0].matches[0] · Gateway infra/main-gateway listener https (HTTPS :443)
 */
import type { BackendTarget } from '../types.js';
import { settingsText } from './annotations.js';
import { backendText } from './backends.js';
import type { CompiledGatewayApi } from './gateway-api.js';
import { listenerText } from './gateway.js';
import { entryOrder } from './gateway-router.js';
import { hostText, type CompiledIngresses, type IngressLocation, type IngressServer } from './ingress-rules.js';
import { matchText } from './httproute-match.js';

const TYPE_ORDER = { Exact: 0, Prefix: 1, ImplementationSpecific: 2 } as const;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function ingressLine(l: IngressLocation, server: IngressServer, what: string): string {
  const t = l.backend.target;
  const extras = settingsText(l.settings, server.tls);
  return `${what} → ${backendText(t, l.portText)} · Ingress ${l.ingressKey}${extras ? ` · ${extras}` : ''}`;
}

export function describeIngresses(c: CompiledIngresses, httpsPort: number): string[] {
  const out: string[] = [];
  const servers = [...c.servers.values()].sort((a, b) => cmp(a.host, b.host));
  for (const s of [...servers, c.catchAll]) {
    const host = hostText(s.host);
    if (s.tls) out.push(`${host}: TLS on :${httpsPort}`);
    if (s.regex)
      out.push(
        `${host}: every path is a case-insensitive regular expression anchored at the start (use-regex or rewrite-target on this host, as ingress-nginx)`,
      );
    const locs = [...s.locations].sort(
      (a, b) => cmp(a.path, b.path) || TYPE_ORDER[a.pathType] - TYPE_ORDER[b.pathType],
    );
    for (const l of locs) out.push(ingressLine(l, s, `${host} ${l.path} (${l.pathType})`));
    if (s.fallback) out.push(ingressLine(s.fallback, s, `${host} default backend`));
  }
  for (const x of c.conflicts) {
    const by = x.owner === x.ingress ? 'an earlier path of the same Ingress' : `Ingress ${x.owner}, the older`;
    out.push(`Ingress ${x.ingress} ignores ${x.rule}: already routed by ${by}`);
  }
  for (const ing of c.ingresses) {
    const key = `${ing.metadata?.namespace ?? 'default'}/${ing.metadata?.name}`;
    for (const i of c.settings.get(key)?.ignored ?? [])
      out.push(`Ingress ${key} ignores nginx.ingress.kubernetes.io/${i}`);
  }
  return out;
}

function backendsText(bs: BackendTarget[]): string {
  if (bs.length === 0) return '(no backendRefs: 500)';
  return bs.map((b) => `${backendText(b)} weight ${b.weight}`).join(', ');
}

export function describeGatewayApi(g: CompiledGatewayApi): string[] {
  const out: string[] = [];
  for (const gw of g.gateways) {
    for (const l of gw.listeners) {
      const table = g.tables.find((t) => t.listener === l);
      if (!table) {
        const why = l.conflicted ?? (!l.accepted.ok ? l.accepted : l.resolvedRefs);
        out.push(`${listenerText(l)}: not programmed — ${why.reason}: ${why.message}`);
        continue;
      }
      const hosts = [...table.hosts.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : cmp(a, b)));
      for (const h of hosts) {
        for (const e of [...table.hosts.get(h)!].sort(entryOrder)) {
          const a = e.rule.action;
          const target = a.redirect || a.unsupported ? '' : ` → ${backendsText(e.rule.backends)}`;
          const filters = a.text.length ? ` · ${a.text.join('; ')}` : '';
          out.push(
            `${h || '*'} ${matchText(e.match)}${target}${filters} · HTTPRoute ${e.cr.key} ${e.ref.rule} · Gateway ${listenerText(l)}`,
          );
        }
      }
    }
  }
  for (const r of g.routes) {
    for (const p of r.parents)
      if (!p.accepted.ok)
        out.push(
          `HTTPRoute ${r.cr.key} not attached to Gateway ${p.gateway.key}: ${p.accepted.reason}: ${p.accepted.message}`,
        );
  }
  return out;
}
