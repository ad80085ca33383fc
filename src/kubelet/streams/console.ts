import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { holderArgs } from './console-holder.js';
import { packagePath } from '../../host/index.js';

/**
 * A container's console, for kubectl attach and run -i/-it: a container
 * whose spec asks for stdin or a tty runs under a console holder
 * (console-holder.ts) — a pseudo-terminal for tty, pipes for stdin alone —
 * which writes its output to the container's log as any container's, keeps
 * its stdin until the first attach ends it (stdinOnce), and serves attaches
 * on a Unix socket (attach.ts speaks to it). The holder outlives the agent
 * (containers do: a restarted agent adopts them) and runs outside the
 * sandbox, so its socket is the node's, never the container's.
 *
 * Why not Debian's dtach (podwire's first console): it holds a terminal
 * only — no pipes, so no end of file for `kubectl run -i` fed by a pipe, and
 * stderr merged — keeps no log (kubectl logs of a console container was
 * empty, and kubectl run -i --rm of a short command showed nothing), and
 * drops what the container prints before an attach. util-linux script logs
 * but writes its own header and footer into the log.
 *
 * The socket's path is short (a Unix socket path has 108 bytes) and found
 * from the pod's uid and the container's name alone.
 */
export const CONSOLE_DIR = '/run/podwire-consoles';

export function consoleSocket(podUid: string, container: string): string {
  const h = crypto.createHash('sha256').update(`${podUid}/${container}`).digest('hex').slice(0, 24);
  return path.join(CONSOLE_DIR, `${h}.sock`);
}

/** The holder's compiled entry: beside this file in dist/, or dist/'s when this runs from src/ (tests). */
export function holderEntry(): string {
  return packagePath('dist', 'kubelet', 'streams', 'console-holder-main.js');
}

/**
 * The argv that runs a container's command under its console holder. The
 * holder runs with the container's environment (the runtime's); a
 * NODE_OPTIONS there is the container's business, not the holder's: it is
 * taken out of the holder's start and given back to the command.
 */
export function consoleArgv(
  run: { stdin?: boolean; tty?: boolean; stdinOnce?: boolean; env?: Record<string, string> },
  sock: string,
  argv: string[],
  entry = holderEntry(),
): string[] {
  const nodeOptions = run.env?.NODE_OPTIONS;
  return [
    ...(nodeOptions !== undefined ? ['/usr/bin/env', '-u', 'NODE_OPTIONS'] : []),
    process.execPath,
    entry,
    ...holderArgs({
      socket: sock,
      tty: run.tty === true,
      stdin: run.stdin === true,
      stdinOnce: run.stdin === true && run.stdinOnce === true,
      ...(nodeOptions !== undefined ? { nodeOptions } : {}),
      argv,
    }),
  ];
}

/** The runtime's hook: argv (the shim that records the exit code, and the sandbox) under a console when the spec asks for one. */
export function withConsole(
  run: {
    podUid: string;
    name: string;
    stdin?: boolean;
    tty?: boolean;
    stdinOnce?: boolean;
    env?: Record<string, string>;
  },
  argv: string[],
): string[] {
  if (!run.stdin && !run.tty) return argv;
  fs.mkdirSync(CONSOLE_DIR, { recursive: true, mode: 0o700 });
  const sock = consoleSocket(run.podUid, run.name);
  fs.rmSync(sock, { force: true });
  return consoleArgv(run, sock, argv);
}
