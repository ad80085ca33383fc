/**
 * Host names and their wildcards. The two APIs differ, and the difference is
 * easy to miss:
 * - Ingress: `*.foo.com` matches `bar.foo.com` only — the wildcard covers
 *   exactly one DNS label (not `baz.bar.foo.com`, not `foo.com`).
 * - Gateway API: `*.example.com` is a suffix match — `a.example.com` and
 *   `a.b.example.com`, never `example.com` itself.
 * Request hosts arrive lowercased and without a port (RequestInfo).
 */

export const isWildcard = (h: string): boolean => h.startsWith('*.');

/** Lowercase, no trailing dot: how rule hosts are compared. */
export function normalizeHost(h: unknown): string {
  return typeof h === 'string' ? h.trim().toLowerCase().replace(/\.$/, '') : '';
}

/** The one Ingress wildcard that could match this host: `a.foo.com` → `*.foo.com`. */
export function ingressWildcardFor(host: string): string | undefined {
  const dot = host.indexOf('.');
  if (dot <= 0 || dot === host.length - 1) return undefined;
  return `*${host.slice(dot)}`;
}

/** Every Gateway API wildcard that matches this host, most specific first: a.b.c → *.b.c, *.c. */
export function gatewayWildcardsFor(host: string): string[] {
  const out: string[] = [];
  let i = host.indexOf('.');
  while (i > 0 && i < host.length - 1) {
    out.push(`*${host.slice(i)}`);
    i = host.indexOf('.', i + 1);
  }
  return out;
}

/** Gateway API: does `pattern` (exact or `*.` suffix) match `host` (which may itself be a wildcard)? */
export function gatewayHostMatches(pattern: string, host: string): boolean {
  if (!isWildcard(pattern)) return pattern === host;
  const suffix = pattern.slice(1); // ".example.com"
  if (isWildcard(host)) return host.slice(1).endsWith(suffix);
  return host.length > suffix.length && host.endsWith(suffix);
}

/**
 * The hostname a Route's `hostname` serves on a Listener with `listener`
 * (undefined: any), or undefined when they do not intersect. The more
 * specific of the two is what requests must match: listener `*.example.com`
 * with route `api.example.com` → `api.example.com`; listener `api.example.com`
 * with route `*.example.com` → `api.example.com`.
 */
export function intersectHostname(listener: string | undefined, route: string): string | undefined {
  if (listener === undefined || listener === route) return route;
  if (gatewayHostMatches(listener, route)) return route;
  if (gatewayHostMatches(route, listener)) return listener;
  return undefined;
}

/**
 * The hostnames a Route is reachable by on a Listener: the intersections of
 * its own with the Listener's. A Route without hostnames takes the Listener's
 * (`''`: any host). Empty result: no intersection (NoMatchingListenerHostname).
 */
export function effectiveHostnames(listener: string | undefined, routeHostnames: string[]): string[] {
  if (routeHostnames.length === 0) return [listener ?? ''];
  const out: string[] = [];
  for (const h of routeHostnames) {
    const i = intersectHostname(listener, h);
    if (i !== undefined && !out.includes(i)) out.push(i);
  }
  return out;
}
