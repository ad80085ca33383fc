/**
 * route() for Gateway listeners. On the request's port (HTTP or HTTPS as it
 * arrived): the listener whose hostname matches the Host best (exact, then
 * the longest wildcard, then one without hostname); on it, the attached
 * Routes' matches in the spec's precedence — first by the Route hostname the
 * request matched (the most characters of an exact name, then of a
 * wildcard), then match precedence (httproute-match.ts) — and the first that
 * matches decides. Nothing matches: 404.
 * HTTPS: when the SNI would have chosen another listener than the Host does,
 * 421 Misdirected Request, as the spec recommends.
 */
import type { RequestInfo, RouteDecision, RouteRef } from '../types.js';
import { listenerText, type ListenerModel } from './gateway.js';
import { gatewayWildcardsFor, isWildcard } from './hosts.js';
import { compareMatches, matchesRequest, type CompiledMatch } from './httproute-match.js';
import type { CompiledRoute, CompiledRule } from './httproute-rules.js';
import { createdMs } from './objects.js';
import { parseQuery, replacePrefixMatch, withQuery } from './paths.js';

export interface RouteEntry {
  cr: CompiledRoute;
  rule: CompiledRule;
  matchIndex: number;
  match: CompiledMatch;
  ref: RouteRef;
}

export interface ListenerTable {
  listener: ListenerModel;
  /** Route hostname ('' = any) → entries in precedence order */
  hosts: Map<string, RouteEntry[]>;
}

interface PortListeners {
  exact: Map<string, ListenerTable>;
  wildcard: Map<string, ListenerTable>;
  any?: ListenerTable;
}

export function entryOrder(a: RouteEntry, b: RouteEntry): number {
  return (
    compareMatches(a.match, b.match) ||
    createdMs(a.cr.route) - createdMs(b.cr.route) ||
    (a.cr.key < b.cr.key ? -1 : a.cr.key > b.cr.key ? 1 : 0) ||
    a.rule.index - b.rule.index ||
    a.matchIndex - b.matchIndex
  );
}

export type GatewayAnswer = { matched: true; decision: RouteDecision } | { matched: false; decision: RouteDecision };

export class GatewayRouter {
  private readonly ports = new Map<string, PortListeners>();

  constructor(tables: ListenerTable[]) {
    for (const t of tables) {
      const key = `${t.listener.port}/${t.listener.tls}`;
      let p = this.ports.get(key);
      if (!p) this.ports.set(key, (p = { exact: new Map(), wildcard: new Map() }));
      const h = t.listener.hostname;
      if (h === undefined) p.any ??= t;
      else (isWildcard(h) ? p.wildcard : p.exact).set(h, t);
      for (const list of t.hosts.values()) list.sort(entryOrder);
    }
  }

  serves(port: number, tls: boolean): boolean {
    return this.ports.has(`${port}/${tls}`);
  }

  private listenerFor(p: PortListeners, host: string): ListenerTable | undefined {
    const exact = p.exact.get(host);
    if (exact) return exact;
    for (const w of gatewayWildcardsFor(host)) {
      const t = p.wildcard.get(w);
      if (t) return t;
    }
    return p.any;
  }

  /** undefined: no Gateway listener on this port and protocol. */
  route(req: RequestInfo): GatewayAnswer | undefined {
    const p = this.ports.get(`${req.port}/${req.tls}`);
    if (!p) return undefined;
    const table = this.listenerFor(p, req.host);
    if (!table)
      return {
        matched: false,
        decision: {
          kind: 'error',
          status: 404,
          reason: `no Gateway listener on port ${req.port} takes host ${req.host}`,
        },
      };
    if (req.tls && req.sni && req.sni.toLowerCase() !== req.host) {
      const bySni = this.listenerFor(p, req.sni.toLowerCase());
      if (bySni && bySni !== table) {
        return {
          matched: true,
          decision: {
            kind: 'error',
            status: 421,
            reason: `Misdirected Request: TLS SNI ${req.sni} chose ${listenerText(bySni.listener)}, Host ${req.host} belongs to ${listenerText(table.listener)}`,
          },
        };
      }
    }
    let query: Map<string, string> | undefined;
    const q = () => (query ??= parseQuery(req.query));
    for (const key of [req.host, ...gatewayWildcardsFor(req.host), '']) {
      const entries = table.hosts.get(key);
      if (!entries) continue;
      for (const e of entries)
        if (matchesRequest(e.match, req, q)) return { matched: true, decision: decide(e, req, table.listener) };
    }
    return {
      matched: false,
      decision: {
        kind: 'error',
        status: 404,
        reason: `no HTTPRoute rule matches host ${req.host} path ${req.path} on ${listenerText(table.listener)}`,
      },
    };
  }
}

function modifiedPath(path: string, m: CompiledMatch, mod: { type: string; value: string } | undefined): string {
  if (!mod) return path;
  return mod.type === 'ReplaceFullPath' ? mod.value : replacePrefixMatch(path, m.pathValue, mod.value);
}

function decide(e: RouteEntry, req: RequestInfo, listener: ListenerModel): RouteDecision {
  const a = e.rule.action;
  if (a.unsupported) return { kind: 'error', route: e.ref, status: 500, reason: a.unsupported };
  if (a.redirect) {
    const r = a.redirect;
    const scheme = r.scheme ?? (req.tls ? 'https' : 'http');
    const port = r.port ?? (r.scheme ? (scheme === 'https' ? 443 : 80) : listener.port);
    const portPart = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443) ? '' : `:${port}`;
    const path = modifiedPath(req.path, e.match, r.path);
    return {
      kind: 'redirect',
      route: e.ref,
      status: r.statusCode,
      location: `${scheme}://${r.hostname ?? req.host}${portPart}${withQuery(path, req.query)}`,
    };
  }
  const backends = e.rule.backends;
  if (backends.length === 0)
    return {
      kind: 'error',
      route: e.ref,
      status: 500,
      reason: `HTTPRoute ${e.cr.key} ${e.ref.rule} has no backendRefs`,
    };
  const live = backends.filter((b) => b.weight > 0);
  if (live.length === 0)
    return {
      kind: 'error',
      route: e.ref,
      status: 500,
      reason: `HTTPRoute ${e.cr.key} ${e.ref.rule}: every backendRef has weight 0`,
    };
  if (live.every((b) => b.failure))
    return { kind: 'error', route: e.ref, status: live[0].failure!.status, reason: live[0].failure!.reason };
  const d: RouteDecision = { kind: 'proxy', route: e.ref, backends };
  if (a.rewrite?.path) d.rewritePath = withQuery(modifiedPath(req.path, e.match, a.rewrite.path), req.query);
  if (a.rewrite?.hostname) d.rewriteHost = a.rewrite.hostname;
  if (a.requestHeaders) d.requestHeaders = a.requestHeaders;
  if (a.responseHeaders) d.responseHeaders = a.responseHeaders;
  if (a.mirror.length) d.mirror = a.mirror;
  return d;
}
