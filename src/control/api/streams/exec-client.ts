import { WebSocket } from 'ws';
import type { Readable, Writable } from 'node:stream';
import { ApiClient, toApiServerConfig, transportFor, type ApiServerTarget } from '../../client/index.js';
import {
  CHANNEL_PROTOCOLS,
  ERROR,
  RESIZE,
  STDERR,
  STDIN,
  STDOUT,
  encodeClose,
  encodeFrame,
  type TerminalSize,
} from '../../streams/index.js';

/**
 * A client of pods/exec over WebSocket (v5.channel.k8s.io, as kubectl ≥ 1.30
 * speaks it): what `podwire exec` uses, so it takes the same path as kubectl
 * — the API server, the agent of the pod's node, the container's
 * namespaces and identity.
 */
export interface ExecRequest {
  /** the API server: https://host:port with credentials, http://host:port or unix:/path */
  server: ApiServerTarget;
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  tty?: boolean;
  /** the terminal's size now, and a way to hear of changes */
  size?: () => TerminalSize | null;
  onResize?: (fn: () => void) => void;
}

export class ExecUpgradeError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The WebSocket URL of pods/{pod}/exec on this server (unix: sockets as ws+unix:). */
export function execUrl(r: Omit<ExecRequest, 'stdout' | 'stderr'>): string {
  const q = new URLSearchParams();
  for (const c of r.command) q.append('command', c);
  if (r.container) q.set('container', r.container);
  if (r.stdin) q.set('stdin', 'true');
  q.set('stdout', 'true');
  if (!r.tty) q.set('stderr', 'true');
  if (r.tty) q.set('tty', 'true');
  const path = `/api/v1/namespaces/${encodeURIComponent(r.namespace)}/pods/${encodeURIComponent(r.pod)}/exec?${q}`;
  const server = toApiServerConfig(r.server).server;
  if (server.startsWith('unix:')) return `ws+unix://${server.slice('unix:'.length)}:${path}`;
  return `${server.replace(/^http/, 'ws').replace(/\/$/, '')}${path}`;
}

/** Run the command; resolves with its exit code. A refused upgrade rejects with ExecUpgradeError (the server's Status). */
export function execInPod(r: ExecRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    // TLS and credentials as the API client's (the CA, a client certificate, a Bearer token)
    const t = transportFor(toApiServerConfig(r.server));
    const auth = t.authorization();
    const ws = new WebSocket(execUrl(r), [...CHANNEL_PROTOCOLS], {
      ...(t.target.ca ? { ca: t.target.ca } : {}),
      ...(t.target.cert ? { cert: t.target.cert, key: t.target.key } : {}),
      ...(t.target.servername ? { servername: t.target.servername } : {}),
      ...(auth ? { headers: { authorization: auth } } : {}),
    });
    let status: {
      status?: string;
      message?: string;
      reason?: string;
      details?: { causes?: { reason: string; message: string }[] };
    } | null = null;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => {
        let s: { message?: string; reason?: string } = {};
        try {
          s = JSON.parse(body);
        } catch {
          s = { message: body.trim() || `the server answered ${res.statusCode}` };
        }
        reject(
          new ExecUpgradeError(res.statusCode ?? 0, s.reason ?? '', s.message ?? `upgrade refused: ${res.statusCode}`),
        );
      });
    });
    ws.on('error', (e) => reject(e));
    ws.on('open', () => {
      const sendSize = () => {
        const s = r.size?.();
        if (s && ws.readyState === WebSocket.OPEN)
          ws.send(encodeFrame(RESIZE, JSON.stringify({ Width: s.width, Height: s.height })));
      };
      if (r.tty) {
        sendSize();
        r.onResize?.(sendSize);
      }
      if (r.stdin) {
        r.stdin.on('data', (d: Buffer) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(STDIN, d));
        });
        r.stdin.on('end', () => {
          if (ws.readyState === WebSocket.OPEN && ws.protocol === 'v5.channel.k8s.io') ws.send(encodeClose(STDIN));
        });
      }
    });
    ws.on('message', (m: Buffer) => {
      if (m.length === 0) return;
      const data = m.subarray(1);
      if (m[0] === STDOUT) r.stdout.write(data);
      else if (m[0] === STDERR) r.stderr.write(data);
      else if (m[0] === ERROR && data.length) {
        try {
          status = JSON.parse(data.toString('utf8'));
        } catch {
          status = { status: 'Failure', message: data.toString('utf8') };
        }
      }
    });
    ws.on('close', () => {
      r.stdin?.pause();
      if (!status || status.status === 'Success') return resolve(status ? 0 : 1);
      const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
      if (status.reason === 'NonZeroExitCode' && code !== undefined) return resolve(Number(code));
      r.stderr.write(`error: ${status.message ?? 'the command failed'}\n`);
      resolve(1);
    });
  });
}

/**
 * The container kubectl picks when none is named: the one the
 * kubectl.kubernetes.io/default-container annotation names, else the first.
 * Undefined when the pod is not found (the exec then reports it).
 */
export async function defaultContainer(
  server: ApiServerTarget,
  namespace: string,
  pod: string,
): Promise<string | undefined> {
  const client = new ApiClient(server);
  try {
    const p = await client.tryGet('pods', namespace, pod).catch(() => null);
    if (!p) return undefined;
    const names = ((p.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
    const annotated = p.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    return annotated && names.includes(annotated) ? annotated : names[0];
  } finally {
    client.close();
  }
}
