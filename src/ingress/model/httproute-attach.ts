/**
 * Attaching an HTTPRoute to its parents. For each parentRef naming one of
 * our Gateways (group gateway.networking.k8s.io and kind Gateway are the
 * defaults; namespace the Route's), the listeners it selects (sectionName =
 * listener name, port = listener port, both when both given), then in the
 * spec's order the reason it is not Accepted:
 *   NoMatchingParent            no listener has that sectionName/port
 *   NotAllowedByListeners       none allows HTTPRoutes from the Route's namespace
 *   NoMatchingListenerHostname  none has a hostname intersecting the Route's
 * parentRefs naming something that is not ours get no status entry (the spec:
 * status only for parents the controller is responsible for).
 */
import type { Obj } from '../types.js';
import { listenerAllowsNamespace, type Cond, type GatewayModel, type ListenerModel } from './gateway.js';
import { effectiveHostnames } from './hosts.js';
import type { CompiledRoute } from './httproute-rules.js';
import { asArray, nsOf, type ObjectIndex } from './objects.js';
import { GATEWAY_GROUP } from './reference-grants.js';

export interface ListenerAttachment {
  listener: ListenerModel;
  /** the hostnames requests must match on this listener ('' = any) */
  hostnames: string[];
}

export interface ParentResult {
  /** the parentRef as written in the spec (status echoes it) */
  parentRef: Obj;
  gateway: GatewayModel;
  accepted: Cond;
  /** listeners selected and allowing the route (these count it in attachedRoutes when Accepted) */
  allowed: ListenerModel[];
  /** listeners it serves on: allowed, with intersecting hostnames */
  attachments: ListenerAttachment[];
}

export function attachRoute(
  cr: CompiledRoute,
  gateways: Map<string, GatewayModel>,
  index: ObjectIndex,
): ParentResult[] {
  const routeNs = nsOf(cr.route);
  const out: ParentResult[] = [];
  for (const ref of asArray(cr.route.spec?.parentRefs)) {
    if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
    const gateway = gateways.get(`${ref.namespace ?? routeNs}/${ref.name}`);
    if (!gateway) continue;
    const where = `Gateway ${gateway.key}`;
    const selected = gateway.listeners.filter(
      (l) =>
        (ref.sectionName === undefined || l.name === ref.sectionName) &&
        (ref.port === undefined || l.port === ref.port),
    );
    const result: ParentResult = {
      parentRef: ref,
      gateway,
      accepted: { ok: true, reason: 'Accepted', message: 'Route is accepted' },
      allowed: [],
      attachments: [],
    };
    out.push(result);
    if (selected.length === 0) {
      const which = [
        ref.sectionName !== undefined ? `named ${ref.sectionName}` : '',
        ref.port !== undefined ? `on port ${ref.port}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      result.accepted = {
        ok: false,
        reason: 'NoMatchingParent',
        message: `${where} has no listener ${which || '(it has none)'}`,
      };
      continue;
    }
    result.allowed = selected.filter((l) => l.httpRoutes && listenerAllowsNamespace(l, routeNs, index));
    if (result.allowed.length === 0) {
      result.accepted = {
        ok: false,
        reason: 'NotAllowedByListeners',
        message: `no listener of ${where} allows HTTPRoutes from namespace ${routeNs}`,
      };
      continue;
    }
    for (const listener of result.allowed) {
      const hostnames = effectiveHostnames(listener.hostname, cr.hostnames);
      if (hostnames.length) result.attachments.push({ listener, hostnames });
    }
    if (result.attachments.length === 0) {
      const listenerHosts = result.allowed.map((l) => l.hostname ?? '*').join(', ');
      result.accepted = {
        ok: false,
        reason: 'NoMatchingListenerHostname',
        message: `no listener of ${where} has a hostname matching ${cr.hostnames.join(', ')} (listeners: ${listenerHosts})`,
      };
    }
  }
  return out;
}
