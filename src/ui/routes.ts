import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabState } from '../lab/index.js';

/**
 * The seam between `podwire ui`'s server (src/ui/server.ts) and the modules that add endpoints to
 * it (src/ui/instructor.ts: break/fix, trace, step, probe). A module gets a UiContext and returns
 * UiRoutes; the server checks Host, Origin and (for POST) the session token before any route runs,
 * so a handler only does its own job.
 */

/** The server's SSE event names (src/ui/contract.ts says what each carries). */
export type UiEventName = 'topology' | 'flows' | 'drop' | 'status' | (string & {});

/** What every route handler gets from the server around it. */
export interface UiContext {
  /** the netns lab this server shows */
  lab: LabState;
  /** this server start's random token: POSTs carry it as `x-podwire-ui` (checked before a route runs) */
  token: string;
  /** send an SSE event to every page connected to GET /api/events */
  broadcast(event: UiEventName, data: unknown): void;
  /** the request's JSON body (at most 1 MiB); rejects with a UiHttpError (400/413) when it is not JSON */
  readJsonBody(req: IncomingMessage): Promise<unknown>;
  /** a JSON answer with this status (200 unless told) */
  sendJson(res: ServerResponse, body: unknown, status?: number): void;
}

/** One endpoint: `path` is matched against the URL's pathname (without the query), `match` is its result. */
export interface UiRoute {
  method: string;
  path: RegExp;
  handler(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray, ctx: UiContext): Promise<void> | void;
}

export type UiHttpErrorCode = 'ERR_UI_BAD_REQUEST' | 'ERR_UI_TOO_LARGE' | 'ERR_UI_FORBIDDEN' | 'ERR_UI_NOT_FOUND';

/** A request the server refuses: a handler may throw it and the server answers `{ error }` with `status`. */
export class UiHttpError extends Error {
  override readonly name = 'UiHttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly code: UiHttpErrorCode = 'ERR_UI_BAD_REQUEST',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
