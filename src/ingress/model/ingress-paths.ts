/**
 * One Ingress server's paths, indexed for route(): the longest match wins,
 * and on equal length Exact beats Prefix beats ImplementationSpecific.
 *
 * Plain servers (the usual case) are a few Map lookups per request, however
 * many paths there are: Exact by the whole path; Prefix by each "/" boundary
 * of the request path (element-wise, trailing slash ignored — Kubernetes'
 * table); ImplementationSpecific, which ingress-nginx without use-regex
 * writes as an nginx prefix location (a string prefix: `/foo` matches
 * `/foobar`), by each length some such path has.
 *
 * Regex servers (any path of the host has use-regex or rewrite-target):
 * ingress-nginx writes every location of the host as `~* "^<path>"` —
 * case-insensitive, anchored only at the start, so Prefix `/api` then also
 * matches `/apix` — sorted by path length, longest first, and nginx takes the
 * first that matches. A Prefix path that does not rewrite gets its extra
 * `<path>/` location as there (ingress-nginx's updateServerLocations).
 */
import { needsRewrite } from './annotations.js';
import type { IngressLocation, IngressServer } from './ingress-rules.js';
import { prefixBase } from './paths.js';

const RANK = { Exact: 3, Prefix: 2, ImplementationSpecific: 1 } as const;

export interface PathIndex {
  match(path: string): IngressLocation | undefined;
}

export function pathIndex(server: IngressServer, onInvalid: (loc: IngressLocation, why: string) => void): PathIndex {
  return server.regex ? regexIndex(server, onInvalid) : plainIndex(server);
}

function plainIndex(server: IngressServer): PathIndex {
  const exact = new Map<string, IngressLocation>();
  const prefix = new Map<string, IngressLocation>();
  const impl = new Map<string, IngressLocation>();
  for (const l of server.locations) {
    const map = l.pathType === 'Exact' ? exact : l.pathType === 'Prefix' ? prefix : impl;
    const key = l.pathType === 'Prefix' ? prefixBase(l.path) : l.path;
    if (!map.has(key)) map.set(key, l);
  }
  const implLengths = [...new Set([...impl.keys()].map((k) => k.length))].sort((a, b) => b - a);
  const hasRoot = prefix.get('');
  return {
    match(path: string): IngressLocation | undefined {
      let best: IngressLocation | undefined;
      let bestLen = -1;
      const offer = (l: IngressLocation | undefined, len: number) => {
        if (!l) return;
        if (len > bestLen || (len === bestLen && RANK[l.pathType] > RANK[best!.pathType])) {
          best = l;
          bestLen = len;
        }
      };
      offer(exact.get(path), path.length);
      // Prefix: the longest element boundary first; its length is the base's ("/" counts 1).
      for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
        if (end < path.length && path.charCodeAt(end) !== 47) continue;
        if (end <= bestLen - 1) break;
        const l = prefix.get(path.slice(0, end));
        if (l) {
          offer(l, end);
          break;
        }
      }
      if (hasRoot) offer(hasRoot, 1);
      for (const len of implLengths) {
        if (len < bestLen) break;
        if (len > path.length) continue;
        const l = impl.get(path.slice(0, len));
        if (l) {
          offer(l, len);
          break;
        }
      }
      return best;
    },
  };
}

function regexIndex(server: IngressServer, onInvalid: (loc: IngressLocation, why: string) => void): PathIndex {
  const entries: { path: string; re: RegExp; literal: string; plain: boolean; loc: IngressLocation }[] = [];
  const add = (path: string, loc: IngressLocation) => {
    try {
      const re = new RegExp(`^${path}`, 'i');
      const literal = literalPrefix(path);
      entries.push({ path, re, literal, plain: literal.length === path.length, loc });
    } catch (e) {
      onInvalid(loc, (e as Error).message);
    }
  };
  for (const l of server.locations) {
    add(l.path, l);
    const plainPrefix = l.pathType === 'Prefix' && l.path !== '/' && !l.path.endsWith('/');
    if (plainPrefix && !l.settings.useRegex && !needsRewrite(l.settings, l.path)) add(`${l.path}/`, l);
  }
  // ingress-nginx: sort by path (descending), then stably by length (descending).
  entries.sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  entries.sort((a, b) => b.path.length - a.path.length);
  // Tried in that order, like nginx, but only the ones that can match: each entry's literal start
  // (lowercased) must begin the path, so entries are bucketed by the first segment of it ("/team0/");
  // those whose literal is shorter than a segment are tried for every path.
  const buckets = new Map<string, number[]>();
  const always: number[] = [];
  entries.forEach((e, i) => {
    const seg = firstSegment(e.literal);
    if (seg === undefined) always.push(i);
    else (buckets.get(seg) ?? buckets.set(seg, []).get(seg)!).push(i);
  });
  return {
    match(path: string): IngressLocation | undefined {
      const lower = path.toLowerCase();
      const seg = firstSegment(lower);
      const some = (seg !== undefined && buckets.get(seg)) || [];
      // merge the two ascending index lists, testing in nginx's order
      for (let a = 0, b = 0; a < some.length || b < always.length;) {
        const i = b >= always.length || (a < some.length && some[a] < always[b]) ? some[a++] : always[b++];
        const e = entries[i];
        if (!lower.startsWith(e.literal)) continue;
        if (e.plain || e.re.test(path)) return e.loc;
      }
      return undefined;
    },
  };
}

/** "/team0/" from "/team0/svc1…"; undefined when there is no second "/". */
function firstSegment(s: string): string | undefined {
  const slash = s.indexOf('/', 1);
  return slash < 0 ? undefined : s.slice(0, slash + 1);
}

/**
 * The lowercased characters every match of `^<path>` (case-insensitive) must start with: up to the
 * first regex syntax, less a character a quantifier makes optional. ASCII only (JavaScript's case
 * folding and toLowerCase agree there); '' when unsure.
 */
export function literalPrefix(path: string): string {
  let end = 0;
  while (end < path.length && !/[\\^$.|?*+()[\]{}]/.test(path[end])) end++;
  if (end < path.length && /[?*{]/.test(path[end])) end--;
  const lit = path.slice(0, Math.max(0, end));
  return /^[\x20-\x7e]*$/.test(lit) ? lit.toLowerCase() : '';
}
