/** What a capture's options can fail with. `code` is stable; the message says what to look at. */
export type CaptureErrorCode = 'ERR_BAD_FILTER';

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
