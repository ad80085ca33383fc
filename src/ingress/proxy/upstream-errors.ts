/**
 * What went wrong upstream, in a few kinds with a stable name (the metric's
 * `kind` label and the X-Podwire-Reason header) and the status NGINX would
 * answer: a backend that refuses or drops the connection is a 502 Bad
 * Gateway, one that does not connect or answer in time a 504 Gateway Timeout.
 * Errors come from undici (`UND_ERR_*`, often with the system error as
 * `cause`) and from node's sockets (`E*` codes) on the WebSocket path.
 */
export type UpstreamErrorKind =
  'refused' | 'reset' | 'connect-timeout' | 'timeout' | 'unreachable' | 'protocol' | 'other';

export interface UpstreamFailure {
  kind: UpstreamErrorKind;
  status: 502 | 504;
  /** words for the body and header, naming the backend */
  reason: string;
}

/** A connect that did not complete in time (the WebSocket path raises it itself). */
export class ConnectTimeoutError extends Error {
  readonly code = 'ECONNECT_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`connect timeout after ${timeoutMs} ms`);
  }
}

/** No response headers in time. */
export class ResponseTimeoutError extends Error {
  readonly code = 'ERESPONSE_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
  }
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const c = typeof e?.code === 'string' ? e.code : '';
  // undici wraps the socket's error: prefer the system code underneath
  const inner = typeof e?.cause?.code === 'string' ? e.cause.code : '';
  return inner.startsWith('E') ? inner : c;
}

export function classifyUpstreamError(err: unknown, upstream: string): UpstreamFailure {
  const code = codeOf(err);
  switch (code) {
    case 'ECONNREFUSED':
      return { kind: 'refused', status: 502, reason: `connection refused by ${upstream}` };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'EUPSTREAM_CLOSED':
      return {
        kind: 'reset',
        status: 502,
        reason: `connection to ${upstream} reset or closed before a complete response`,
      };
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ECONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return { kind: 'connect-timeout', status: 504, reason: `timed out connecting to ${upstream}` };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ERESPONSE_TIMEOUT':
      return { kind: 'timeout', status: 504, reason: `${upstream} did not answer in time` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { kind: 'unreachable', status: 502, reason: `no route to ${upstream}` };
    case 'UND_ERR_INFO':
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
    case 'HPE_INVALID_CONSTANT':
      return { kind: 'protocol', status: 502, reason: `invalid HTTP response from ${upstream}` };
    default:
      if (code.startsWith('HPE_'))
        return { kind: 'protocol', status: 502, reason: `invalid HTTP response from ${upstream}` };
      return {
        kind: 'other',
        status: 502,
        reason: `upstream ${upstream} failed: ${(err as Error)?.message ?? String(err)}`,
      };
  }
}
