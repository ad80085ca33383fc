/** What the ingress controller's own pieces can fail with. `code` is stable; the message says what to look at. */
export type IngressErrorCode = 'ERR_BAD_LABELS';

export class IngressError extends Error {
  override readonly name = 'IngressError';
  constructor(
    readonly code: IngressErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
