/** Why a credential was refused or auth could not be set up. `code` is stable; the API answers 401 whatever it is. */
export type AuthErrorCode =
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_CLAIMS'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_STALE'
  | 'ERR_AUTH_CONFIG';

export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
