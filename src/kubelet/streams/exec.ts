import fs from 'node:fs';
import { startProcess, startPty } from '../../host/index.js';
import { execIdentityArgv, type ExecSpec as FullExecSpec } from '../exec-spec.js';
import {
  STDERR,
  STDOUT,
  errorStatus,
  exitCodeOf,
  exitStatus,
  type StreamOptions,
  type TerminalSize,
} from '../../control/streams/index.js';
import type { StreamChannels } from './channels.js';

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

/**
 * SIGKILL every process of the session — and look again a few times: a
 * member may fork between one look at /proc and the kill (a shell starting
 * `sleep &` just as the client leaves), and its child would outlive it.
 */
export function killSession(sid: number, rounds = 25): void {
  const members = sessionMembers(sid);
  for (const pid of members) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (members.length && rounds > 1) setTimeout(() => killSession(sid, rounds - 1), 20).unref();
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

/**
 * Run argv as a stream: stdin in, stdout and stderr out, resizes (TTY), the
 * exit Status at the end. A client that goes away mid-stream ends the
 * command's whole session (SIGKILL), so nothing it started is left behind.
 */
export async function serveExec(
  ch: StreamChannels,
  opts: StreamOptions,
  argv: string[],
  env: Record<string, string>,
): Promise<number | null> {
  // The first resize kubectl sends may come before the PTY exists: keep it.
  let size: TerminalSize | null = null;
  let proc: Proc | null = null;
  const early: Buffer[] = [];
  let inputEnded = false;
  ch.onClose(() => {
    if (proc && proc.pid > 0) killSession(proc.pid);
  });
  ch.onStdinEnd(() => {
    inputEnded = true;
    proc?.endInput();
  });
  ch.onResize((s) => {
    size = s;
    proc?.resize(s);
  });
  ch.onStdin((d) => {
    if (!opts.stdin || inputEnded) return;
    if (!proc) early.push(Buffer.from(d));
    else if (!proc.write(d)) ch.pauseInput();
  });
  try {
    // give a TTY client's first resize a moment to arrive, so the command starts at the right size
    if (opts.tty && !size) await new Promise((r) => setTimeout(r, 30));
    proc = opts.tty ? await ptyProc(argv, env, size) : pipeProc(argv, env, opts);
  } catch (e) {
    ch.finish(errorStatus(`could not start ${argv.join(' ')}: ${(e as Error).message}`));
    return null;
  }
  const p = proc;
  if (ch.closed) killSession(p.pid);
  p.onDrain(() => ch.resumeInput());
  ch.onDrain(() => p.resume());
  for (const d of early) p.write(d);
  if ((inputEnded || !opts.stdin) && !opts.tty) p.endInput();
  p.onData((channel, data) => {
    if (!ch.write(channel as typeof STDOUT | typeof STDERR, data)) p.pause();
  });
  const { code, signal } = await p.done;
  const exit = exitCodeOf(code, signal);
  // the command is gone; what it left running in its session goes with it (as a container exec ends)
  killSession(p.pid);
  ch.finish(exitStatus(exit));
  return exit;
}
