import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { pickProtocol, parseStreamOptions } from '../../control/streams/index.js';
import { execArgv, execEnv, serveExec, type ExecSpec } from './exec.js';
import { serveAttach } from './attach.js';
import { wsChannels, type StreamChannels } from './channels.js';
import { acceptSpdyChannels } from './spdy-channels.js';

/**
 * The kubelet's streaming endpoints on :10250, as the API server proxies
 * pods/exec, pods/attach and pods/portforward to them:
 *   /exec/{ns}/{pod}/{container}?command=…&stdin=…&stdout=…&stderr=…&tty=…
 *   /attach/{ns}/{pod}/{container}?stdin=…&stdout=…&tty=…
 *   /portForward/{ns}/{pod}
 * Exec and attach speak the WebSocket channel protocols (control/streams/ws-channels.ts)
 * or, when kubectl falls back, SPDY/3.1 (spdy-channels.ts); a port-forward
 * goes to the handler registered for it. What cannot be served is refused
 * with a Status that kubectl prints.
 */
export type ExecLookup = (
  namespace: string,
  pod: string,
  container: string,
) => { status: number; body: (ExecSpec & { container: string }) | { error: string } };

/** A container's console (attach): the socket its console holder listens on, or an error. */
export type ConsoleLookup = (
  namespace: string,
  pod: string,
  container: string,
) => { status: number; body: { socket: string } | { error: string } };

export interface StreamTarget {
  kind: 'exec' | 'attach' | 'portforward';
  namespace: string;
  pod: string;
  container?: string;
  query: URLSearchParams;
}

export interface StreamDeps {
  exec: ExecLookup;
  console?: ConsoleLookup;
  /** pods/portforward (WebSocket or SPDY), served by whoever registers it */
  portForward?: (req: http.IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget) => void;
  log: (m: string) => void;
}

const REASONS: Record<number, [string, string]> = {
  400: ['Bad Request', 'BadRequest'],
  404: ['Not Found', 'NotFound'],
  409: ['Conflict', 'Conflict'],
  500: ['Internal Server Error', 'InternalError'],
  503: ['Service Unavailable', 'ServiceUnavailable'],
};

/** Refuse an upgrade with a Status body: kubectl prints `Error from server (Reason): message`. */
export function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  const [text, reason] = REASONS[code] ?? ['Error', 'Unknown'];
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** /exec/ns/pod/container, /attach/ns/pod/container, /portForward/ns/pod → a target, or null. */
export function parseStreamPath(url: URL): StreamTarget | null {
  const m = /^\/(exec|attach|portForward)\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (!m) return null;
  const kind = m[1] === 'portForward' ? 'portforward' : (m[1] as 'exec' | 'attach');
  if (kind !== 'portforward' && !m[4]) return null;
  if (kind === 'portforward' && m[4]) return null;
  return {
    kind,
    namespace: decodeURIComponent(m[2]),
    pod: decodeURIComponent(m[3]),
    ...(m[4] ? { container: decodeURIComponent(m[4]) } : {}),
    query: url.searchParams,
  };
}

export function serveStreams(server: http.Server, deps: StreamDeps): void {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => pickProtocol(offered) ?? false,
    perMessageDeflate: false,
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req as http.IncomingMessage & { refused?: boolean }).refused) return; // 401/403 already (log-server.ts)
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const target = parseStreamPath(url);
    if (!target) return refuseUpgrade(socket, 404, `no streaming endpoint at ${url.pathname}`);
    if (target.kind === 'portforward') {
      if (deps.portForward) return deps.portForward(req, socket, head, target);
      return refuseUpgrade(socket, 404, 'port-forward is not served by this agent');
    }
    const container = target.container!;
    const opts = parseStreamOptions(url.searchParams);
    if (target.kind === 'exec' && opts.command.length === 0)
      return refuseUpgrade(socket, 400, 'you must specify at least one command for the container');
    if (!opts.stdin && !opts.stdout && !opts.stderr)
      return refuseUpgrade(socket, 400, 'you must specify at least 1 of stdin, stdout, stderr');
    let spec: ExecSpec | null = null;
    let consoleSock: string | null = null;
    if (target.kind === 'exec') {
      const r = deps.exec(target.namespace, target.pod, container);
      if ('error' in r.body) return refuseUpgrade(socket, r.status, r.body.error);
      spec = r.body;
    } else {
      const r = deps.console?.(target.namespace, target.pod, container) ?? {
        status: 400,
        body: { error: 'attach is not served by this agent' },
      };
      if ('error' in r.body) return refuseUpgrade(socket, r.status, r.body.error);
      consoleSock = r.body.socket;
    }
    const start = (ch: StreamChannels) => {
      if (target.kind === 'attach') return serveAttach(ch, opts, consoleSock!, deps.log);
      const argv = execArgv(spec!, opts.command);
      void serveExec(ch, opts, argv, execEnv(spec!, opts.tty)).catch((e) =>
        deps.log(`exec ${target.namespace}/${target.pod}: ${(e as Error).message}`),
      );
    };
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'spdy/3.1') return acceptSpdyChannels(req, socket, head, opts, deps.log, start);
    if (upgrade !== 'websocket') return refuseUpgrade(socket, 400, `cannot upgrade to ${upgrade || 'nothing'}`);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',');
    const protocol = pickProtocol(offered);
    if (!protocol)
      return refuseUpgrade(
        socket,
        400,
        `none of the offered subprotocols (${offered.join(', ') || 'none'}) is spoken here: v5.channel.k8s.io, v4.channel.k8s.io`,
      );
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (e) => deps.log(`${target.kind} ${target.namespace}/${target.pod}: ${e.message}`));
      start(wsChannels(ws, protocol, opts, deps.log));
    });
  });
}
