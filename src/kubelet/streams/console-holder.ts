import fs from 'node:fs';
import net from 'node:net';
import { startProcess, startPty } from '../../host/index.js';
import {
  ConsoleFrameReader,
  EarlyOutput,
  ERR,
  EXITED,
  INPUT,
  INPUT_CLOSED,
  OUT,
  RESIZE_TO,
  consoleFrame,
  consoleFrames,
  parseResizeFrame,
} from './console-protocol.js';

/**
 * A container's console: what containerd's shim does for a container whose
 * spec asks for stdin or a tty, as a small process of its own that outlives
 * the agent (containers do: a restarted agent adopts them). It runs the
 * container's command (the runtime's shim and sandbox) —
 *   - tty: on a pseudo-terminal (stdout and stderr are the terminal; a resize
 *     sets its size); TERM=xterm unless the spec sets it, as containerd does;
 *   - stdin without tty: on pipes — stdout and stderr stay apart, and the end
 *     of the attach's stdin is an end of file for the command (stdinOnce);
 * holds its stdin open until then, writes everything it prints to the
 * container's log (its own stdout, the runtime's log file, as for any
 * container), and serves attaches on a Unix socket (console-protocol.ts):
 * the output to every attached client, input and resizes from them. What the
 * container printed before its first attach is given to that attach (kubectl
 * run -i attaches once the pod is Running, when a short command may be done).
 * When the command ends, its last output is sent, then EXITED, and the holder
 * exits with the command's code — after waiting a moment for a first attach
 * if there has been none (FIRST_ATTACH_WAIT_MS).
 */
export interface HolderOptions {
  socket: string;
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  /** the container's NODE_OPTIONS, kept from the holder's own start (it is node too) and given back to the command */
  nodeOptions?: string;
  argv: string[];
}

/** `--socket S [--tty] [--stdin] [--stdin-once] -- argv…` (what console.ts's withConsole writes). */
export function parseHolderArgs(args: string[]): HolderOptions {
  const o: HolderOptions = { socket: '', tty: false, stdin: false, stdinOnce: false, argv: [] };
  let i = 0;
  for (; i < args.length && args[i] !== '--'; i++) {
    if (args[i] === '--socket') o.socket = args[++i] ?? '';
    else if (args[i] === '--tty') o.tty = true;
    else if (args[i] === '--stdin') o.stdin = true;
    else if (args[i] === '--stdin-once') o.stdinOnce = true;
    else if (args[i] === '--node-options') o.nodeOptions = args[++i] ?? '';
  }
  o.argv = args.slice(i + 1);
  return o;
}

export function holderArgs(o: HolderOptions): string[] {
  return [
    '--socket',
    o.socket,
    ...(o.tty ? ['--tty'] : []),
    ...(o.stdin ? ['--stdin'] : []),
    ...(o.stdinOnce ? ['--stdin-once'] : []),
    ...(o.nodeOptions !== undefined ? ['--node-options', o.nodeOptions] : []),
    '--',
    ...o.argv,
  ];
}

interface Child {
  write(d: Buffer): void;
  closeInput(): void;
  resize(cols: number, rows: number): void;
  terminate(): void;
  done: Promise<{ code: number | null; signal: string | number | null }>;
}

/**
 * How long a command that ended before anyone attached keeps its console for
 * a first attach (the pod shows Running that much longer; a stop does not wait).
 */
export const FIRST_ATTACH_WAIT_MS = 3000;

/** A client that reads slower than this is cut off (the container never waits on an attach). */
const CLIENT_BACKLOG = 16 << 20;

/** Starts the command and serves its console; `exited` settles with its exit code once every client has its output. */
export async function runHolder(
  o: HolderOptions,
  logFd = 1,
  lingerMs = FIRST_ATTACH_WAIT_MS,
): Promise<{ terminate(): void; exited: Promise<number> }> {
  const log = (d: Buffer) => {
    try {
      fs.writeSync(logFd, d);
    } catch {
      /* the log's disk is full: the output still goes to the attached */
    }
  };
  const clients = new Set<net.Socket>();
  const early = new EarlyOutput();
  let attachedOnce = false;
  let inputClosed = !o.stdin;
  const output = (type: number, d: Buffer) => {
    log(d);
    if (!attachedOnce) return early.add(type, d);
    const f = consoleFrames(type, d);
    for (const c of clients) {
      if (c.writableLength > CLIENT_BACKLOG) c.destroy();
      else c.write(f);
    }
  };

  const env = { ...process.env } as Record<string, string>;
  if (o.nodeOptions !== undefined) env.NODE_OPTIONS = o.nodeOptions;
  let child: Child;
  if (o.tty) {
    if (!env.TERM) env.TERM = 'xterm';
    const term = await startPty(o.argv, { name: env.TERM, cols: 80, rows: 24, cwd: '/', env });
    term.onData((d: string | Buffer) => output(OUT, typeof d === 'string' ? Buffer.from(d, 'utf8') : d));
    child = {
      write: (d) => term.write(d.toString('utf8')),
      closeInput: () => {},
      resize: (c, r) => {
        if (c > 0 && r > 0) term.resize(c, r);
      },
      // the terminal's session is not the holder's process group: a stop is passed on
      terminate: () => {
        try {
          process.kill(-term.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      },
      done: new Promise((resolve) =>
        term.onExit(({ exitCode, signal }) =>
          // the last output may still be on its way from the terminal
          setTimeout(() => resolve({ code: signal ? null : exitCode, signal: signal || null }), 50),
        ),
      ),
    };
  } else {
    // the holder's own process group: a stop (SIGTERM to the group) reaches the command directly
    const p = startProcess(o.argv, { env, cwd: '/', stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => output(OUT, d));
    p.stderr!.on('data', (d: Buffer) => output(ERR, d));
    p.stdin?.on('error', () => {
      /* the command closed its stdin: what comes after is dropped */
    });
    child = {
      write: (d) => void p.stdin?.write(d),
      closeInput: () => p.stdin?.end(),
      resize: () => {},
      terminate: () => {},
      done: new Promise((resolve) => {
        p.on('error', () => resolve({ code: 127, signal: null }));
        p.on('close', (code, signal) => resolve({ code, signal }));
      }),
    };
  }
  const server = net.createServer((c) => {
    c.on('error', () => c.destroy());
    clients.add(c);
    c.on('close', () => clients.delete(c));
    if (!attachedOnce) {
      attachedOnce = true;
      for (const f of early.take()) c.write(consoleFrames(f.type, f.data));
    }
    const reader = new ConsoleFrameReader();
    c.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch {
        return void c.destroy();
      }
      for (const f of frames) {
        if (f.type === INPUT && !inputClosed) child.write(f.data);
        else if (f.type === INPUT_CLOSED && o.stdinOnce && !inputClosed) {
          inputClosed = true;
          child.closeInput();
        } else if (f.type === RESIZE_TO) {
          const s = parseResizeFrame(f.data);
          if (s) child.resize(s.cols, s.rows);
        }
      }
    });
  });
  fs.rmSync(o.socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socket, () => resolve());
  });
  fs.chmodSync(o.socket, 0o600);

  let stopping = false;
  const exited = child.done.then(async ({ code, signal }) => {
    // nobody attached yet (kubectl run -i sees the pod Running, then attaches): wait a moment for the
    // first attach, which gets the output and the end, rather than make kubectl fall back to the logs
    if (!attachedOnce && !stopping) await firstAttach(lingerMs);
    return finish(code, signal);
  });
  return {
    terminate: () => {
      stopping = true;
      child.terminate();
    },
    exited,
  };

  function firstAttach(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      server.once('connection', () => {
        clearTimeout(t);
        setImmediate(resolve);
      });
    });
  }

  async function finish(code: number | null, signal: string | number | null): Promise<number> {
    const exited = consoleFrame(EXITED, JSON.stringify({ code, signal }));
    server.close();
    fs.rmSync(o.socket, { force: true });
    // every client gets the rest and EXITED; one that does not read it is not waited on for long
    await Promise.race([
      Promise.all(
        [...clients].map((c) => new Promise<void>((resolve) => (c.destroyed ? resolve() : c.end(exited, resolve)))),
      ),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    return code ?? 128 + (typeof signal === 'number' ? signal : 9);
  }
}

/** The holder's entry (console-holder-main.ts): its exit code is the command's. */
export async function holderMain(args: string[]): Promise<void> {
  const o = parseHolderArgs(args);
  if (!o.socket || o.argv.length === 0) {
    process.stderr.write('console-holder: usage: --socket PATH [--tty] [--stdin] [--stdin-once] -- COMMAND…\n');
    process.exit(2);
  }
  try {
    const h = await runHolder(o);
    // a stop (SIGTERM to the holder's group) is the command's; a hangup or ^C of the agent's is not
    process.on('SIGTERM', () => h.terminate());
    process.on('SIGHUP', () => {});
    process.on('SIGINT', () => {});
    process.exit(await h.exited);
  } catch (e) {
    process.stderr.write(`console-holder: ${(e as Error).message}\n`);
    process.exit(126);
  }
}
