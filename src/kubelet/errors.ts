/** What the kubelet's own tools can fail with. `code` is stable; the message says what to look at. */
export type KubeletErrorCode = 'ERR_WORKLOAD_MISSING' | 'ERR_BAD_FRAME' | 'ERR_SANDBOX' | 'ERR_TARGET' | 'ERR_TOKEN';

export class KubeletError extends Error {
  override readonly name = 'KubeletError';
  constructor(
    readonly code: KubeletErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
