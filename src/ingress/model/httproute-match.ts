/**
 * HTTPRouteMatch: path (Exact, PathPrefix, RegularExpression), headers,
 * query params and method, ANDed; and the spec's precedence between matches
 * across all rules of the Routes on a listener:
 *   Exact path, then the longest PathPrefix, then a method match, then the
 *   most header matches, then the most query-param matches; then the oldest
 *   Route, then "namespace/name" alphabetically, then rule and match order.
 * RegularExpression precedence is implementation-specific: podwire ranks it
 * between Exact and PathPrefix, longer expressions first (as Envoy Gateway
 * does). Regular expressions are JavaScript's, matched against the whole
 * value (anchored both ends, like Envoy's RE2 full match).
 * Header names are case-insensitive, query-param names exact; a repeated
 * header is matched as its values joined by ",", a repeated query param by
 * its first value (the spec's recommendation).
 */
import type { Obj, RequestInfo } from '../types.js';
import { asArray } from './objects.js';
import { compileRegex, prefixBase, prefixMatches } from './paths.js';

export type GatewayPathType = 'Exact' | 'PathPrefix' | 'RegularExpression';

interface ValueMatch {
  name: string;
  exact?: string;
  re?: RegExp;
  /** as written, for describe() */
  text: string;
}

export interface CompiledMatch {
  pathType: GatewayPathType;
  pathValue: string;
  base: string;
  pathRe?: RegExp;
  method?: string;
  headers: ValueMatch[];
  query: ValueMatch[];
}

const PATH_RANK: Record<GatewayPathType, number> = { Exact: 3, RegularExpression: 2, PathPrefix: 1 };
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

const anchored = (src: string) => compileRegex(`^(?:${src})$`);

/** A match from the spec, or the UnsupportedValue reason that makes its rule invalid. */
export function compileMatch(m: Obj | undefined): CompiledMatch | { error: string } {
  const path = m?.path ?? {};
  const pathType = (path.type ?? 'PathPrefix') as GatewayPathType;
  const pathValue = typeof path.value === 'string' ? path.value : '/';
  if (!(pathType in PATH_RANK)) return { error: `path match type ${String(pathType)} is not supported` };
  const out: CompiledMatch = { pathType, pathValue, base: prefixBase(pathValue), headers: [], query: [] };
  if (pathType === 'RegularExpression') {
    const re = anchored(pathValue);
    if (typeof re === 'string') return { error: `path regular expression ${JSON.stringify(pathValue)}: ${re}` };
    out.pathRe = re;
  }
  if (m?.method !== undefined) {
    if (!METHODS.has(m.method)) return { error: `method ${String(m.method)} is not supported` };
    out.method = m.method;
  }
  for (const [list, into, lower] of [
    [m?.headers, out.headers, true],
    [m?.queryParams, out.query, false],
  ] as const) {
    for (const h of asArray(list)) {
      const name = lower ? String(h.name).toLowerCase() : String(h.name);
      if (into.some((x) => x.name === name)) continue; // only the first of equivalent names counts
      const type = h.type ?? 'Exact';
      const value = String(h.value ?? '');
      if (type === 'Exact') into.push({ name, exact: value, text: `${h.name}=${value}` });
      else if (type === 'RegularExpression') {
        const re = anchored(value);
        if (typeof re === 'string')
          return { error: `${lower ? 'header' : 'query param'} ${h.name} regular expression: ${re}` };
        into.push({ name, re, text: `${h.name}~${value}` });
      } else return { error: `${lower ? 'header' : 'query param'} match type ${String(type)} is not supported` };
    }
  }
  return out;
}

function valueOk(v: ValueMatch, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return v.exact !== undefined ? actual === v.exact : v.re!.test(actual);
}

function headerValue(req: RequestInfo, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Does the request satisfy every condition of the match? `query` is parsed lazily by the caller. */
export function matchesRequest(m: CompiledMatch, req: RequestInfo, query: () => Map<string, string>): boolean {
  switch (m.pathType) {
    case 'Exact':
      if (req.path !== m.pathValue) return false;
      break;
    case 'PathPrefix':
      if (!prefixMatches(m.base, req.path)) return false;
      break;
    default:
      if (!m.pathRe!.test(req.path)) return false;
  }
  if (m.method !== undefined && req.method !== m.method) return false;
  for (const h of m.headers) if (!valueOk(h, headerValue(req, h.name))) return false;
  if (m.query.length) {
    const q = query();
    for (const p of m.query) if (!valueOk(p, q.get(p.name))) return false;
  }
  return true;
}

/** Negative when `a` takes precedence over `b` (the match-only part; Route age and name come after). */
export function compareMatches(a: CompiledMatch, b: CompiledMatch): number {
  return (
    PATH_RANK[b.pathType] - PATH_RANK[a.pathType] ||
    b.pathValue.length - a.pathValue.length ||
    Number(b.method !== undefined) - Number(a.method !== undefined) ||
    b.headers.length - a.headers.length ||
    b.query.length - a.query.length
  );
}

/** `PathPrefix /v2, GET, header x-canary=true, query v=2` */
export function matchText(m: CompiledMatch): string {
  const parts = [`${m.pathType} ${m.pathValue}`];
  if (m.method) parts.push(m.method);
  for (const h of m.headers) parts.push(`header ${h.text}`);
  for (const q of m.query) parts.push(`query ${q.text}`);
  return parts.join(', ');
}
