import { canonicalJson } from '../../control/index.js';
import type { KubeObject } from '../../control/client/index.js';
import type { StatusUpdate } from '../types.js';
import type { ControllerArgs } from './args.js';

/**
 * Which statuses to write, and what: pure decisions from the compiler's
 * statuses, the addresses the controller is reachable at and the objects
 * as stored. A status is written only when it differs from the stored
 * one; a condition whose status did not change keeps its
 * lastTransitionTime (meta.SetStatusCondition's rule), and every
 * condition carries the generation it was computed from.
 *
 *   Ingress  status.loadBalancer.ingress = the publish Service's EXTERNAL-IPs
 *            (ingress-nginx --publish-service), for the Ingresses this
 *            controller serves;
 *   Gateway  the compiler's conditions and listeners + status.addresses from
 *            its LoadBalancer Service cilium-gateway-<name>; Programmed is
 *            False (AddressNotAssigned) until that Service has an address;
 *   HTTPRoute status.parents: this controller's entries from the compiler,
 *            other controllers' entries kept;
 *   GatewayClass conditions from the compiler.
 */
type Obj = Record<string, any>;

export interface Address {
  ip?: string;
  hostname?: string;
}

export interface StatusInputs {
  args: Pick<ControllerArgs, 'gatewayController'>;
  /** the Ingresses this controller serves (the compiler's ourIngresses) */
  ingresses: KubeObject[];
  gateways: KubeObject[];
  httpRoutes: KubeObject[];
  gatewayClasses: KubeObject[];
  /** what the compiler computed */
  compiled: StatusUpdate[];
  /** where Ingresses are reachable (empty: leave Ingress status alone) */
  ingressAddresses: Address[];
  /** "ns/name" of a Gateway → the EXTERNAL-IPs of its Service */
  gatewayAddresses: Map<string, string[]>;
  nowIso: string;
}

/** The addresses of a LoadBalancer Service's status (ingress-nginx writes {ip} / {hostname}). */
export function serviceAddresses(svc: KubeObject | undefined): Address[] {
  const out: Address[] = [];
  for (const i of svc?.status?.loadBalancer?.ingress ?? []) {
    if (i.ip) out.push({ ip: i.ip });
    else if (i.hostname) out.push({ hostname: i.hostname });
  }
  return out;
}

const nsKey = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const updKey = (u: { namespace?: string; name: string }) => `${u.namespace ?? ''}/${u.name}`;

/** Conditions with kept transition times and the object's generation. */
export function settleConditions(
  next: Obj[] | undefined,
  prev: Obj[] | undefined,
  generation: number | undefined,
  nowIso: string,
): Obj[] | undefined {
  if (!Array.isArray(next)) return next;
  return next.map((c) => {
    const old = (prev ?? []).find((p) => p.type === c.type);
    const out: Obj = { ...c };
    if (generation !== undefined && out.observedGeneration === undefined) out.observedGeneration = generation;
    out.lastTransitionTime =
      old && old.status === c.status && old.lastTransitionTime
        ? old.lastTransitionTime
        : (c.lastTransitionTime ?? nowIso);
    return out;
  });
}

const sameParent = (a: Obj, b: Obj) =>
  canonicalJson(a.parentRef) === canonicalJson(b.parentRef) && a.controllerName === b.controllerName;

function gatewayStatus(gw: KubeObject, compiled: Obj, ips: string[], nowIso: string): Obj {
  const prev = gw.status ?? {};
  const gen = gw.metadata.generation;
  let conditions: Obj[] = compiled.conditions ?? [];
  if (!ips.length) {
    conditions = conditions.map((c) =>
      c.type === 'Programmed' && c.status === 'True'
        ? {
            ...c,
            status: 'False',
            reason: 'AddressNotAssigned',
            message: `Waiting for the LoadBalancer Service cilium-gateway-${gw.metadata.name} to get an address`,
          }
        : c,
    );
  }
  const listeners = (compiled.listeners ?? []).map((l: Obj) => ({
    ...l,
    conditions: settleConditions(
      l.conditions,
      (prev.listeners ?? []).find((p: Obj) => p.name === l.name)?.conditions,
      gen,
      nowIso,
    ),
  }));
  const out: Obj = { ...compiled, conditions: settleConditions(conditions, prev.conditions, gen, nowIso) };
  if (compiled.listeners) out.listeners = listeners;
  if (ips.length) out.addresses = ips.map((value) => ({ type: 'IPAddress', value }));
  else delete out.addresses;
  return out;
}

function routeStatus(route: KubeObject, compiled: Obj, controller: string, nowIso: string): Obj {
  const prev: Obj[] = route.status?.parents ?? [];
  const gen = route.metadata.generation;
  const ours = (compiled.parents ?? []).map((p: Obj) => ({
    ...p,
    conditions: settleConditions(p.conditions, prev.find((q) => sameParent(q, p))?.conditions, gen, nowIso),
  }));
  const others = prev.filter((p) => p.controllerName !== controller);
  return { ...compiled, parents: [...others, ...ours] };
}

/** The status writes to make now: only where the desired status differs from the stored one. */
export function planStatusWrites(i: StatusInputs): StatusUpdate[] {
  const compiled = new Map(i.compiled.map((u) => [`${u.resource}:${updKey(u)}`, u.status]));
  const out: StatusUpdate[] = [];
  const emit = (resource: string, o: KubeObject, status: Obj) => {
    if (canonicalJson(status) === canonicalJson(o.status ?? {})) return;
    out.push({
      resource,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      name: o.metadata.name,
      status,
    });
  };
  if (i.ingressAddresses.length) {
    for (const ing of i.ingresses) {
      const c = compiled.get(`ingresses:${nsKey(ing)}`) ?? ing.status ?? {};
      emit('ingresses', ing, { ...c, loadBalancer: { ingress: i.ingressAddresses } });
    }
  }
  for (const gw of i.gateways) {
    const c = compiled.get(`gateways:${nsKey(gw)}`);
    if (c) emit('gateways', gw, gatewayStatus(gw, c, i.gatewayAddresses.get(nsKey(gw)) ?? [], i.nowIso));
  }
  for (const r of i.httpRoutes) {
    const c = compiled.get(`httproutes:${nsKey(r)}`);
    if (c) emit('httproutes', r, routeStatus(r, c, i.args.gatewayController, i.nowIso));
  }
  for (const gc of i.gatewayClasses) {
    const c = compiled.get(`gatewayclasses:${nsKey(gc)}`);
    if (c)
      emit('gatewayclasses', gc, {
        ...c,
        conditions: settleConditions(c.conditions, gc.status?.conditions, gc.metadata.generation, i.nowIso),
      });
  }
  return out;
}
