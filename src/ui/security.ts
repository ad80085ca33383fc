/**
 * Who may talk to `podwire ui` (pure). The server listens on loopback, but any web page the
 * learner opens can make the browser send requests to 127.0.0.1, and a DNS name rebound to
 * 127.0.0.1 makes them same-origin. Three checks close that, before any route runs:
 *   - Host must be this server's own (127.0.0.1:<port> or localhost:<port>): a rebound name is not;
 *   - a request carrying an Origin from elsewhere (or Sec-Fetch-Site: cross-site or same-site) is refused;
 *   - a POST must carry the session's token in x-podwire-ui, which only a page of this origin can read.
 */

export interface RequestFacts {
  method: string;
  host?: string;
  origin?: string;
  secFetchSite?: string;
  /** the x-podwire-ui header */
  token?: string;
}

export interface ServerFacts {
  port: number;
  token: string;
  /** the address it listens on, when it is not loopback (--host): that host:port is its own too */
  host?: string;
}

export interface Refusal {
  status: 403;
  message: string;
}

/** The Host values this server answers to. */
export function ownHosts(s: ServerFacts): string[] {
  const hosts = [`127.0.0.1:${s.port}`, `localhost:${s.port}`];
  if (s.host && !['127.0.0.1', 'localhost', '0.0.0.0', '::'].includes(s.host))
    hosts.push(s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`);
  return hosts;
}

/** null when the request may go on, else why it is refused. */
export function checkRequest(r: RequestFacts, s: ServerFacts): Refusal | null {
  const hosts = ownHosts(s);
  const host = r.host?.toLowerCase();
  if (!host || !hosts.includes(host))
    return { status: 403, message: `Host "${r.host ?? ''}" is not this server (${hosts.join(' or ')})` };
  if (r.origin !== undefined && !hosts.some((h) => r.origin === `http://${h}`))
    return { status: 403, message: `requests from origin ${r.origin} are not allowed` };
  // same-site is another port of localhost: a different origin too (the page's own say same-origin, a typed URL none)
  if (r.secFetchSite !== undefined && r.secFetchSite !== 'same-origin' && r.secFetchSite !== 'none')
    return { status: 403, message: `${r.secFetchSite} requests are not allowed` };
  if (r.method !== 'GET' && r.method !== 'HEAD' && r.token !== s.token)
    return { status: 403, message: 'write requests need the session token (x-podwire-ui header of GET /api/session)' };
  return null;
}
