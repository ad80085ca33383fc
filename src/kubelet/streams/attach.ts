import net from 'node:net';
import { STDERR, STDOUT, errorStatus, type StreamOptions } from '../../control/streams/index.js';
import type { StreamChannels } from './channels.js';
import {
  ConsoleFrameReader,
  ERR,
  EXITED,
  INPUT,
  INPUT_CLOSED,
  OUT,
  consoleFrames,
  resizeFrame,
} from './console-protocol.js';

/**
 * kubectl attach (and run -i/-it): the stream joined to the container's
 * console holder (console-holder.ts) on its Unix socket — the container's
 * output (what it printed before, on a first attach) out on stdout and
 * stderr as the request asks, stdin and resizes in. The end of the client's
 * stdin is passed on (the holder ends the container's stdin for stdinOnce);
 * a client leaving only detaches. Ends with Success when the container is
 * done, as the kubelet's attach does (kubectl reads the exit code from the
 * pod's status).
 */
export function serveAttach(ch: StreamChannels, opts: StreamOptions, sock: string, log: (m: string) => void): void {
  const conn = net.connect(sock);
  let inputClosed = false;
  const closeInput = () => {
    if (inputClosed || !opts.stdin || conn.destroyed) return;
    inputClosed = true;
    conn.write(consoleFrames(INPUT_CLOSED, Buffer.alloc(0)));
  };
  const reader = new ConsoleFrameReader();
  conn.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch (e) {
      log(`attach ${sock}: ${(e as Error).message}`);
      conn.destroy();
      return;
    }
    for (const f of frames) {
      if (f.type === OUT && opts.stdout) {
        if (!ch.write(STDOUT, f.data)) conn.pause();
      } else if (f.type === ERR && opts.stderr) {
        if (!ch.write(STDERR, f.data)) conn.pause();
      } else if (f.type === EXITED) {
        ch.finish({ metadata: {}, status: 'Success' });
      }
    }
  });
  ch.onDrain(() => conn.resume());
  conn.on('error', (e) => {
    log(`attach ${sock}: ${e.message}`);
    ch.finish(errorStatus(`the container's console is gone: ${e.message}`));
  });
  conn.on('close', () => ch.finish({ metadata: {}, status: 'Success' }));
  ch.onClose(() => {
    if (conn.destroyed) return;
    closeInput();
    conn.end();
  });
  ch.onStdin((d) => {
    if (opts.stdin && !inputClosed && !conn.destroyed) conn.write(consoleFrames(INPUT, d));
  });
  ch.onStdinEnd(closeInput);
  ch.onResize((s) => {
    if (!conn.destroyed) conn.write(resizeFrame(s.width, s.height));
  });
}
