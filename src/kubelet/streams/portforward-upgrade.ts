import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { SpdySession } from '../../control/streams/spdy/index.js';
import { refuseUpgrade, type StreamTarget } from './server.js';
import { netnsDialer, type NetnsDialer } from './portforward-dial.js';
import { servePortForward, type PortForwardPod } from './portforward.js';

/**
 * The agent's /portForward/{ns}/{pod} on :10250 (the API server replays
 * kubectl's upgrade here unchanged). Two ways in, one protocol after:
 *   - WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io` (KEP-4006,
 *     kubectl ≥ 1.31's first try): each binary message carries SPDY bytes;
 *   - `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version: portforward.k8s.io`
 *     (kubectl's fallback, and every client before 1.30): 101, then SPDY on
 *     the socket.
 * (The kubelet itself only speaks the second; kube-apiserver unwraps the
 * first. Here the agent takes both, so the API server stays a byte pipe.)
 */

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const PORT_FORWARD_WS_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/** What the agent knows of a pod it runs: its sandbox's network namespace. */
export type PodSandboxLookup = (namespace: string, name: string) => { netns: string } | undefined;

/** The first X-Stream-Protocol-Version the client offers that is spoken here (httpstream.Handshake). */
export function negotiateSpdyProtocol(offered: string[]): { protocol: string } | { error: string } {
  const versions = offered
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  // a client that offers none is a pre-versioning one: it gets the only protocol there is
  if (versions.length === 0 || versions.includes(PORT_FORWARD_PROTOCOL)) return { protocol: PORT_FORWARD_PROTOCOL };
  return {
    error: `unable to upgrade: unable to negotiate protocol: client supports [${versions.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`,
  };
}

export function portForwardUpgrade(
  lookup: PodSandboxLookup,
  log: (m: string) => void,
  dialerFor: (netns: string) => NetnsDialer = (ns) => netnsDialer(ns),
): (req: http.IncomingMessage, socket: Duplex, head: Buffer, target: StreamTarget) => void {
  // RFC 6455 makes a subprotocol a token, which `/` and `+` are not, so `ws`
  // refuses `SPDY/3.1+portforward.k8s.io` (400) — kubectl's Go peer takes it.
  // The offer is checked here, taken out of the request before `ws` parses
  // it, and the answer put back into the 101 through the 'headers' event.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const tunnelling = new WeakSet<http.IncomingMessage>();
  wss.on('headers', (headers, req) => {
    if (tunnelling.has(req)) headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_WS_PROTOCOL}`);
  });

  const start = (transport: Duplex, pod: PortForwardPod, via: string) => {
    const session = new SpdySession(transport, { isServer: true });
    session.on('error', (e) => log(`port-forward ${pod.namespace}/${pod.name}: ${e.message}`));
    const stats = servePortForward(session, pod, dialerFor(pod.sandbox), log);
    log(`port-forward ${pod.namespace}/${pod.name}: session opened (${via})`);
    session.on('close', () =>
      log(
        `port-forward ${pod.namespace}/${pod.name}: session closed (${stats.forwarded} connections, ${stats.failed} failed, ${stats.bytesToPod} B in, ${stats.bytesFromPod} B out)`,
      ),
    );
    return session;
  };

  return (req, socket, head, target) => {
    const sb = lookup(target.namespace, target.pod);
    if (!sb)
      return refuseUpgrade(
        socket,
        404,
        `pod "${target.pod}" in namespace "${target.namespace}" is not running on this node`,
      );
    const pod: PortForwardPod = { namespace: target.namespace, name: target.pod, sandbox: sb.netns };
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') {
      const offered = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim());
      if (!offered.includes(PORT_FORWARD_WS_PROTOCOL))
        return refuseUpgrade(
          socket,
          400,
          `port-forward over WebSocket needs the ${PORT_FORWARD_WS_PROTOCOL} subprotocol (offered: ${offered.join(', ') || 'none'})`,
        );
      delete req.headers['sec-websocket-protocol'];
      tunnelling.add(req);
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.binaryType = 'nodebuffer';
        start(createWebSocketStream(ws), pod, 'WebSocket');
      });
      return;
    }
    if (upgrade === 'spdy/3.1') {
      const raw = req.headers['x-stream-protocol-version'];
      const n = negotiateSpdyProtocol(raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]);
      if ('error' in n) {
        const body = `${n.error}\n`;
        socket.end(
          `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${n.protocol}\r\n\r\n`,
      );
      (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      const session = start(socket, pod, 'SPDY/3.1');
      if (head.length) session.receive(head);
      return;
    }
    refuseUpgrade(socket, 400, `unable to upgrade: port-forward speaks SPDY/3.1, not ${upgrade || 'nothing'}`);
  };
}
