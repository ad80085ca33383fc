export type CloudLbErrorCode = 'ERR_BAD_POOL' | 'ERR_NOT_RUNNING';

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
