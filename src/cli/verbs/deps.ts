import type { LabState } from '../../lab/index.js';
import type { ApiServerTarget } from '../../control/client/index.js';

/** ERR_USAGE: the command line asks for something wrong; ERR_NOT_FOUND: it names what is not there; ERR_AGENT: no agent could answer. */
export type CliErrorCode = 'ERR_USAGE' | 'ERR_NOT_FOUND' | 'ERR_AGENT';

/** A failure of a podwire command: `error: <message>` on stderr, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly code: CliErrorCode = 'ERR_USAGE',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where a verb writes: injected, so a test can hold what a command printed. */
export interface CliIo {
  /** to stdout (text, or the bytes of a capture) */
  out(chunk: string | Uint8Array): void;
  /** to stderr (progress, "capturing on …") */
  err(text: string): void;
  /** stdout is a terminal (progress lines redraw in place) */
  isTTY(): boolean;
  /** stdout's reader went away (EPIPE) */
  onOutError(fn: () => void): void;
}

/** What every verb gets from the program around it. */
export interface CliDeps {
  io: CliIo;
  /** one line to stdout */
  say(line: string): void;
  /** the lab's name (--lab) */
  lab(): string;
  /** the API server's address and credentials (--server, $PODWIRE_SERVER with $PODWIRE_KUBECONFIG, else the lab's socket) */
  server(): ApiServerTarget;
  /** the lab's state, or a CliError when no lab of that name is up */
  requireLab(prefix?: string): LabState;
  /** a CliError with this message */
  fail(msg: string): Error;
}

/** The process's own streams. */
export const processIo: CliIo = {
  out: (chunk) => void process.stdout.write(chunk),
  err: (text) => void process.stderr.write(text),
  isTTY: () => Boolean(process.stdout.isTTY),
  onOutError: (fn) => void process.stdout.once('error', fn),
};
