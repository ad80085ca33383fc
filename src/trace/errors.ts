/** What parsing a trace target can fail with. `code` is stable; the message says what to look at. */
export type TraceErrorCode = 'ERR_BAD_TARGET' | 'ERR_BAD_URL';

export class TraceError extends Error {
  override readonly name = 'TraceError';
  constructor(
    readonly code: TraceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
