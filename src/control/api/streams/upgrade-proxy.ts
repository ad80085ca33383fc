import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Store } from '../../store/types.js';
import { RESOURCE_TYPES, storageKey } from '../resources.js';
import { kubeletEndpoint } from '../pod-log.js';
import { kubeletConnect } from '../kubelet-client.js';

/**
 * pods/{name}/exec, pods/{name}/attach and pods/{name}/portforward, as
 * kube-apiserver serves them: the request is an HTTP upgrade (WebSocket, or
 * SPDY/3.1 from a client falling back); the pod and its node are looked up,
 * kubectl's usual errors answered here (a Status: pod not found, no such
 * container, not scheduled, the node's agent unreachable), and otherwise
 * the upgrade is replayed to the kubelet of the pod's node — here its agent
 * on :10250 — at /exec|/attach/{ns}/{pod}/{container} or
 * /portForward/{ns}/{pod}, and the two connections are piped together
 * (UpgradeAwareHandler): the handshake and the stream are the agent's.
 */
export type StreamKind = 'exec' | 'attach' | 'portforward';

export interface StreamRequest {
  kind: StreamKind;
  namespace: string;
  pod: string;
  query: URLSearchParams;
}

/** /api/v1/namespaces/{ns}/pods/{name}/{exec|attach|portforward} → its parts, else null. */
export function parseStreamRequest(rawUrl: string): StreamRequest | null {
  const url = new URL(rawUrl, 'http://apiserver');
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/.exec(url.pathname);
  if (!m) return null;
  return {
    kind: m[3] as StreamKind,
    namespace: decodeURIComponent(m[1]),
    pod: decodeURIComponent(m[2]),
    query: url.searchParams,
  };
}

export class StreamError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusResponse(e: StreamError): string {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: e.reason,
    ...(e.details ? { details: e.details } : {}),
    code: e.code,
  });
  return `HTTP/1.1 ${e.code} ${TEXT[e.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Every container exec and attach may name: the pod's containers, init containers and ephemeral containers. */
function containerNames(pod: Record<string, any>): { regular: string[]; all: string[] } {
  const names = (l: unknown) => ((l as { name: string }[] | undefined) ?? []).map((c) => c.name);
  const regular = names(pod.spec?.containers);
  return {
    regular,
    all: [...regular, ...names(pod.spec?.initContainers), ...names(pod.spec?.ephemeralContainers)],
  };
}

/**
 * The kubelet path for a request on this pod (pure): the container checked
 * as kube-apiserver checks it (named, or the pod's only one, or the one the
 * kubectl.kubernetes.io/default-container annotation names).
 */
export function kubeletPath(r: StreamRequest, pod: Record<string, any>): string {
  const ns = encodeURIComponent(r.namespace);
  const name = encodeURIComponent(r.pod);
  const q = new URLSearchParams(r.query);
  if (r.kind === 'portforward') return `/portForward/${ns}/${name}${q.size ? `?${q}` : ''}`;
  const { regular, all } = containerNames(pod);
  let container = q.get('container');
  q.delete('container');
  if (!container) {
    const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
    if (regular.length === 1) container = regular[0];
    else if (annotated && regular.includes(annotated)) container = annotated;
    else
      throw new StreamError(
        400,
        'BadRequest',
        `a container name must be specified for pod ${r.pod}, choose one of: [${all.join(' ')}]`,
      );
  } else if (!all.includes(container)) {
    throw new StreamError(400, 'BadRequest', `container ${container} is not valid for pod ${r.pod}`);
  }
  return `/${r.kind}/${ns}/${name}/${encodeURIComponent(container as string)}?${q}`;
}

async function lookup(
  store: Store,
  r: StreamRequest,
): Promise<{ host: string; port: number; path: string; ready: boolean }> {
  const podType = RESOURCE_TYPES.find((t) => t.kind === 'Pod')!;
  const nodeType = RESOURCE_TYPES.find((t) => t.kind === 'Node')!;
  const kv = await store.get(storageKey(podType, r.namespace, r.pod));
  if (!kv) throw new StreamError(404, 'NotFound', `pods "${r.pod}" not found`, { name: r.pod, kind: 'pods' });
  const pod = JSON.parse(kv.value) as Record<string, any>;
  const path = kubeletPath(r, pod);
  const nodeName: string | undefined = pod.spec?.nodeName;
  if (!nodeName) throw new StreamError(400, 'BadRequest', `pod ${r.pod} does not have a host assigned`);
  const nkv = await store.get(storageKey(nodeType, undefined, nodeName));
  const node = nkv ? (JSON.parse(nkv.value) as Record<string, any>) : null;
  const ep = node ? kubeletEndpoint(node) : null;
  if (!ep)
    throw new StreamError(
      503,
      'ServiceUnavailable',
      `node ${nodeName} has no InternalIP: its agent has not registered`,
    );
  const ready = (node!.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
  return { ...ep, path, ready };
}

/** The request line and headers replayed to the kubelet, Host rewritten; the body (none) and the stream follow. */
export function replayRequest(req: http.IncomingMessage, path: string, host: string): string {
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (k === 'host' || k === 'authorization') continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  lines.push(`Host: ${host}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** How long a connection to a node's agent may take: a dead node is reported, not waited on. */
const DIAL_TIMEOUT_MS = 5000;
const DIAL_TIMEOUT_NOT_READY_MS = 1500;

export function streamUpgradeHandler(
  log: (m: string) => void = () => {},
): (req: http.IncomingMessage, socket: Duplex, head: Buffer, store: Store) => void {
  return (req, socket, head, store) => {
    socket.on('error', () => socket.destroy());
    const r = parseStreamRequest(req.url ?? '/');
    if (!r) {
      socket.end(statusResponse(new StreamError(404, 'NotFound', 'the server could not find the requested resource')));
      return;
    }
    // the client's bytes after the handshake (none before the 101, but kept) wait while we look up
    socket.pause();
    void lookup(store, r)
      .then(
        (t) =>
          new Promise<void>((resolve, reject) => {
            // (the callback runs once connected, after `connected` below is defined)
            const up = kubeletConnect({ host: t.host, port: t.port }, () => connected());
            const timer = setTimeout(
              () => up.destroy(new Error('i/o timeout')),
              t.ready ? DIAL_TIMEOUT_MS : DIAL_TIMEOUT_NOT_READY_MS,
            );
            up.once('error', (e) => {
              clearTimeout(timer);
              reject(
                new StreamError(
                  500,
                  'InternalError',
                  `error dialing backend: dial tcp ${t.host}:${t.port}: ${e.message}`,
                ),
              );
            });
            const connected = () => {
              clearTimeout(timer);
              up.removeAllListeners('error');
              up.on('error', () => socket.destroy());
              up.setNoDelay(true);
              up.write(replayRequest(req, t.path, `${t.host}:${t.port}`));
              if (head.length) up.write(head);
              socket.on('close', () => up.destroy());
              up.on('close', () => socket.destroy());
              up.pipe(socket);
              socket.pipe(up);
              socket.resume();
              resolve();
            };
          }),
      )
      .catch((e: unknown) => {
        const err =
          e instanceof StreamError ? e : new StreamError(500, 'InternalError', (e as Error).message ?? String(e));
        if (err.code >= 500) log(`${r.kind} ${r.namespace}/${r.pod}: ${err.message}`);
        if (socket.writable) socket.end(statusResponse(err));
        else socket.destroy();
      });
  };
}
