import fs from 'node:fs';
import { startProcess, startPty } from '../../host/index.js';
import type { WebSocket } from 'ws';
import { execIdentityArgv, type ExecSpec as FullExecSpec } from '../exec-spec.js';
import {
  ERROR,
  RESIZE,
  STDERR,
  STDIN,
  STDOUT,
  decodeFrame,
  encodeFrame,
  errorStatus,
  exitCodeOf,
  exitStatus,
  parseResize,
  type ChannelProtocol,
  type StreamOptions,
  type TerminalSize,
} from '../../control/streams/index.js';

/**
 * What exec enters: a process in the container's namespaces and what the
 * command runs with (exec-spec.ts's ExecSpec; uid, groups and caps are left
 * out by a runtime that runs containers as root with every capability).
 */
export type ExecSpec = Pick<FullExecSpec, 'pid' | 'env'> &
  Partial<Pick<FullExecSpec, 'uid' | 'gid' | 'groups' | 'caps' | 'privileged' | 'noNewPrivs' | 'cwd'>>;

/**
 * The command line that runs argv inside the container: nsenter joins every
 * namespace of its process (network, mount, UTS, IPC, PID, cgroup; the user
 * namespace when it differs) and takes its root and working directory, then
 * Debian's setpriv (by path: a busybox-first PATH has an applet of that
 * name) takes the container's identity — user, groups, capability bounding
 * set, no_new_privs — as the runtime started the container with.
 */
export function execArgv(spec: ExecSpec, argv: string[]): string[] {
  const ns = [
    '/usr/bin/nsenter',
    '--target',
    String(spec.pid),
    '--all',
    '--root',
    spec.cwd ? `--wd=${spec.cwd}` : '--wd',
  ];
  let identity: string[] = [];
  if (spec.caps) {
    const [, ...opts] = execIdentityArgv({
      uid: spec.uid ?? 0,
      gid: spec.gid ?? 0,
      groups: spec.groups ?? [],
      caps: spec.caps,
      privileged: spec.privileged ?? false,
    });
    identity = ['/usr/bin/setpriv', ...(spec.noNewPrivs ? ['--no-new-privs'] : []), ...opts];
  } else if (spec.uid !== undefined && spec.uid !== 0) {
    identity = ['/usr/bin/setpriv', `--reuid=${spec.uid}`, `--regid=${spec.gid ?? spec.uid}`, '--clear-groups', '--'];
  }
  return [...ns, '--', ...identity, ...argv];
}

/** The environment exec gives: the container's, plus TERM for a TTY (as runc does). */
export function execEnv(spec: ExecSpec, tty: boolean): Record<string, string> {
  const env = { ...spec.env };
  if (!env.PATH) env.PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  if (tty && !env.TERM) env.TERM = 'xterm';
  return env;
}

/**
 * Every process of a session (what exec started and all it forked, even
 * what an interactive shell put in process groups of its own), by the
 * session id in /proc/PID/stat.
 */
export function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[3]) === sid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function killSession(sid: number): void {
  for (const pid of sessionMembers(sid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** The process behind a stream: a child with pipes, or one on a PTY. */
interface Proc {
  pid: number;
  write(data: Buffer): boolean;
  endInput(): void;
  resize(size: TerminalSize): void;
  onData(fn: (channel: number, data: Buffer) => void): void;
  /** resolves once the process has exited and its output is read */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | number | null }>;
  pause(): void;
  resume(): void;
  onDrain(fn: () => void): void;
}

function pipeProc(argv: string[], env: Record<string, string>, opts: StreamOptions): Proc {
  const child = startProcess(argv, {
    // its own session: the whole of it is killed when the client goes away
    detached: true,
    env,
    stdio: [opts.stdin ? 'pipe' : 'ignore', opts.stdout ? 'pipe' : 'ignore', opts.stderr ? 'pipe' : 'ignore'],
  });
  const handlers: ((c: number, d: Buffer) => void)[] = [];
  child.stdout?.on('data', (d: Buffer) => handlers.forEach((h) => h(STDOUT, d)));
  child.stderr?.on('data', (d: Buffer) => handlers.forEach((h) => h(STDERR, d)));
  child.stdin?.on('error', () => {
    /* the command stopped reading (EPIPE): the rest of stdin is dropped, as the kubelet does */
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | number | null }>((resolve) => {
    child.on('error', () => resolve({ code: 127, signal: null }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid ?? -1,
    write: (d) => child.stdin?.write(d) ?? true,
    endInput: () => child.stdin?.end(),
    resize: () => {},
    onData: (fn) => handlers.push(fn),
    done,
    pause: () => {
      child.stdout?.pause();
      child.stderr?.pause();
    },
    resume: () => {
      child.stdout?.resume();
      child.stderr?.resume();
    },
    onDrain: (fn) => child.stdin?.on('drain', fn),
  };
}

async function ptyProc(argv: string[], env: Record<string, string>, size: TerminalSize | null): Promise<Proc> {
  const term = await startPty(argv, {
    name: env.TERM ?? 'xterm',
    cols: size?.width || 80,
    rows: size?.height || 24,
    cwd: '/',
    env,
  });
  const handlers: ((c: number, d: Buffer) => void)[] = [];
  term.onData((d: string | Buffer) =>
    handlers.forEach((h) => h(STDOUT, typeof d === 'string' ? Buffer.from(d, 'utf8') : d)),
  );
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | number | null }>((resolve) => {
    term.onExit(({ exitCode, signal }) =>
      // the last output may still be on its way from the PTY
      setTimeout(() => resolve({ code: signal ? null : exitCode, signal: signal || null }), 50),
    );
  });
  return {
    pid: term.pid,
    write: (d) => {
      term.write(d.toString('utf8'));
      return true;
    },
    // a terminal has no end of input: ^D is what a shell on it reads as one
    endInput: () => term.write('\x04'),
    resize: (s) => {
      if (s.width > 0 && s.height > 0) term.resize(s.width, s.height);
    },
    onData: (fn) => handlers.push(fn),
    done,
    pause: () => term.pause(),
    resume: () => term.resume(),
    onDrain: () => {},
  };
}

/** How much output may wait in the WebSocket's buffer before the command's output is paused. */
const HIGH_WATER = 1 << 20;

/**
 * Run argv as a stream over the WebSocket: stdin from channel 0, stdout and
 * stderr out on 1 and 2, resize from 4 (TTY), the exit Status on 3, then a
 * normal close. A client that goes away mid-stream ends the command's whole
 * session (SIGKILL), so nothing it started is left behind.
 */
export async function serveExec(
  ws: WebSocket,
  protocol: ChannelProtocol,
  opts: StreamOptions,
  argv: string[],
  env: Record<string, string>,
  log: (m: string) => void,
): Promise<number | null> {
  // The first resize kubectl sends may come before the PTY exists: keep it.
  let size: TerminalSize | null = null;
  let proc: Proc | null = null;
  const early: Buffer[] = [];
  let inputEnded = false;
  let closed = false;
  ws.on('close', () => {
    closed = true;
    if (proc && proc.pid > 0) killSession(proc.pid);
  });
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const msg = isBinary ? raw : Buffer.from(raw);
    const f = decodeFrame(msg, protocol);
    if (f.kind === 'invalid') {
      log(`exec stream: ${f.reason}`);
      return;
    }
    if (f.kind === 'close') {
      if (f.channel === STDIN) {
        inputEnded = true;
        proc?.endInput();
      }
      return;
    }
    if (f.kind !== 'data') return;
    if (f.channel === RESIZE) {
      const s = parseResize(f.data);
      if (s) {
        size = s;
        proc?.resize(s);
      }
    } else if (f.channel === STDIN && opts.stdin && !inputEnded) {
      if (!proc) early.push(Buffer.from(f.data));
      else if (!proc.write(f.data)) ws.pause();
    }
  });
  const send = (channel: number, data: Buffer | string) => {
    if (closed) return;
    ws.send(encodeFrame(channel, data), { binary: true });
  };
  // As the kubelet: an empty message on the first channel the client reads, to say the stream is open.
  send(opts.stdout ? STDOUT : opts.stderr ? STDERR : ERROR, Buffer.alloc(0));
  try {
    // give a TTY client's first resize a moment to arrive, so the command starts at the right size
    if (opts.tty && !size) await new Promise((r) => setTimeout(r, 30));
    proc = opts.tty ? await ptyProc(argv, env, size) : pipeProc(argv, env, opts);
  } catch (e) {
    send(ERROR, JSON.stringify(errorStatus(`could not start ${argv.join(' ')}: ${(e as Error).message}`)));
    ws.close(1000);
    return null;
  }
  const p = proc;
  if (closed) killSession(p.pid);
  p.onDrain(() => ws.resume());
  for (const d of early) p.write(d);
  if (inputEnded || !opts.stdin) {
    if (!opts.tty) p.endInput();
  }
  p.onData((channel, data) => {
    if (closed) return;
    ws.send(encodeFrame(channel, data), { binary: true }, () => {
      if (ws.bufferedAmount < HIGH_WATER) p.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER) p.pause();
  });
  const { code, signal } = await p.done;
  const exit = exitCodeOf(code, signal);
  // the command is gone; what it left running in its session goes with it (as a container exec ends)
  killSession(p.pid);
  send(ERROR, JSON.stringify(exitStatus(exit)));
  if (!closed) ws.close(1000);
  return exit;
}
