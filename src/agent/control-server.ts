import http from 'node:http';
import fs from 'node:fs';

/**
 * The agent's local control API: JSON over HTTP on a Unix socket in its
 * state directory. The CLI and the lab talk to it until the control plane
 * (apiserver watch) takes over pod lifecycle.
 */
export type Handler = (body: unknown, params: Record<string, string>) => Promise<{ status: number; body: unknown }>;

/** A route that owns the response (streams). */
export type RawHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  params: Record<string, string>,
  query: URLSearchParams,
) => void;

export interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
  raw?: RawHandler;
}

export function rawRoute(method: string, path: string, raw: RawHandler): Route {
  return { ...route(method, path, async () => ({ status: 500, body: null })), raw };
}

export function route(method: string, path: string, handler: Handler): Route {
  const keys: string[] = [];
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_m, k: string) => (keys.push(k), '([^/]+)'))}$`);
  return { method, pattern, keys, handler };
}

export function startControlServer(socketPath: string, routes: Route[]): Promise<http.Server> {
  try {
    fs.unlinkSync(socketPath);
  } catch {
    /* no stale socket */
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://agent');
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      for (const r of routes) {
        const m = r.method === req.method ? r.pattern.exec(url.pathname) : null;
        if (!m) continue;
        let body: unknown = undefined;
        if (chunks.length) {
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return send(400, { error: 'request body is not valid JSON' });
          }
        }
        const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
        if (r.raw) return r.raw(req, res, params, url.searchParams);
        try {
          const out = await r.handler(body, params);
          return send(out.status, out.body);
        } catch (err) {
          const e = err as Error & { code?: string };
          const status =
            e.code === 'ERR_POD_NOT_FOUND'
              ? 404
              : e.code === 'ERR_POD_EXISTS'
                ? 409
                : e.code?.startsWith('ERR_BAD')
                  ? 400
                  : 500;
          return send(status, { error: e.message, code: e.code });
        }
      }
      send(404, { error: `no route ${req.method} ${url.pathname}` });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/** Client side: one request to an agent's socket. */
export function callAgent(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, method, path, headers: { 'content-type': 'application/json' }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
          } catch {
            reject(new Error(`agent answered non-JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`agent at ${socketPath} did not answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}
