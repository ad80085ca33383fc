import http from 'node:http';
import type { Logger } from './log-sink.js';
import { DnsConfigError } from '../errors.js';

/**
 * The HTTP side of the plugins — health :8080/health, ready :8181/ready,
 * prometheus :9153/metrics — as routes on listeners shared by address.
 * `apply(routes)` reconciles after a reload: listeners for addresses no
 * longer configured close, new ones bind, unchanged ones stay up.
 */
export interface HttpReply {
  status: number;
  body: string;
  contentType?: string;
}

export interface HttpRoute {
  /** ":8080", "localhost:9153", "10.0.0.1:8181" */
  address: string;
  path: string;
  /** the plugin that serves it (for errors) */
  owner: string;
  handle(): Promise<HttpReply> | HttpReply;
}

export function parseHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const a = address.replace(/^https?:\/\//, '');
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(a);
  if (!m) throw new DnsConfigError('ERR_BAD_ADDRESS', `bad address "${address}"`);
  let host = m[1] ?? m[2] ?? '';
  if (host === '') host = '0.0.0.0';
  if (host === 'localhost') host = '127.0.0.1';
  const port = m[3] ? Number(m[3]) : defaultPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new DnsConfigError('ERR_BAD_ADDRESS', `bad port in "${address}"`);
  return { host, port };
}

interface Listener {
  server: http.Server;
  routes: Map<string, HttpRoute>;
}

export class HttpEndpoints {
  private readonly listeners = new Map<string, Listener>();

  constructor(private readonly log: Logger) {}

  /** The bound port of an address's listener (tests bind port 0). */
  port(address: string): number | null {
    const l = this.listeners.get(key(address));
    const a = l?.server.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  async apply(routes: HttpRoute[]): Promise<void> {
    const wanted = new Map<string, Map<string, HttpRoute>>();
    for (const r of routes) {
      const k = key(r.address);
      if (!wanted.has(k)) wanted.set(k, new Map());
      wanted.get(k)!.set(r.path, r);
    }
    for (const [k, l] of this.listeners) {
      if (!wanted.has(k)) {
        this.listeners.delete(k);
        await closeServer(l.server);
      }
    }
    for (const [k, paths] of wanted) {
      const l = this.listeners.get(k);
      if (l) {
        l.routes.clear();
        for (const [p, r] of paths) l.routes.set(p, r);
        continue;
      }
      const listener: Listener = { server: http.createServer(), routes: paths };
      listener.server.on('request', (req, res) => this.serve(listener, req, res));
      const { host, port } = parseHostPort(k, 0);
      await new Promise<void>((resolve, reject) => {
        listener.server.once('error', reject);
        listener.server.listen(port, host, () => {
          listener.server.off('error', reject);
          resolve();
        });
      });
      listener.server.on('error', (e) => this.log.error(`http ${k}: ${e.message}`));
      this.listeners.set(k, listener);
    }
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => closeServer(l.server)));
  }

  private serve(l: Listener, req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const route = l.routes.get(path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    Promise.resolve()
      .then(() => route.handle())
      .then(
        (r) => res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain; charset=utf-8' }).end(r.body),
        (e: Error) => {
          this.log.error(`plugin/${route.owner}: ${e.message}`);
          res.writeHead(500).end();
        },
      );
  }
}

/** Listeners are keyed by host:port as bound (":8080" and "0.0.0.0:8080" are one). */
function key(address: string): string {
  const { host, port } = parseHostPort(address, 0);
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function closeServer(s: http.Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections?.();
  });
}
