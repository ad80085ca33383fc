export type CloudLbErrorCode = 'ERR_BAD_POOL' | 'ERR_NOT_RUNNING' | 'ERR_NO_ADDRESS';

export class CloudLbError extends Error {
  constructor(
    readonly code: CloudLbErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CloudLbError';
  }
}
