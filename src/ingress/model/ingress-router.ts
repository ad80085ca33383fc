/**
 * route() for the Ingress listeners: host → server (exact host, then the one
 * `*.` wildcard that covers it, then the catch-all server of host-less
 * rules), path → location (ingress-paths.ts), then ingress-nginx's order of
 * work in a location: the HTTPS redirect first, then the rewrite, then the
 * proxy with its rate limit.
 *
 * The rewrite is nginx's `rewrite "(?i)<path>" <target> break;` exactly:
 * when the path regex is found anywhere in the URI, the whole URI becomes the
 * target with $1…$9 filled from the regex's groups; the query string is kept
 * (appended with & when the target has its own ?). So with
 * `rewrite-target: /` and path `/api`, `/api/users?id=1` goes upstream as
 * `/?id=1`. ingress-nginx skips the rewrite when the target equals the path
 * (needsRewrite), so the article's `/` path with `rewrite-target: /` sends
 * `/about` upstream unchanged — only its `/api` path sends everything to `/`.
 */
import type { RequestInfo, RouteDecision } from '../types.js';
import type { NginxSettings } from './annotations.js';
import { ingressWildcardFor } from './hosts.js';
import { hostText, type CompiledIngresses, type IngressLocation, type IngressServer } from './ingress-rules.js';
import { pathIndex, type PathIndex } from './ingress-paths.js';
import { withQuery } from './paths.js';

/** ingress-nginx's http-redirect-code default. */
export const SSL_REDIRECT_STATUS = 308;

interface IndexedServer {
  server: IngressServer;
  paths: PathIndex;
}

export class IngressRouter {
  private readonly exact = new Map<string, IndexedServer>();
  private readonly wildcard = new Map<string, IndexedServer>();
  private readonly catchAll: IndexedServer;

  constructor(compiled: CompiledIngresses, onInvalid: (loc: IngressLocation, why: string) => void) {
    const indexed = (server: IngressServer): IndexedServer => ({ server, paths: pathIndex(server, onInvalid) });
    for (const [host, server] of compiled.servers)
      (host.startsWith('*.') ? this.wildcard : this.exact).set(host, indexed(server));
    this.catchAll = indexed(compiled.catchAll);
  }

  serverFor(host: string): IngressServer {
    return this.lookup(host).server;
  }

  private lookup(host: string): IndexedServer {
    const exact = this.exact.get(host);
    if (exact) return exact;
    const w = ingressWildcardFor(host);
    return (w !== undefined ? this.wildcard.get(w) : undefined) ?? this.catchAll;
  }

  route(req: RequestInfo): RouteDecision {
    const { server, paths } = this.lookup(req.host);
    const loc = paths.match(req.path) ?? server.fallback;
    const settings = loc?.settings ?? server.rootSettings;
    if (!req.tls && redirectsToHttps(settings, server)) {
      let uri = withQuery(req.path, req.query);
      // ingress-nginx's Lua drops one trailing "/" from the request URI unless preserve-trailing-slash.
      if (!settings.preserveTrailingSlash && uri.endsWith('/')) uri = uri.slice(0, -1);
      const route = loc?.ref ?? {
        kind: 'Ingress',
        name: server.rootIngress,
        rule: `${hostText(server.host)}${req.path} (no rule matches)`,
      };
      return { kind: 'redirect', route, status: SSL_REDIRECT_STATUS, location: `https://${req.host}${uri}` };
    }
    if (!loc)
      return { kind: 'error', status: 404, reason: `no Ingress rule matches host ${req.host} path ${req.path}` };
    if (!loc.backend.ok)
      return { kind: 'error', route: loc.ref, status: loc.backend.status, reason: loc.backend.reason };
    let rewritePath: string | undefined;
    if (loc.rewrite && loc.settings.rewriteTarget !== undefined) {
      const target = nginxRewrite(loc.rewrite, loc.settings.rewriteTarget, req.path, req.query);
      if (target !== undefined && /^https?:\/\//i.test(target)) {
        // nginx: a replacement that starts with http:// or https:// is a redirect (302), not a rewrite.
        return { kind: 'redirect', route: loc.ref, status: 302, location: target };
      }
      rewritePath = target;
    }
    const decision: RouteDecision = { kind: 'proxy', route: loc.ref, backends: [loc.backend.target] };
    if (rewritePath !== undefined) decision.rewritePath = rewritePath;
    if (loc.settings.limitRps !== undefined) {
      decision.rateLimitRps = loc.settings.limitRps;
      decision.rateLimitBurst = loc.settings.limitBurst;
      decision.rateLimitKey = `Ingress ${loc.ingressKey}`;
    }
    return decision;
  }
}

/** ingress-nginx's redirect_to_https for a plain-HTTP request. */
export function redirectsToHttps(s: NginxSettings, server: IngressServer): boolean {
  return s.forceSslRedirect || (s.sslRedirect && server.tls);
}

/**
 * nginx `rewrite regex replacement break;` on path + query: undefined when the
 * regex is not found (the URI stays as it is).
 */
export function nginxRewrite(re: RegExp, target: string, path: string, query: string): string | undefined {
  const m = re.exec(path);
  if (!m) return undefined;
  const out = target.replace(/\$(\d)/g, (_, d: string) => m[Number(d)] ?? '');
  if (!query) return out;
  return out.includes('?') ? `${out}&${query}` : `${out}?${query}`;
}
