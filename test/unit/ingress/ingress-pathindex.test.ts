import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_NGINX_SETTINGS } from '../../../src/ingress/model/annotations.js';
import { literalPrefix, pathIndex } from '../../../src/ingress/model/ingress-paths.js';
import type { IngressLocation, IngressPathType, IngressServer } from '../../../src/ingress/model/ingress-rules.js';
import { prefixBase } from '../../../src/ingress/model/paths.js';

// The path index route() uses (Map lookups for plain hosts; regexes bucketed
// by their literal start for regex hosts) against the rules written out the
// slow way, on random paths: the longest match with Exact > Prefix >
// ImplementationSpecific (Kubernetes, ingress-nginx); and nginx's first
// match over `~* "^<path>"` in ingress-nginx's order.

const TYPES: IngressPathType[] = ['Exact', 'Prefix', 'ImplementationSpecific'];
const RANK = { Exact: 3, Prefix: 2, ImplementationSpecific: 1 };

function loc(path: string, pathType: IngressPathType, order: number, useRegex = false): IngressLocation {
  const settings = { ...DEFAULT_NGINX_SETTINGS, useRegex, applied: [], ignored: [] };
  return {
    ingress: {},
    ingressKey: 'd/i',
    host: 'h',
    path,
    pathType,
    portText: '80',
    settings,
    order,
    backend: { ok: true, target: { service: `d/s${order}`, port: 80, address: '10.0.0.1', weight: 1 } },
    ref: { kind: 'Ingress', name: 'd/i', rule: `${path} ${pathType}` },
  };
}

const server = (locations: IngressLocation[], regex: boolean): IngressServer => ({
  host: 'h',
  locations,
  rootSettings: { ...DEFAULT_NGINX_SETTINGS, applied: [], ignored: [] },
  rootIngress: 'd/i',
  tls: false,
  regex,
});

/** The plain rules, slowly: every location that matches, the longest (Prefix by its base; "/" counts 1), then the type rank, then the first. */
function slowPlain(locs: IngressLocation[], path: string): IngressLocation | undefined {
  let best: IngressLocation | undefined;
  let bestLen = -1;
  const seen = new Set<string>();
  for (const l of locs) {
    const key = `${l.pathType}|${l.pathType === 'Prefix' ? prefixBase(l.path) : l.path}`;
    if (seen.has(key)) continue; // a duplicate of an earlier path is never used
    seen.add(key);
    let len = -1;
    if (l.pathType === 'Exact' && path === l.path) len = path.length;
    const base = prefixBase(l.path);
    if (l.pathType === 'Prefix' && (base === '' || path === base || path.startsWith(`${base}/`)))
      len = base === '' ? 1 : base.length;
    if (l.pathType === 'ImplementationSpecific' && path.startsWith(l.path)) len = l.path.length;
    if (len < 0) continue;
    if (len > bestLen || (len === bestLen && RANK[l.pathType] > RANK[best!.pathType])) {
      best = l;
      bestLen = len;
    }
  }
  return best;
}

/** nginx over ingress-nginx's regex locations, slowly. */
function slowRegex(locs: IngressLocation[], path: string): IngressLocation | undefined {
  const entries: { p: string; l: IngressLocation }[] = [];
  for (const l of locs) {
    entries.push({ p: l.path, l });
    if (l.pathType === 'Prefix' && l.path !== '/' && !l.path.endsWith('/') && !l.settings.useRegex)
      entries.push({ p: `${l.path}/`, l });
  }
  entries.sort((a, b) => (a.p < b.p ? 1 : a.p > b.p ? -1 : 0));
  entries.sort((a, b) => b.p.length - a.p.length);
  return entries.find((e) => new RegExp(`^${e.p}`, 'i').test(path))?.l;
}

const segment = fc.constantFrom('a', 'b', 'ab', 'api', 'API', 'v1', 'x.y', '');
const plainPath = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => `/${s.join('/')}`);
const regexPath = fc
  .tuple(plainPath, fc.constantFrom('', '(/|$)(.*)', '/?(.*)', '[0-9]+', '.*', '/b+', '(a|b)'))
  .map(([p, r]) => p + r);

describe('the path index agrees with the rules written out slowly', () => {
  it('plain hosts: longest match, Exact > Prefix > ImplementationSpecific', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(plainPath, fc.constantFrom(...TYPES)), { minLength: 1, maxLength: 12 }),
        fc.array(plainPath, { minLength: 1, maxLength: 8 }),
        (paths, requests) => {
          const locs = paths.map(([p, t], i) => loc(p, t, i));
          const index = pathIndex(server(locs, false), () => {});
          for (const r of requests) expect(index.match(r)?.order, r).toBe(slowPlain(locs, r)?.order);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('regex hosts: nginx’s first match in ingress-nginx’s order, case-insensitive', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(regexPath, fc.constantFrom(...TYPES), fc.boolean()), { minLength: 1, maxLength: 12 }),
        fc.array(plainPath, { minLength: 1, maxLength: 8 }),
        (paths, requests) => {
          const locs = paths.map(([p, t, re], i) => loc(p, t, i, re));
          const index = pathIndex(server(locs, true), () => {});
          for (const r of requests) expect(index.match(r)?.order, r).toBe(slowRegex(locs, r)?.order);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('literalPrefix: what every match must start with (a quantified character is not required)', () => {
    expect(literalPrefix('/Foo/Bar')).toBe('/foo/bar');
    expect(literalPrefix('/something/?(.*)')).toBe('/something');
    expect(literalPrefix('/ab{2}')).toBe('/a');
    expect(literalPrefix('/ab+')).toBe('/ab'); // b+ needs one b
    expect(literalPrefix('/x.y')).toBe('/x');
    expect(literalPrefix('(.*)')).toBe('');
    expect(literalPrefix('/é')).toBe('');
  });
});
