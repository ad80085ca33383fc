import type { WebSocket } from 'ws';
import {
  ERROR,
  RESIZE,
  STDERR,
  STDIN,
  STDOUT,
  decodeFrame,
  encodeFrame,
  parseResize,
  type ChannelProtocol,
  type StreamOptions,
  type TerminalSize,
} from '../../control/streams/index.js';

/**
 * One exec or attach stream as exec.ts and attach.ts see it, whichever way
 * kubectl came: WebSocket (v5/v4.channel.k8s.io, below) or SPDY/3.1 with a
 * stream per channel (spdy-channels.ts). Output goes out on stdout/stderr,
 * stdin and resizes come in, finish() sends the Status and ends it all.
 */
export interface StreamChannels {
  /** Output to the client; false: its buffer is full, wait for onDrain before more. */
  write(channel: typeof STDOUT | typeof STDERR, data: Buffer): boolean;
  onDrain(fn: () => void): void;
  /** The Status on the error channel (v4+: the exit code), then the stream ends. */
  finish(status: Record<string, unknown>): void;
  onStdin(fn: (data: Buffer) => void): void;
  /** The client's stdin ended (v5's close signal, SPDY's FIN on stdin). */
  onStdinEnd(fn: () => void): void;
  onResize(fn: (size: TerminalSize) => void): void;
  /** The client went away, or the stream was finished. */
  onClose(fn: () => void): void;
  readonly closed: boolean;
  /** Stop taking the client's input for a while (the command reads slower than it comes). */
  pauseInput(): void;
  resumeInput(): void;
}

/** How much output may wait in a WebSocket's buffer before write() says wait. */
const HIGH_WATER = 1 << 20;

/** The WebSocket channel protocols: one message per frame, the channel byte first (ws-channels.ts). */
export function wsChannels(
  ws: WebSocket,
  protocol: ChannelProtocol,
  opts: StreamOptions,
  log: (m: string) => void,
): StreamChannels {
  let closed = false;
  const stdin: ((d: Buffer) => void)[] = [];
  const stdinEnd: (() => void)[] = [];
  const resize: ((s: TerminalSize) => void)[] = [];
  const close: (() => void)[] = [];
  const drain: (() => void)[] = [];
  const gone = () => {
    if (closed) return;
    closed = true;
    close.forEach((f) => f());
  };
  ws.on('close', gone);
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const f = decodeFrame(isBinary ? raw : Buffer.from(raw), protocol);
    if (f.kind === 'invalid') return log(`stream: ${f.reason}`);
    if (f.kind === 'close') {
      if (f.channel === STDIN) stdinEnd.forEach((fn) => fn());
      return;
    }
    if (f.kind !== 'data') return;
    if (f.channel === STDIN) stdin.forEach((fn) => fn(f.data));
    else if (f.channel === RESIZE) {
      const s = parseResize(f.data);
      if (s) resize.forEach((fn) => fn(s));
    }
  });
  // As the kubelet: an empty message on the first channel the client reads, to say the stream is open.
  ws.send(encodeFrame(opts.stdout ? STDOUT : opts.stderr ? STDERR : ERROR, Buffer.alloc(0)), { binary: true });
  return {
    write(channel, data) {
      if (closed) return true;
      ws.send(encodeFrame(channel, data), { binary: true }, () => {
        if (ws.bufferedAmount < HIGH_WATER) drain.forEach((fn) => fn());
      });
      return ws.bufferedAmount < HIGH_WATER;
    },
    onDrain: (fn) => void drain.push(fn),
    finish(status) {
      if (closed) return;
      ws.send(encodeFrame(ERROR, JSON.stringify(status)), { binary: true });
      ws.close(1000);
      gone();
    },
    onStdin: (fn) => void stdin.push(fn),
    onStdinEnd: (fn) => void stdinEnd.push(fn),
    onResize: (fn) => void resize.push(fn),
    onClose: (fn) => void close.push(fn),
    get closed() {
      return closed;
    },
    pauseInput: () => ws.pause(),
    resumeInput: () => ws.resume(),
  };
}
