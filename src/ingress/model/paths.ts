/**
 * URL path matching shared by Ingress and the Gateway API.
 *
 * Prefix (Ingress) and PathPrefix (Gateway API) are the same rule: element by
 * element, a trailing slash on either side ignored. `/api` matches `/api`,
 * `/api/`, `/api/x`, not `/apix`; `/aaa/bbb/` matches `/aaa/bbb` (the
 * Kubernetes docs' table). Exact is the string, slash and case included.
 */

/** The prefix without its trailing slashes; `/` → `` (matches every path). */
export function prefixBase(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return path.slice(0, end);
}

/** Does the element-wise prefix with this base match the request path? */
export function prefixMatches(base: string, path: string): boolean {
  if (base === '') return true;
  if (!path.startsWith(base)) return false;
  return path.length === base.length || path.charCodeAt(base.length) === 47;
}

/**
 * Gateway API ReplacePrefixMatch (the spec's table): the matched prefix's
 * elements are replaced, a trailing slash on either prefix ignored, and an
 * empty result is `/`.
 *   /foo/bar, /foo, /xyz → /xyz/bar   /foo/, /foo, /xyz → /xyz/   /foo/bar, /foo, "" → /bar   /foo, /foo, / → /
 */
export function replacePrefixMatch(path: string, matchedPrefix: string, replacement: string): string {
  const rest = path.slice(prefixBase(matchedPrefix).length);
  const out = prefixBase(replacement) + rest;
  return out === '' ? '/' : out.startsWith('/') ? out : `/${out}`;
}

/** Parse a raw query string into name → first value (the Gateway API recommends the first of repeated params). */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!query) return out;
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (!out.has(name)) out.set(name, eq < 0 ? '' : decode(part.slice(eq + 1)));
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** A regular expression from a route, or the reason JavaScript's engine refuses it. */
export function compileRegex(source: string, flags = ''): RegExp | string {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    return (e as Error).message;
  }
}

/** path + "?query" the way it goes upstream or into a Location header. */
export const withQuery = (path: string, query: string): string => (query ? `${path}?${query}` : path);
