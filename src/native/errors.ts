/** One error class for packet I/O failures, with a stable `code` (see STYLE.md). */
export type NativeErrorCode =
  'ERR_NOT_LINUX' | 'ERR_NOT_ROOT' | 'ERR_NO_SUCH_INTERFACE' | 'ERR_ADDON_MISSING' | 'ERR_SOCKET' | 'ERR_BPF';

export class NativeError extends Error {
  readonly code: NativeErrorCode;
  constructor(code: NativeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NativeError';
    this.code = code;
  }
}
