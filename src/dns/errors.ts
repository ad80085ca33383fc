/** What configuring the cluster DNS server can fail with. `code` is stable; the message says what to look at. */
export type DnsConfigErrorCode = 'ERR_NO_COREFILE' | 'ERR_UNKNOWN_PLUGIN' | 'ERR_BAD_ADDRESS';

export class DnsConfigError extends Error {
  override readonly name = 'DnsConfigError';
  constructor(
    readonly code: DnsConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
