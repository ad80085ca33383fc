import net from 'node:net';
import type { WebSocket } from 'ws';
import {
  ERROR,
  RESIZE,
  STDIN,
  STDOUT,
  decodeFrame,
  encodeFrame,
  errorStatus,
  parseResize,
  type ChannelProtocol,
  type StreamOptions,
} from '../../control/streams/index.js';
import { KubeletError } from '../errors.js';

/**
 * kubectl attach (and run -it): a container started with stdin/tty runs on
 * a terminal that Debian's dtach holds (dtach -N <socket> <command>: the
 * master keeps the PTY open whether anyone is attached or not, and outlives
 * an agent restart as the container does). Attaching speaks dtach's own
 * socket protocol, so no terminal is needed on the agent's side: the client
 * sends 10-byte packets {type, len, 8 bytes} — PUSH (input, up to 8 bytes),
 * ATTACH, DETACH, WINCH (struct winsize: rows, cols, 0, 0; the machine's
 * byte order) — and the master sends the terminal's output as it comes.
 */
export const DTACH_PUSH = 0;
export const DTACH_ATTACH = 1;
export const DTACH_DETACH = 2;
export const DTACH_WINCH = 3;
export const DTACH_REDRAW = 4;
const PACKET = 10;

export function dtachPacket(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > 8) throw new KubeletError('ERR_BAD_FRAME', 'a dtach packet carries at most 8 bytes');
  const b = Buffer.alloc(PACKET);
  b[0] = type;
  b[1] = payload.length;
  b.set(payload, 2);
  return b;
}

/** Input as PUSH packets of up to 8 bytes each. */
export function dtachPush(data: Uint8Array): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += 8) out.push(dtachPacket(DTACH_PUSH, data.subarray(i, i + 8)));
  return Buffer.concat(out);
}

export function dtachWinch(cols: number, rows: number): Buffer {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  const b = dtachPacket(DTACH_WINCH, ws);
  b[1] = 8;
  return b;
}

/** The argv that runs a container's command on a console dtach holds at sock (-E: no detach key, -z: ^Z goes to the command, -r none: no redraw). */
export function consoleArgv(sock: string, argv: string[]): string[] {
  return ['/usr/bin/dtach', '-N', sock, '-E', '-z', '-r', 'none', ...argv];
}

/**
 * Attach the WebSocket to a container's console: its output on stdout,
 * stdin and resizes to it. Ends (Success on the error channel, then close)
 * when the container's console goes away; a client leaving only detaches.
 */
export function serveAttach(
  ws: WebSocket,
  protocol: ChannelProtocol,
  opts: StreamOptions,
  sock: string,
  log: (m: string) => void,
): void {
  let closed = false;
  const conn = net.connect(sock);
  const send = (channel: number, data: Buffer | string) => {
    if (!closed) ws.send(encodeFrame(channel, data), { binary: true });
  };
  const finish = (status: Record<string, unknown>) => {
    send(ERROR, JSON.stringify(status));
    if (!closed) ws.close(1000);
    closed = true;
  };
  conn.on('connect', () => {
    conn.write(dtachPacket(DTACH_ATTACH));
    send(opts.stdout ? STDOUT : ERROR, Buffer.alloc(0));
  });
  conn.on('data', (d: Buffer) => {
    if (opts.stdout) send(STDOUT, d);
  });
  conn.on('error', (e) => {
    log(`attach ${sock}: ${e.message}`);
    if (!closed) finish(errorStatus(`the container's console is gone: ${e.message}`));
  });
  conn.on('close', () => {
    if (!closed) finish({ metadata: {}, status: 'Success' });
  });
  ws.on('close', () => {
    closed = true;
    if (!conn.destroyed) conn.end(dtachPacket(DTACH_DETACH));
  });
  ws.on('message', (raw: Buffer) => {
    const f = decodeFrame(Buffer.from(raw), protocol);
    if (f.kind === 'data' && f.channel === STDIN && opts.stdin) conn.write(dtachPush(f.data));
    else if (f.kind === 'data' && f.channel === RESIZE) {
      const s = parseResize(f.data);
      if (s) conn.write(dtachWinch(s.width, s.height));
    }
  });
}
