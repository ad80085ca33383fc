import { ApiClientError } from '../../control/client/index.js';

/**
 * kubectl's two kinds of failure text: `error: …` for what the client
 * decided, `Error from server (Reason): …` for a Status the server sent.
 * Either way the command exits 1.
 */
export class KubeError extends Error {
  readonly code = 'ERR_KUBECTL';
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** The line kubectl prints for this error (without the trailing newline). */
export function errorLine(err: unknown, server: string): string {
  if (err instanceof ApiClientError) {
    // the client could not connect at all: kubectl's connection message
    if (!err.body && err.status === 503 && /cannot reach the API server/.test(err.message)) {
      const where = server.startsWith('unix:') ? server : server.replace(/^https?:\/\//, '');
      return `The connection to the server ${where} was refused - did you specify the right host or port?`;
    }
    const reason = err.reason || REASONS[err.status] || 'Unknown';
    return `Error from server (${reason}): ${err.message}`;
  }
  return `error: ${(err as Error).message ?? String(err)}`;
}

export const isNotFound = (e: unknown) => e instanceof ApiClientError && e.status === 404;
