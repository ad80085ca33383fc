import type http from 'node:http';
import type { ResourceType } from '../resources.js';
import type { Registry } from '../registry.js';
import type { Target, WriteContext } from '../object.js';
import type { RequestAuth } from '../access.js';

/** One request to a subresource, with what answering it needs. */
export interface SubresourceCall {
  registry: Registry;
  /** the object the subresource belongs to (the URL without its last segment) */
  target: Target & { name: string };
  method: string;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  /** the request body as JSON (undefined for GET) */
  body: unknown;
  ctx: WriteContext;
  /** answer with JSON (and the Warning headers validation collected) */
  send(code: number, out: unknown): void;
  /** who sent it, and the server's access checks (TokenRequest signs with them) */
  auth: RequestAuth;
}

/**
 * A subresource: /…/{plural}/{name}/{name of the subresource}. Adding one
 * is one file exporting one of these, listed in subresources/index.ts.
 */
export interface Subresource {
  /** the last URL segment: status, scale, binding, log … */
  name: string;
  /** whether `r` has it for `method`; otherwise the request is answered 404 */
  serves(r: ResourceType, method: string): boolean;
  /** its entry in the group-version's discovery list, or null where kubectl shouldn't find it */
  discovery?(r: ResourceType): Record<string, unknown> | null;
  handle(call: SubresourceCall): Promise<void>;
}
