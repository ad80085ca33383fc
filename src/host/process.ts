import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  spawn,
  execFileSync,
  type ChildProcess,
  type ChildProcessByStdio,
  type ChildProcessWithoutNullStreams,
  type StdioOptions,
} from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { execa, type Options as ExecaOptions, type ResultPromise } from 'execa';
import { HostError } from './errors.js';

/**
 * THE one place the project starts processes (with runner.ts, whose
 * CommandRunner runs a command to completion through runCommand here).
 * Always an argv array, never a shell string. Where a process runs is part
 * of its argv, built by the pure helpers below and in sandbox.ts:
 *   - on the machine: argv as is;
 *   - inside a node's (or any named) network namespace: inNetns(ns, argv);
 *   - inside a pod's container: the kubelet's runtime builds the sandbox
 *     argv (nsenter + bubblewrap + setpriv, sandbox.ts) and starts it here.
 */

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
  /** its own process group (and session): signal the whole of it with signalGroup */
  detached?: boolean;
}

export type { ChildProcess, ResultPromise };

/** Start argv as a child process (long-running or streamed); the caller owns it. */
export function startProcess(
  argv: readonly string[],
  o: StartOptions & { stdio: ['ignore', 'pipe', 'pipe'] },
): ChildProcessByStdio<null, Readable, Readable>;
export function startProcess(
  argv: readonly string[],
  o: StartOptions & { stdio: ['pipe', 'pipe', 'pipe'] },
): ChildProcessWithoutNullStreams;
export function startProcess(
  argv: readonly string[],
  o: StartOptions & { stdio: ['pipe', 'pipe', 'ignore'] },
): ChildProcessByStdio<Writable, Readable, null>;
export function startProcess(argv: readonly string[], o?: StartOptions): ChildProcess;
export function startProcess(argv: readonly string[], o: StartOptions = {}): ChildProcess {
  const [file, ...args] = argv;
  if (!file) throw new HostError('ERR_BAD_NAME', 'empty command', argv);
  return spawn(file, args, { env: o.env, cwd: o.cwd, stdio: o.stdio, detached: o.detached });
}

/**
 * Start a long-lived process (a daemon: an agent, the API server, etcd, www)
 * detached — its own process group, not keeping this one alive — with its
 * output appended to logFile; returns its PID. Throws when it could not start.
 */
export function startDaemon(argv: readonly string[], o: { logFile: string; env?: NodeJS.ProcessEnv }): number {
  fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
  const logFd = fs.openSync(o.logFile, 'a');
  let child: ChildProcess;
  try {
    child = startProcess(argv, { detached: true, stdio: ['ignore', logFd, logFd], env: o.env });
  } finally {
    fs.closeSync(logFd);
  }
  child.on('error', () => {}); // reported below (no PID)
  child.unref();
  if (!child.pid) throw new HostError('ERR_COMMAND_FAILED', `could not start ${argv.join(' ')}`, argv);
  return child.pid;
}

/**
 * Run argv with this terminal passed through (stdin, stdout, stderr), for
 * interactive commands; resolves with its exit code (128 + n when killed by
 * signal n, 127 when it could not start).
 */
export function runInteractive(argv: readonly string[], o: { env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  return new Promise<number>((resolve) => {
    let child: ChildProcess;
    try {
      child = startProcess(argv, { stdio: 'inherit', env: o.env });
    } catch {
      resolve(127);
      return;
    }
    child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1)));
    child.on('error', () => resolve(127));
  });
}

/** Run argv to completion and return its stdout (throws HostError on a non-zero exit): for quick queries at start-up. */
export function runProcessSync(argv: readonly string[], o: { timeoutMs?: number } = {}): string {
  const [file, ...args] = argv;
  if (!file) throw new HostError('ERR_BAD_NAME', 'empty command', argv);
  try {
    return execFileSync(file, args, { encoding: 'utf8', timeout: o.timeoutMs ?? 30_000 });
  } catch (cause) {
    throw new HostError('ERR_COMMAND_FAILED', `${argv.join(' ')}: ${(cause as Error).message}`, argv, '', { cause });
  }
}

/**
 * execa's promise-and-process for argv, for callers that need what
 * CommandRunner does not give (a handle to kill, all output, a timeout
 * that reports itself, or bytes): benchmarks and the tools.
 */
export function execProcess<O extends ExecaOptions = ExecaOptions>(argv: readonly string[], o?: O): ResultPromise<O> {
  const [file, ...args] = argv;
  if (!file) throw new HostError('ERR_BAD_NAME', 'empty command', argv);
  return execa(file, args, o ?? ({} as O)) as unknown as ResultPromise<O>;
}

const SYSTEM_DIRS = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];
const toolPaths = new Map<string, string>();
/**
 * The node's own copy of a system tool, by absolute path (bare name when not
 * found): a container's PATH puts busybox applets first, and busybox has
 * applets named nsenter and setpriv that take other options.
 */
export function toolPath(name: string): string {
  let p = toolPaths.get(name);
  if (!p) {
    p = SYSTEM_DIRS.map((d) => path.join(d, name)).find((f) => fs.existsSync(f)) ?? name;
    toolPaths.set(name, p);
  }
  return p;
}

/** argv run inside the named network namespace (`ip netns exec`: also /etc/netns/<ns>/ over /etc, and a fresh /sys). */
export function inNetns(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** argv run with only the network namespace entered (nsenter: the machine's /etc and /sys stay). */
export function withNetns(ns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv];
}

/** Signal a process group started detached (falls back to the process alone); true when it was there. */
export function signalGroup(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  }
}
