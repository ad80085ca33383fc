/**
 * Gateway API status, with the condition types and reasons the spec
 * defines: GatewayClass Accepted; Gateway Accepted and Programmed, and per
 * listener Accepted, Programmed, ResolvedRefs, Conflicted, supportedKinds and
 * attachedRoutes; HTTPRoute parents[] with Accepted and ResolvedRefs (and
 * PartiallyInvalid when rules were dropped). The controller writes these with
 * PUT …/status; Route parents[] here are only ours (controllerName) — the
 * controller keeps other controllers' entries when it writes.
 */
import type { Obj, StatusUpdate } from '../types.js';
import { listenerProgrammed, type Cond, type GatewayModel } from './gateway.js';
import type { ParentResult } from './httproute-attach.js';
import type { CompiledRoute } from './httproute-rules.js';
import { nameOf, nsOf } from './objects.js';
import { GATEWAY_GROUP } from './reference-grants.js';

export interface ConditionOut {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export function condition(
  obj: Obj,
  type: string,
  status: boolean,
  reason: string,
  message: string,
  now: string,
): ConditionOut {
  const gen = obj.metadata?.generation;
  return {
    type,
    status: status ? 'True' : 'False',
    reason,
    message,
    ...(typeof gen === 'number' ? { observedGeneration: gen } : {}),
    lastTransitionTime: now,
  };
}

const fromCond = (obj: Obj, type: string, c: Cond, now: string) => condition(obj, type, c.ok, c.reason, c.message, now);

export function gatewayClassStatus(cls: Obj, now: string): StatusUpdate {
  return {
    resource: 'gatewayclasses',
    name: nameOf(cls),
    status: { conditions: [condition(cls, 'Accepted', true, 'Accepted', 'GatewayClass is accepted by podwire', now)] },
  };
}

export function gatewayStatus(m: GatewayModel, now: string): StatusUpdate {
  const g = m.gateway;
  const invalid = m.listeners.filter((l) => !l.accepted.ok);
  const accepted = invalid.length < m.listeners.length;
  const why = invalid.map((l) => `listener ${l.name}: ${l.accepted.message}`).join('; ');
  const acceptedCond =
    invalid.length === 0
      ? condition(g, 'Accepted', true, 'Accepted', 'Gateway is accepted', now)
      : condition(g, 'Accepted', accepted, 'ListenersNotValid', why, now);
  const programmed = accepted && m.listeners.some(listenerProgrammed);
  const listeners = m.listeners.map((l) => {
    const prog = listenerProgrammed(l);
    const progWhy = l.conflicted ?? (!l.accepted.ok ? l.accepted : l.resolvedRefs);
    return {
      name: l.name,
      supportedKinds: l.supportedKinds,
      attachedRoutes: l.attachedRoutes,
      conditions: [
        fromCond(g, 'Accepted', l.accepted, now),
        prog
          ? condition(g, 'Programmed', true, 'Programmed', 'Listener is programmed', now)
          : condition(g, 'Programmed', false, l.conflicted ? l.conflicted.reason : 'Invalid', progWhy.message, now),
        fromCond(g, 'ResolvedRefs', l.resolvedRefs, now),
        l.conflicted
          ? condition(g, 'Conflicted', true, l.conflicted.reason, l.conflicted.message, now)
          : condition(g, 'Conflicted', false, 'NoConflicts', 'No conflicts', now),
      ],
    };
  });
  return {
    resource: 'gateways',
    namespace: nsOf(g),
    name: nameOf(g),
    status: {
      conditions: [
        acceptedCond,
        programmed
          ? condition(g, 'Programmed', true, 'Programmed', 'Gateway is programmed', now)
          : condition(g, 'Programmed', false, 'Invalid', notProgrammed(m), now),
      ],
      listeners,
    },
  };
}

function notProgrammed(m: GatewayModel): string {
  const why = m.listeners
    .filter((l) => !listenerProgrammed(l))
    .map((l) => {
      const c = l.conflicted ?? (!l.accepted.ok ? l.accepted : l.resolvedRefs);
      return `listener ${l.name}: ${c.message}`;
    });
  return why.length ? `no listener is programmed: ${why.join('; ')}` : 'the Gateway has no listeners';
}

/** The parentRef as the status echoes it: defaults filled in. */
export function parentRefOut(ref: Obj, routeNs: string): Obj {
  return {
    group: ref.group ?? GATEWAY_GROUP,
    kind: ref.kind ?? 'Gateway',
    namespace: ref.namespace ?? routeNs,
    name: ref.name,
    ...(ref.sectionName !== undefined ? { sectionName: ref.sectionName } : {}),
    ...(ref.port !== undefined ? { port: ref.port } : {}),
  };
}

export function httpRouteStatus(
  cr: CompiledRoute,
  parents: ParentResult[],
  controllerName: string,
  now: string,
): StatusUpdate {
  const r = cr.route;
  const allInvalid = cr.rules.length === 0 && cr.invalid.length > 0;
  const resolved =
    cr.problems.length === 0
      ? condition(r, 'ResolvedRefs', true, 'ResolvedRefs', 'All references are resolved', now)
      : condition(r, 'ResolvedRefs', false, cr.problems[0].reason, cr.problems.map((p) => p.message).join('; '), now);
  const dropped = cr.invalid.map((i) => `rules[${i.index}]: ${i.message}`).join('; ');
  return {
    resource: 'httproutes',
    namespace: nsOf(r),
    name: nameOf(r),
    status: {
      parents: parents.map((p) => {
        const conditions: ConditionOut[] = [
          allInvalid
            ? condition(r, 'Accepted', false, cr.invalid[0].reason, `every rule is invalid: ${dropped}`, now)
            : fromCond(r, 'Accepted', p.accepted, now),
          resolved,
        ];
        if (!allInvalid && cr.invalid.length > 0 && p.accepted.ok) {
          conditions.push(
            condition(r, 'PartiallyInvalid', true, 'UnsupportedValue', `Dropped Rule(s): ${dropped}`, now),
          );
        }
        return { parentRef: parentRefOut(p.parentRef, nsOf(r)), controllerName, conditions };
      }),
    },
  };
}

/** Gateway status.addresses: the controller knows its LoadBalancer address and adds it to each Gateway's status. */
export function withGatewayAddresses(
  statuses: StatusUpdate[],
  addresses: { type?: string; value: string }[],
): StatusUpdate[] {
  return statuses.map((s) =>
    s.resource === 'gateways'
      ? {
          ...s,
          status: { ...s.status, addresses: addresses.map((a) => ({ type: a.type ?? 'IPAddress', value: a.value })) },
        }
      : s,
  );
}
