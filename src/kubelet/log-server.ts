import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { serveStreams, type StreamDeps } from './streams/server.js';
import { judgeSocket } from './kubelet-auth.js';

/** The kubelet's TLS (its --tls-cert-file, --tls-private-key-file, --client-ca-file): then only the API server may come in. */
export interface KubeletTls {
  cert: Buffer | string;
  key: Buffer | string;
  clientCa: Buffer | string;
}

/**
 * The kubelet's log endpoint (GET /containerLogs/{ns}/{pod}/{container}),
 * on the node's own address, port 10250: the API server proxies
 * `pods/{name}/log` here. Supports tailLines, previous, limitBytes and
 * follow (new output is streamed until the client goes away).
 */
export type LogLookup = (namespace: string, pod: string, container: string, previous: boolean) => string | null;

export function tailLines(text: string, n: number): string {
  if (n < 0) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? 1 : 0;
  return lines.slice(Math.max(0, lines.length - trailing - n)).join('\n');
}

/** With streams: exec, attach and port-forward (HTTP upgrades) on the same port, as the kubelet serves them. */
export function startLogServer(
  host: string,
  port: number,
  lookup: LogLookup,
  streams?: StreamDeps,
  stats?: () => Promise<unknown>,
  tls?: KubeletTls,
): Promise<http.Server> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (tls) {
      const v = judgeSocket(req.socket as TLSSocket, `path=${url.pathname}`);
      if (!v.ok) {
        res.writeHead(v.code, { 'content-type': 'text/plain' }).end(`${v.message}\n`);
        return;
      }
    }
    // what the API server's metrics.k8s.io gathers (metrics-stats.ts)
    if (stats && req.method === 'GET' && url.pathname === '/stats/summary') {
      stats().then(
        (s) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(s)),
        (e) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`),
      );
      return;
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const [ns, pod, container] = m.slice(1).map(decodeURIComponent);
    const previous = url.searchParams.get('previous') === 'true';
    const file = lookup(ns, pod, container, previous);
    if (!file) {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end(`container "${container}" in pod "${pod}" is not running on this node\n`);
      return;
    }
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      if (previous) {
        res
          .writeHead(400, { 'content-type': 'text/plain' })
          .end(`previous terminated container "${container}" in pod "${pod}" not found\n`);
        return;
      }
    }
    const tail = url.searchParams.get('tailLines');
    if (tail !== null && /^\d+$/.test(tail)) text = tailLines(text, Number(tail));
    const limit = Number(url.searchParams.get('limitBytes') ?? 0);
    if (limit > 0) text = text.slice(0, limit);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.write(text);
    if (url.searchParams.get('follow') !== 'true' || previous) {
      res.end();
      return;
    }
    // Follow: poll the file's size (it may be replaced when the container restarts).
    let offset = (() => {
      try {
        return fs.statSync(file).size;
      } catch {
        return 0;
      }
    })();
    const timer = setInterval(() => {
      const now = lookup(ns, pod, container, false);
      if (!now) {
        clearInterval(timer);
        res.end();
        return;
      }
      let size = 0;
      try {
        size = fs.statSync(now).size;
      } catch {
        return;
      }
      if (size < offset) offset = 0; // a new run: its log starts empty
      if (size === offset) return;
      try {
        const fd = fs.openSync(now, 'r');
        try {
          const buf = Buffer.alloc(size - offset);
          fs.readSync(fd, buf, 0, buf.length, offset);
          res.write(buf);
        } finally {
          fs.closeSync(fd);
        }
        offset = size;
      } catch {
        /* the file went away between stat and read (the pod was deleted): the next tick sees it */
      }
    }, 200);
    res.on('close', () => clearInterval(timer));
  };
  // TLS: the certificate is asked for, not required at the handshake, so an anonymous client hears 401 as from a kubelet
  const server: http.Server = tls
    ? https.createServer(
        { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false },
        handler,
      )
    : http.createServer(handler);
  if (tls)
    // streams arrive as upgrades: refused before serveStreams sees them
    server.prependListener('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      const v = judgeSocket(socket as TLSSocket, `path=${req.url ?? '/'}`);
      if (!v.ok) {
        socket.end(
          `HTTP/1.1 ${v.code} ${v.code === 401 ? 'Unauthorized' : 'Forbidden'}\r\ncontent-type: text/plain\r\ncontent-length: ${v.message.length + 1}\r\nconnection: close\r\n\r\n${v.message}\n`,
        );
        socket.destroy();
        (req as http.IncomingMessage & { refused?: boolean }).refused = true;
      }
    });
  if (streams) serveStreams(server, streams);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
