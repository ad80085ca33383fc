import type { UiSession } from '../contract.js';

/**
 * The page's seam to `podwire ui`'s server: JSON requests (every POST carries the session token
 * as `x-podwire-ui`, the server refuses it otherwise) and the one EventSource. Nothing else in the
 * page calls fetch or EventSource, so the contract's transport rules live here only.
 */

export type UiRequestErrorCode = 'ERR_UI_HTTP' | 'ERR_UI_NETWORK';

/** A request that failed: `status` is the HTTP status (0 when the server was not reached). */
export class UiRequestError extends Error {
  override readonly name = 'UiRequestError';
  constructor(
    readonly code: UiRequestErrorCode,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let token = '';

async function send<T>(url: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new UiRequestError('ERR_UI_NETWORK', 0, `${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    // the server answers { error } on a refusal (src/ui/routes.ts UiHttpError), { ok: false, message } when an action failed
    const b = (body && typeof body === 'object' ? body : {}) as { error?: unknown; message?: unknown };
    const said = b.error !== undefined ? String(b.error) : b.message !== undefined ? String(b.message) : text;
    throw new UiRequestError('ERR_UI_HTTP', res.status, `${res.status} ${said || res.statusText}`);
  }
  return body as T;
}

export function getJson<T>(url: string): Promise<T> {
  return send<T>(url, { headers: { accept: 'application/json' } });
}

export function postJson<T>(url: string, body: unknown): Promise<T> {
  return send<T>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-podwire-ui': token },
    body: JSON.stringify(body ?? {}),
  });
}

/** GET /api/session once at start: the token every POST needs afterwards. */
export async function startSession(): Promise<UiSession> {
  const session = await getJson<UiSession>('/api/session');
  token = session.token;
  return session;
}

export interface EventHandlers {
  onEvent(name: string, data: unknown): void;
  /** the stream is open (again) */
  onOpen(): void;
  /** the stream broke; EventSource retries by itself, the page only says so */
  onLost(): void;
}

/** The contract's SSE events on GET /api/events. Returns a function that closes the stream. */
export function connectEvents(names: readonly string[], h: EventHandlers): () => void {
  const es = new EventSource('/api/events');
  for (const name of names)
    es.addEventListener(name, (ev) => {
      let data: unknown;
      try {
        data = JSON.parse((ev as MessageEvent<string>).data);
      } catch {
        return; // a malformed message is skipped, the next one is whole again
      }
      h.onEvent(name, data);
    });
  es.onopen = () => h.onOpen();
  es.onerror = () => h.onLost();
  return () => es.close();
}
