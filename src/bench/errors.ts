/** What a benchmark can fail with. `code` is stable; the message says what to look at. */
export type BenchErrorCode =
  'ERR_UNKNOWN_BENCH' | 'ERR_BAD_CONFIG' | 'ERR_SETUP' | 'ERR_TOOL_FAILED' | 'ERR_NO_ANSWER' | 'ERR_NO_RESULT';

export class BenchError extends Error {
  override readonly name = 'BenchError';
  constructor(
    readonly code: BenchErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
