import type http from 'node:http';
import type { Duplex } from 'node:stream';
import {
  SpdySession,
  type SpdyStream,
  parseResize,
  type StreamOptions,
  type TerminalSize,
} from '../../control/streams/index.js';
import type { StreamChannels } from './channels.js';

/**
 * exec and attach over SPDY/3.1 — kubectl's fallback when its WebSocket
 * upgrade fails (and every client before 1.30): `Upgrade: SPDY/3.1` with
 * the channel protocols offered in X-Stream-Protocol-Version, a 101 naming
 * the one chosen, then a SPDY session (the one port-forward speaks,
 * control/streams/spdy/) on which the client opens one stream per channel,
 * named by its `streamType` header: error, stdin, stdout, stderr, resize.
 * The server replies to each, starts once it has those the request asks
 * for, and at the end writes the Status on the error stream (v4: the JSON
 * Status, exit code and all; before v4 the message of a failure only) and
 * closes the connection — as the kubelet's remotecommand server does.
 */
export const SPDY_CHANNEL_PROTOCOLS = [
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
] as const;
export type SpdyChannelProtocol = (typeof SPDY_CHANNEL_PROTOCOLS)[number];

/** The first protocol the client offers that is spoken here (httpstream.Handshake); none offered: the first version's. */
export function negotiateChannelProtocol(offered: string[]): SpdyChannelProtocol | null {
  const versions = offered
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (versions.length === 0) return 'channel.k8s.io';
  return (
    (versions.find((v) => (SPDY_CHANNEL_PROTOCOLS as readonly string[]).includes(v)) as SpdyChannelProtocol) ?? null
  );
}

/** The streams the server waits for: error always, each standard stream asked for, resize for a TTY (v3+). */
export function expectedStreams(opts: StreamOptions, protocol: SpdyChannelProtocol): string[] {
  const out = ['error'];
  if (opts.stdin) out.push('stdin');
  if (opts.stdout) out.push('stdout');
  if (opts.stderr) out.push('stderr');
  if (opts.tty && (protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io')) out.push('resize');
  return out;
}

/** What the error stream carries at the end: v4 the Status as JSON; earlier versions a failure's message, nothing on success. */
export function statusBytes(status: Record<string, unknown>, protocol: SpdyChannelProtocol): Buffer {
  if (protocol === 'v4.channel.k8s.io') return Buffer.from(JSON.stringify(status));
  if (status.status === 'Success') return Buffer.alloc(0);
  return Buffer.from(String(status.message ?? 'error'));
}

/** The resize stream: JSON objects one after the other (a json.Decoder on the client's side), however cut. */
export class JsonObjectReader {
  private buf = '';

  push(chunk: Buffer | string): string[] {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const out: string[] = [];
    let depth = 0;
    let start = -1;
    let inString = false;
    let escaped = false;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          out.push(this.buf.slice(start, i + 1));
          consumed = i + 1;
        }
      } else if (depth === 0) consumed = i + 1; // whitespace between objects
    }
    this.buf = this.buf.slice(consumed);
    return out;
  }
}

/** How long the client may take to open its streams (the kubelet's stream creation timeout). */
const STREAMS_TIMEOUT_MS = 30_000;

/** Answers the SPDY upgrade and hands the stream, once its channels are open, to start. */
export function acceptSpdyChannels(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: StreamOptions,
  log: (m: string) => void,
  start: (ch: StreamChannels) => void,
): void {
  const raw = req.headers['x-stream-protocol-version'];
  const offered = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const protocol = negotiateChannelProtocol(offered);
  if (!protocol) {
    const body = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_CHANNEL_PROTOCOLS.join(' ')}]\n`;
    socket.end(
      `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    return;
  }
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  const session = new SpdySession(socket, { isServer: true });
  session.on('error', (e) => log(`spdy stream: ${e.message}`));
  const want = expectedStreams(opts, protocol);
  const streams = new Map<string, SpdyStream>();
  let started = false;
  const timer = setTimeout(() => {
    log(`spdy stream: the client opened [${[...streams.keys()].join(' ')}] of [${want.join(' ')}] in time`);
    session.destroy();
  }, STREAMS_TIMEOUT_MS);
  session.on('close', () => clearTimeout(timer));
  session.on('stream', (s) => {
    const type = s.header('streamtype') ?? '';
    if (started || !want.includes(type) || streams.has(type)) return void s.reset();
    s.reply();
    streams.set(type, s);
    if (want.every((t) => streams.has(t))) {
      started = true;
      clearTimeout(timer);
      start(spdyChannels(session, socket, streams, protocol));
    }
  });
  if (head.length) session.receive(head);
}

function spdyChannels(
  session: SpdySession,
  transport: Duplex,
  streams: Map<string, SpdyStream>,
  protocol: SpdyChannelProtocol,
): StreamChannels {
  let closed = false;
  const close: (() => void)[] = [];
  const gone = () => {
    if (closed) return;
    closed = true;
    close.forEach((f) => f());
  };
  session.on('close', gone);
  const out = { 1: streams.get('stdout'), 2: streams.get('stderr') } as Record<number, SpdyStream | undefined>;
  const stdin = streams.get('stdin');
  const resize = streams.get('resize');
  const error = streams.get('error')!;
  for (const s of streams.values()) s.on('error', () => {});
  // the client writes nothing on these: its FIN, if any, needs no answer
  for (const s of [out[1], out[2], error]) s?.resume();
  return {
    write(channel, data) {
      const s = out[channel];
      if (closed || !s || s.destroyed || s.writableEnded) return true;
      return s.write(data);
    },
    onDrain(fn) {
      out[1]?.on('drain', fn);
      out[2]?.on('drain', fn);
    },
    finish(status) {
      if (closed) return;
      const ends = [out[1], out[2]]
        .filter((s): s is SpdyStream => !!s && !s.destroyed && !s.writableEnded)
        .map((s) => new Promise<void>((r) => s.end(r)));
      const body = statusBytes(status, protocol);
      ends.push(new Promise<void>((r) => (error.destroyed ? r() : error.end(body, r))));
      gone();
      // everything written, then the connection closes (the kubelet closes it after the Status)
      void Promise.race([Promise.all(ends), new Promise((r) => setTimeout(r, 2000).unref())]).then(() => {
        session.goAway();
        transport.end();
      });
    },
    onStdin: (fn) => void stdin?.on('data', fn),
    onStdinEnd: (fn) => void stdin?.on('end', fn),
    onResize(fn: (s: TerminalSize) => void) {
      if (!resize) return;
      const reader = new JsonObjectReader();
      resize.on('data', (d: Buffer) => {
        for (const o of reader.push(d)) {
          const s = parseResize(o);
          if (s) fn(s);
        }
      });
    },
    onClose: (fn) => void close.push(fn),
    get closed() {
      return closed;
    },
    pauseInput: () => stdin?.pause(),
    resumeInput: () => stdin?.resume(),
  };
}
