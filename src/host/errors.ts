export type HostErrorCode = 'ERR_COMMAND_FAILED' | 'ERR_COMMAND_MISSING' | 'ERR_BAD_NAME';

/** A command the host seam ran failed; `argv` and `stderr` say exactly which and why. */
export class HostError extends Error {
  readonly code: HostErrorCode;
  readonly argv: readonly string[];
  readonly stderr: string;
  constructor(
    code: HostErrorCode,
    message: string,
    argv: readonly string[],
    stderr = '',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HostError';
    this.code = code;
    this.argv = argv;
    this.stderr = stderr;
  }
}
