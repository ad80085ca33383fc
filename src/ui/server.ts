import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { packagePath } from '../host/index.js';
import type { ApiServerTarget } from '../control/client/index.js';
import type { LabState } from '../lab/index.js';
import type { UiSession } from './contract.js';
import { instructorRoutes } from './instructor.js';
import { LiveSources } from './live-sources.js';
import { UiHttpError, type UiContext, type UiRoute } from './routes.js';
import { checkRequest } from './security.js';
import { SseHub } from './sse.js';
import { NOT_BUILT_HTML, contentTypeOf, readStatic, resolveStatic } from './static-files.js';

/**
 * `podwire ui`'s HTTP server: the page's bundle, the session, the topology, the live event stream,
 * and whatever routes other modules add (src/ui/instructor.ts). Every request passes the checks of
 * security.ts first; nothing of the API server is proxied.
 */

export interface UiServerOptions {
  lab: LabState;
  server: ApiServerTarget;
  port?: number;
  host?: string;
  /** dist/ui unless told (tests) */
  webRoot?: string;
  /** more routes (tests; the instructor's are mounted always) */
  routes?: (ctx: UiContext) => UiRoute[];
  windowMs?: number;
  log?: (line: string) => void;
}

export interface UiServer {
  url: string;
  port: number;
  token: string;
  sources: LiveSources;
  hub: SseHub;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

function sendJson(res: http.ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new UiHttpError(413, 'request body over 1 MiB', 'ERR_UI_TOO_LARGE'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (err) {
        reject(new UiHttpError(400, `body is not JSON: ${(err as Error).message}`, 'ERR_UI_BAD_REQUEST'));
      }
    });
    req.on('error', reject);
  });
}

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const token = crypto.randomBytes(24).toString('base64url');
  const host = opts.host ?? '127.0.0.1';
  const webRoot = opts.webRoot ?? packagePath('dist', 'ui');
  const hub = new SseHub();
  const sources = new LiveSources({
    lab: opts.lab,
    server: opts.server,
    windowMs: opts.windowMs,
    log: opts.log,
    on: {
      topology: (t) => hub.broadcast('topology', t),
      flows: (b) => hub.broadcast('flows', b),
      drop: (d) => hub.broadcast('drop', d),
      status: (s) => hub.broadcast('status', s),
    },
  });
  const ctx: UiContext = {
    lab: opts.lab,
    token,
    broadcast: (event, data) => hub.broadcast(event, data),
    readJsonBody,
    sendJson,
  };
  const instructor = instructorRoutes(ctx);
  const session: UiSession = {
    lab: opts.lab.plan.prefix,
    token,
    // what the page may offer: the instructor module's routes as they are mounted
    features: {
      instructor: instructor.some((r) => r.method === 'POST' && r.path.test('/api/break')),
      step: instructor.some((r) => r.method === 'POST' && r.path.test('/api/step')),
    },
  };
  const routes: UiRoute[] = [
    { method: 'GET', path: /^\/api\/session$/, handler: (_q, res) => sendJson(res, session) },
    { method: 'GET', path: /^\/api\/topology$/, handler: (_q, res) => sendJson(res, sources.topology()) },
    { method: 'GET', path: /^\/api\/status$/, handler: (_q, res) => sendJson(res, sources.status()) },
    {
      method: 'GET',
      path: /^\/api\/events$/,
      handler: (_q, res) =>
        hub.attach(res, [
          ['topology', sources.topology()],
          ['status', sources.status()],
        ]),
    },
    ...instructor,
    ...(opts.routes?.(ctx) ?? []),
  ];

  let port = opts.port ?? 8090;
  const serveStatic = (pathname: string, res: http.ServerResponse, head: boolean) => {
    if (!fs.existsSync(path.join(webRoot, 'index.html'))) {
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      return res.end(head ? undefined : NOT_BUILT_HTML);
    }
    const file = resolveStatic(webRoot, pathname);
    const body = file && readStatic(file);
    if (!body) return sendJson(res, { error: `${pathname} not found` }, 404);
    res.writeHead(200, {
      'content-type': contentTypeOf(file),
      'content-length': body.length,
      'x-content-type-options': 'nosniff',
      // app.js/app.css keep their names across builds: always revalidate (loopback makes it cheap)
      'cache-control': 'no-cache',
    });
    res.end(head ? undefined : body);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://ui.invalid');
      const refused = checkRequest(
        {
          method: req.method ?? 'GET',
          host: req.headers.host,
          origin: req.headers.origin,
          secFetchSite: req.headers['sec-fetch-site'] as string | undefined,
          token: req.headers['x-podwire-ui'] as string | undefined,
        },
        { port, token, host },
      );
      if (refused) return sendJson(res, { error: refused.message }, refused.status);
      for (const r of routes) {
        if (r.method !== req.method) continue;
        const m = r.path.exec(url.pathname);
        if (m) return await r.handler(req, res, m, ctx);
      }
      if (url.pathname.startsWith('/api/')) {
        const other = routes.some((r) => r.path.test(url.pathname));
        return sendJson(
          res,
          { error: `${req.method} ${url.pathname}: ${other ? 'method not allowed' : 'no such endpoint'}` },
          other ? 405 : 404,
        );
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, { error: 'method not allowed' }, 405);
      serveStatic(url.pathname, res, req.method === 'HEAD');
    })().catch((err: unknown) => {
      const status = err instanceof UiHttpError ? err.status : 500;
      if (status === 500) opts.log?.(`${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendJson(res, { error: (err as Error).message }, status);
      else res.destroy();
    });
  });
  // an SSE stream lives long: no request timeout for it
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  await sources.start();
  return {
    url: `http://${['0.0.0.0', '::', 'localhost'].includes(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    token,
    sources,
    hub,
    close: async () => {
      sources.stop();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
