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
  const entries: { path: string; re: RegExp; loc: IngressLocation }[] = [];
  const add = (path: string, loc: IngressLocation) => {
    try {
      entries.push({ path, re: new RegExp(`^${path}`, 'i'), loc });
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
  return {
    match(path: string): IngressLocation | undefined {
      for (const e of entries) if (e.re.test(path)) return e.loc;
      return undefined;
    },
  };
}
