/** What the control plane's configuration and controllers can fail with (the API server answers with ApiError). `code` is stable; the message says what to look at. */
export type ControlErrorCode =
  'ERR_BAD_INT_OR_STRING' | 'ERR_BAD_NODE_CIDR' | 'ERR_BAD_SERVER_URL' | 'ERR_NOT_IN_CLUSTER' | 'ERR_BAD_KUBECONFIG';

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    readonly code: ControlErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
