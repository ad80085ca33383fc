import type { ResourceType } from '../resources.js';
import { binding } from './binding.js';
import { ephemeralContainers } from './ephemeral-containers.js';
import { log } from './log.js';
import { scale } from './scale.js';
import { status } from './status.js';
import { token } from './token.js';
import type { Subresource } from './subresource.js';

export type { Subresource, SubresourceCall } from './subresource.js';

/** Every subresource the server serves, in discovery order. */
export const SUBRESOURCES: readonly Subresource[] = [status, scale, binding, log, ephemeralContainers, token];

/** The subresource `name` of `r` for `method`, if served. */
export function findSubresource(r: ResourceType, name: string, method: string): Subresource | undefined {
  return SUBRESOURCES.find((s) => s.name === name && s.serves(r, method));
}

const METHODS = ['GET', 'PUT', 'PATCH', 'POST', 'DELETE'];

/**
 * Discovery entries of `r`'s subresources (after its own entry): only of
 * those `r` has (a discovery() that ignores its resource must not list
 * pods/… under every resource).
 */
export function subresourceDiscovery(r: ResourceType): Record<string, unknown>[] {
  return SUBRESOURCES.flatMap((s): Record<string, unknown>[] => {
    if (!METHODS.some((m) => s.serves(r, m))) return [];
    const entry = s.discovery?.(r);
    return entry ? [entry] : [];
  });
}
