import type net from 'node:net';
import { RstStatus, type SpdySession, type SpdyStream } from '../../control/streams/spdy/index.js';
import { DialError, type NetnsDialer } from './portforward-dial.js';

/**
 * The kubelet's side of pods/portforward (its httpStreamHandler), over a
 * SPDY session however it arrived (TCP after `Upgrade: SPDY/3.1`, or tunnelled
 * in WebSocket messages). For each local connection kubectl opens two
 * streams, headers `streamType: error|data`, `port`, `requestID`: they are
 * paired by requestID, then the data stream is joined to a connection made
 * to localhost:port inside the pod's network namespace. A connection that
 * cannot be made is reported on the error stream — "error forwarding port 81
 * to pod …, uid : failed to connect …" — and the session stays up for the
 * next one (kubectl ≥ 1.28 itself then closes the session: it treats any
 * error-stream message as fatal).
 */

export const STREAM_TYPE_HEADER = 'streamtype';
export const PORT_HEADER = 'port';
export const REQUEST_ID_HEADER = 'requestid';

/** How long the second stream of a pair may take (the kubelet's default streamCreationTimeout). */
export const PAIR_TIMEOUT_MS = 30_000;

export interface PortForwardPod {
  namespace: string;
  name: string;
  /** what kubectl's message names the pod by (the kubelet gives the CRI sandbox id): here its netns */
  sandbox: string;
}

interface Pair {
  requestId: string;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Checks a new stream's headers as the kubelet does; the message if it must be refused. */
export function validateStreamHeaders(h: (name: string) => string | undefined): string | null {
  const port = h(PORT_HEADER);
  if (!port) return `"${PORT_HEADER}" header is required`;
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const type = h(STREAM_TYPE_HEADER);
  if (!type) return `"${STREAM_TYPE_HEADER}" header is required`;
  if (type !== 'error' && type !== 'data') return `invalid stream type "${type}"`;
  return null;
}

/** The pair a stream belongs to: its requestID, or for clients older than requestID the kubelet's id rule. */
export function requestIdOf(s: { id: number; header(n: string): string | undefined }): string {
  const id = s.header(REQUEST_ID_HEADER);
  if (id !== undefined && id !== '') return id;
  return String(s.header(STREAM_TYPE_HEADER) === 'error' ? s.id : s.id - 2);
}

export interface PortForwardStats {
  pairs: number;
  forwarded: number;
  failed: number;
  bytesToPod: number;
  bytesFromPod: number;
}

/** Serves one port-forward session until it closes; the dialer is closed with it. */
export function servePortForward(
  session: SpdySession,
  pod: PortForwardPod,
  dialer: NetnsDialer,
  log: (m: string) => void,
  pairTimeoutMs = PAIR_TIMEOUT_MS,
): PortForwardStats {
  const stats: PortForwardStats = { pairs: 0, forwarded: 0, failed: 0, bytesToPod: 0, bytesFromPod: 0 };
  const pairs = new Map<string, Pair>();
  const sockets = new Set<net.Socket>();

  session.on('stream', (s) => {
    const bad = validateStreamHeaders((n) => s.header(n));
    if (bad) {
      log(`port-forward ${pod.namespace}/${pod.name}: stream ${s.id} refused: ${bad}`);
      s.reset(RstStatus.CANCEL);
      return;
    }
    s.reply();
    s.on('error', () => {}); // a reset stream's write errors are the session's business
    const requestId = requestIdOf(s);
    let p = pairs.get(requestId);
    if (!p) {
      p = {
        requestId,
        timer: setTimeout(() => timedOut(requestId), pairTimeoutMs),
      };
      p.timer.unref?.();
      pairs.set(requestId, p);
    }
    const type = s.header(STREAM_TYPE_HEADER) as 'data' | 'error';
    if (p[type]) {
      log(`port-forward ${pod.namespace}/${pod.name}: request ${requestId}: a second ${type} stream`);
      s.reset(RstStatus.PROTOCOL_ERROR);
      return;
    }
    p[type] = s;
    if (p.data && p.error) {
      clearTimeout(p.timer);
      pairs.delete(requestId);
      stats.pairs++;
      void forward(p.data, p.error);
    }
  });

  function timedOut(requestId: string): void {
    const p = pairs.get(requestId);
    if (!p) return;
    pairs.delete(requestId);
    const msg = `(request=${requestId}) timed out waiting for streams`;
    log(`port-forward ${pod.namespace}/${pod.name}: ${msg}`);
    if (p.error && !p.error.destroyed) p.error.end(msg);
    p.data?.reset(RstStatus.CANCEL);
  }

  async function forward(data: SpdyStream, error: SpdyStream): Promise<void> {
    const port = Number(data.header(PORT_HEADER));
    let sock: net.Socket;
    try {
      sock = await dialer.dial(port);
    } catch (e) {
      stats.failed++;
      const why = e instanceof DialError ? e.message : `${(e as Error).message}`;
      const msg = `error forwarding port ${port} to pod ${pod.sandbox}, uid : ${why}`;
      log(`port-forward ${pod.namespace}/${pod.name}: ${msg}`);
      if (!error.destroyed) error.end(msg);
      if (!data.destroyed) data.end();
      return;
    }
    if (data.destroyed || session.isClosed) {
      sock.destroy();
      return;
    }
    stats.forwarded++;
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('error', () => sock.destroy());
    data.on('data', (c: Buffer) => (stats.bytesToPod += c.length));
    sock.on('data', (c: Buffer) => (stats.bytesFromPod += c.length));
    // client → pod; the client's FIN half-closes the pod connection
    data.pipe(sock);
    // pod → client; the pod's FIN ends the data stream
    sock.pipe(data);
    data.on('close', () => sock.destroy()); // reset by kubectl, or the session went away
    sock.on('close', () => {
      sockets.delete(sock);
      if (!data.destroyed && !data.writableEnded) data.end();
      if (!error.destroyed && !error.writableEnded) error.end();
    });
  }

  session.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
    for (const s of sockets) s.destroy();
    dialer.close();
  });
  return stats;
}
