import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { consoleArgv } from './attach.js';

/**
 * A container's console, for kubectl attach and run -it: a container whose
 * spec asks for stdin or a tty runs on a terminal that Debian's dtach holds
 * (attach.ts speaks to it). Why dtach: the console must outlive the agent
 * (containers do: a restarted agent adopts them) and keep the terminal open
 * between attaches, which is exactly what a dtach master is — a small,
 * long-kept C program — where a console of the agent's own would die with
 * it. The master runs outside the sandbox, so its socket is the node's,
 * never the container's.
 *
 * The socket's path is short (a Unix socket path has 108 bytes) and found
 * from the pod's uid and the container's name alone.
 */
export const CONSOLE_DIR = '/run/podwire-consoles';

export function consoleSocket(podUid: string, container: string): string {
  const h = crypto.createHash('sha256').update(`${podUid}/${container}`).digest('hex').slice(0, 24);
  return path.join(CONSOLE_DIR, `${h}.sock`);
}

/** The runtime's hook: argv (the shim that records the exit code, and the sandbox) on a console when the spec asks for one. */
export function withConsole(
  run: { podUid: string; name: string; stdin?: boolean; tty?: boolean },
  argv: string[],
): string[] {
  if (!run.stdin && !run.tty) return argv;
  fs.mkdirSync(CONSOLE_DIR, { recursive: true, mode: 0o700 });
  const sock = consoleSocket(run.podUid, run.name);
  fs.rmSync(sock, { force: true });
  return consoleArgv(sock, argv);
}
