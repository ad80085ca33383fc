/**
 * The channel framing of Kubernetes' streaming subresources over WebSocket
 * (pods/exec and pods/attach; KEP-4006), as the kubelet's streaming server
 * speaks it to kubectl: every binary message is one channel byte and its
 * data. Pure: no sockets, no processes (ws-exec.ts wires it to both).
 *
 *   0 stdin (client → server), 1 stdout, 2 stderr, 3 error (v4+: a Status
 *   JSON with the exit code), 4 resize (client → server: {"Width","Height"});
 *   v5 adds 255: [255, channel] — the sender closed that channel (kubectl
 *   sends [255, 0] when its stdin ends).
 */

/** Subprotocols we accept, best first (kubectl ≥ 1.30 offers v5 and v4). */
export const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export type ChannelProtocol = (typeof CHANNEL_PROTOCOLS)[number];

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: a message [CLOSE, channel] half-closes that channel. */
export const CLOSE = 255;

/** The subprotocol to answer from what the client offers (its order does not matter), or null: none we speak. */
export function pickProtocol(offered: Iterable<string>): ChannelProtocol | null {
  const set = new Set([...offered].map((p) => p.trim()));
  return CHANNEL_PROTOCOLS.find((p) => set.has(p)) ?? null;
}

export function encodeFrame(channel: number, data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

/** [255, channel]: v5's close signal. */
export function encodeClose(channel: number): Buffer {
  return Buffer.from([CLOSE, channel]);
}

export type Frame =
  | { kind: 'data'; channel: number; data: Buffer }
  | { kind: 'close'; channel: number }
  | { kind: 'empty' }
  | { kind: 'invalid'; reason: string };

/** One message from the client. A v4 peer has no close signal: 255 there is a channel like any other (unknown). */
export function decodeFrame(msg: Buffer, protocol: ChannelProtocol): Frame {
  if (msg.length === 0) return { kind: 'empty' };
  const channel = msg[0];
  if (channel === CLOSE && protocol === 'v5.channel.k8s.io') {
    if (msg.length !== 2) return { kind: 'invalid', reason: `a close signal is 2 bytes, not ${msg.length}` };
    return { kind: 'close', channel: msg[1] };
  }
  return { kind: 'data', channel, data: msg.subarray(1) };
}

export interface TerminalSize {
  width: number;
  height: number;
}

/** A resize message's data: {"Width":80,"Height":24} (kubectl's remotecommand.TerminalSize); null if it is not one. */
export function parseResize(data: Buffer | string): TerminalSize | null {
  try {
    const o = JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as Record<string, unknown>;
    const w = o.Width ?? o.width;
    const h = o.Height ?? o.height;
    if (!Number.isInteger(w) || !Number.isInteger(h)) return null;
    if ((w as number) < 0 || (h as number) < 0 || (w as number) > 65535 || (h as number) > 65535) return null;
    return { width: w as number, height: h as number };
  } catch {
    return null;
  }
}

/**
 * The Status the error channel carries at the end (v4+), as the kubelet
 * writes it: Success, or Failure with reason NonZeroExitCode and the code
 * in details.causes[ExitCode] — kubectl exits with that code.
 */
export function exitStatus(code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** A failure that is not an exit code (the command could not start, the container went away): kubectl prints the message. */
export function errorStatus(message: string): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

/** The exit code a shell would report: a signal n is 128+n. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | number | null): number {
  if (code !== null) return code;
  if (signal === null) return 1;
  const n = typeof signal === 'number' ? signal : (SIGNALS[signal] ?? 0);
  return 128 + n;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** The query of an exec/attach request: which streams, a TTY, the command (repeated ?command=). */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  command: string[];
}

export function parseStreamOptions(q: URLSearchParams): StreamOptions {
  const flag = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
  const tty = flag('tty');
  return {
    stdin: flag('stdin') || flag('input'),
    stdout: flag('stdout') || flag('output'),
    // with a TTY, stderr is the terminal too (as the kubelet does)
    stderr: !tty && (flag('stderr') || flag('error')),
    tty,
    command: q.getAll('command'),
  };
}
