/**
 * The Gateway API half of compileRoutes: our GatewayClasses → our Gateways
 * and their listeners → HTTPRoutes compiled, attached to listeners, counted
 * in attachedRoutes → one GatewayRouter over the programmed listeners, the
 * listeners' certificates, the status updates and Warning events.
 */
import type { ClusterObjects, CompileOptions, Listener, StatusUpdate } from '../types.js';
import type { CertificateStore } from './certificates.js';
import {
  compileGateways,
  listenerProgrammed,
  ourGatewayClasses,
  type GatewayModel,
  type ListenerModel,
} from './gateway.js';
import { GatewayRouter, type ListenerTable, type RouteEntry } from './gateway-router.js';
import { gatewayClassStatus, gatewayStatus, httpRouteStatus } from './gateway-status.js';
import { attachRoute, type ParentResult } from './httproute-attach.js';
import { compileHTTPRoute, type CompiledRoute } from './httproute-rules.js';
import { asArray, gatewayAgeOrder, nameOf, type EventSink, type ObjectIndex } from './objects.js';

export interface AttachedRoute {
  cr: CompiledRoute;
  parents: ParentResult[];
}

export interface CompiledGatewayApi {
  router: GatewayRouter;
  gateways: GatewayModel[];
  routes: AttachedRoute[];
  tables: ListenerTable[];
  listeners: Listener[];
  statuses: StatusUpdate[];
}

export function compileGatewayApi(
  objects: ClusterObjects,
  index: ObjectIndex,
  opts: CompileOptions,
  events: EventSink,
  certs: CertificateStore,
  now: string,
): CompiledGatewayApi {
  const grants = asArray(objects.referenceGrants);
  const classes = ourGatewayClasses(objects.gatewayClasses, opts);
  const gateways = compileGateways(objects.gateways, new Set(classes.map(nameOf)), index, grants, opts);
  const byKey = new Map(gateways.map((g) => [g.key, g]));
  const tables = new Map<ListenerModel, ListenerTable>();
  for (const g of gateways) {
    for (const l of g.listeners) {
      if (listenerProgrammed(l)) tables.set(l, { listener: l, hosts: new Map() });
      for (const c of [l.accepted, l.resolvedRefs, ...(l.conflicted ? [l.conflicted] : [])]) {
        if (!c.ok) events.add('Gateway', g.gateway, 'Warning', c.reason, `listener ${l.name}: ${c.message}`);
      }
    }
  }

  const routes: AttachedRoute[] = [];
  const counted = new Map<ListenerModel, Set<string>>();
  for (const route of asArray(objects.httpRoutes).sort(gatewayAgeOrder)) {
    const cr = compileHTTPRoute(route, index, grants);
    const parents = attachRoute(cr, byKey, index);
    if (parents.length === 0) continue; // no parent of ours: not ours to report on
    routes.push({ cr, parents });
    const usable = cr.rules.length > 0 || cr.invalid.length === 0;
    for (const p of parents) {
      if (!p.accepted.ok) events.add('HTTPRoute', route, 'Warning', p.accepted.reason, p.accepted.message);
      if (!p.accepted.ok || !usable) continue;
      for (const l of p.allowed) {
        if (!counted.has(l)) counted.set(l, new Set());
        counted.get(l)!.add(cr.key);
      }
      for (const a of p.attachments) {
        const table = tables.get(a.listener);
        if (table) addEntries(table, cr, a.hostnames);
      }
    }
    for (const prob of cr.problems) events.add('HTTPRoute', route, 'Warning', prob.reason, prob.message);
    for (const inv of cr.invalid)
      events.add('HTTPRoute', route, 'Warning', inv.reason, `rules[${inv.index}] dropped: ${inv.message}`);
  }
  for (const [l, keys] of counted) l.attachedRoutes = keys.size;

  const listeners: Listener[] = [];
  for (const t of tables.values()) {
    const l = t.listener;
    if (l.tls && l.certificate) certs.addGateway(l.port, l.hostname, l.certificate);
    if (!listeners.some((x) => x.port === l.port)) listeners.push({ port: l.port, tls: l.tls });
  }

  const statuses: StatusUpdate[] = [
    ...classes.map((c) => gatewayClassStatus(c, now)),
    ...gateways.map((g) => gatewayStatus(g, now)),
    ...routes.map((r) => httpRouteStatus(r.cr, r.parents, opts.gatewayController, now)),
  ];
  return {
    router: new GatewayRouter([...tables.values()]),
    gateways,
    routes,
    tables: [...tables.values()],
    listeners,
    statuses,
  };
}

const added = new WeakMap<ListenerTable, Set<string>>();

/** A Route's entries on a listener, once per hostname even when two parentRefs select the same listener. */
function addEntries(table: ListenerTable, cr: CompiledRoute, hostnames: string[]): void {
  if (!added.has(table)) added.set(table, new Set());
  const seen = added.get(table)!;
  for (const h of hostnames) {
    if (seen.has(`${cr.key}|${h}`)) continue;
    seen.add(`${cr.key}|${h}`);
    let list = table.hosts.get(h);
    if (!list) table.hosts.set(h, (list = []));
    for (const rule of cr.rules) {
      rule.matches.forEach((match, matchIndex) => {
        const e: RouteEntry = {
          cr,
          rule,
          matchIndex,
          match,
          ref: { kind: 'HTTPRoute', name: cr.key, rule: `rules[${rule.index}].matches[${matchIndex}]` },
        };
        list!.push(e);
      });
    }
  }
}
