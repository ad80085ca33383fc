/**
 * GatewayClasses and Gateways of our controller, and their Listeners with
 * the conditions the spec defines:
 * - a GatewayClass is ours when spec.controllerName is (status Accepted);
 *   a Gateway is ours when its gatewayClassName names such a class;
 * - Listener protocols HTTP and HTTPS (tls.mode Terminate, the default);
 *   anything else is Accepted=False UnsupportedProtocol, HTTPS Passthrough
 *   UnsupportedValue;
 * - certificateRefs: core Secrets, in the Gateway's namespace or another one
 *   that a ReferenceGrant opens to Gateways of this namespace. Missing,
 *   malformed or of another kind: ResolvedRefs=False InvalidCertificateRef;
 *   not granted: RefNotPermitted. Without a usable certificate the listener
 *   is not Programmed and serves nothing;
 * - listeners of all our Gateways share this controller's ports, so
 *   conflicts are judged across them, oldest Gateway first: another protocol
 *   on a port (ProtocolConflict), the same hostname on a port
 *   (HostnameConflict), or the port being the Ingress port of the other
 *   protocol (PortUnavailable). The first one keeps the port.
 * spec.addresses is not read: every Gateway is served at the controller's own
 * LoadBalancer address, which the controller writes into status.addresses.
 */
import type { CompileOptions, Obj, PemPair } from '../types.js';
import { selectorRequirements, matches, type Requirement } from '../../control/index.js';
import { tlsPairFromSecret } from './certificates.js';
import { normalizeHost } from './hosts.js';
import { asArray, gatewayAgeOrder, keyOf, nsOf, type ObjectIndex } from './objects.js';
import { GATEWAY_GROUP, referenceAllowed } from './reference-grants.js';

export interface Cond {
  ok: boolean;
  reason: string;
  message: string;
}

const ok = (reason: string, message: string): Cond => ({ ok: true, reason, message });
const bad = (reason: string, message: string): Cond => ({ ok: false, reason, message });

export interface ListenerModel {
  gateway: Obj;
  gatewayKey: string;
  name: string;
  port: number;
  protocol: string;
  tls: boolean;
  hostname?: string;
  certificate?: PemPair;
  from: string;
  selector?: Requirement[];
  /** HTTPRoute may attach (allowedRoutes.kinds empty or naming it) */
  httpRoutes: boolean;
  supportedKinds: { group: string; kind: string }[];
  accepted: Cond;
  resolvedRefs: Cond;
  conflicted?: Cond;
  attachedRoutes: number;
}

export interface GatewayModel {
  gateway: Obj;
  key: string;
  listeners: ListenerModel[];
}

export const listenerProgrammed = (l: ListenerModel): boolean =>
  l.accepted.ok && !l.conflicted && (!l.tls || l.certificate !== undefined);
export const listenerText = (l: ListenerModel): string =>
  `${l.gatewayKey} listener ${l.name} (${l.protocol} :${l.port}${l.hostname ? ` ${l.hostname}` : ''})`;

/** Our GatewayClass names. */
export function ourGatewayClasses(classes: Obj[], opts: CompileOptions): Obj[] {
  return asArray(classes).filter((c) => c.spec?.controllerName === opts.gatewayController);
}

export function compileGateways(
  gateways: Obj[],
  classNames: Set<string>,
  index: ObjectIndex,
  grants: Obj[],
  opts: CompileOptions,
): GatewayModel[] {
  const ours = asArray(gateways)
    .filter((g) => classNames.has(g.spec?.gatewayClassName))
    .sort(gatewayAgeOrder);
  const models = ours.map((gateway) => ({
    gateway,
    key: keyOf(gateway),
    listeners: asArray(gateway.spec?.listeners).map((l) => listenerOf(gateway, l, index, grants)),
  }));
  judgeConflicts(
    models.flatMap((m) => m.listeners),
    opts,
  );
  return models;
}

function listenerOf(gateway: Obj, spec: Obj, index: ObjectIndex, grants: Obj[]): ListenerModel {
  const protocol = String(spec.protocol ?? '');
  const hostname = normalizeHost(spec.hostname) || undefined;
  const ns = nsOf(gateway);
  const from = String(spec.allowedRoutes?.namespaces?.from ?? 'Same');
  const l: ListenerModel = {
    gateway,
    gatewayKey: keyOf(gateway),
    name: String(spec.name ?? ''),
    port: Number(spec.port),
    protocol,
    tls: protocol === 'HTTPS',
    hostname,
    from,
    httpRoutes: false,
    supportedKinds: [],
    accepted: ok('Accepted', 'Listener is accepted'),
    resolvedRefs: ok('ResolvedRefs', 'All references are resolved'),
    attachedRoutes: 0,
  };
  if (from === 'Selector') {
    try {
      l.selector = selectorRequirements(spec.allowedRoutes?.namespaces?.selector ?? {});
    } catch (e) {
      l.selector = undefined;
      l.accepted = bad('UnsupportedValue', `allowedRoutes.namespaces.selector: ${(e as Error).message}`);
    }
  }
  if (protocol !== 'HTTP' && protocol !== 'HTTPS') {
    l.accepted = bad(
      'UnsupportedProtocol',
      `protocol ${protocol} is not supported: podwire serves HTTP and HTTPS listeners`,
    );
    return l;
  }
  // Route kinds: HTTPRoute is the one these protocols take.
  const kinds = asArray(spec.allowedRoutes?.kinds);
  const valid = kinds.filter((k) => (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === 'HTTPRoute');
  l.httpRoutes = kinds.length === 0 || valid.length > 0;
  if (l.httpRoutes) l.supportedKinds = [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }];
  if (valid.length < kinds.length) {
    const badKinds = kinds.filter((k) => !valid.includes(k)).map((k) => `${k.group ?? GATEWAY_GROUP}/${k.kind}`);
    l.resolvedRefs = bad('InvalidRouteKinds', `route kinds not supported on ${protocol}: ${badKinds.join(', ')}`);
  }
  if (l.tls) {
    const mode = spec.tls?.mode ?? 'Terminate';
    if (mode !== 'Terminate') {
      l.accepted = bad(
        'UnsupportedValue',
        `tls.mode ${mode}: an HTTPS listener terminates TLS (Passthrough is for protocol TLS)`,
      );
      return l;
    }
    const problems: Cond[] = [];
    for (const ref of asArray(spec.tls?.certificateRefs)) {
      const r = certificateRef(ref, ns, index, grants);
      if ('pair' in r) l.certificate ??= r.pair;
      else problems.push(r);
    }
    if (asArray(spec.tls?.certificateRefs).length === 0)
      problems.push(bad('InvalidCertificateRef', 'tls.certificateRefs is empty'));
    if (problems.length) {
      const first = problems.find((p) => p.reason === 'RefNotPermitted') ?? problems[0];
      if (l.resolvedRefs.ok) l.resolvedRefs = bad(first.reason, problems.map((p) => p.message).join('; '));
    }
  }
  return l;
}

function certificateRef(ref: Obj, gwNs: string, index: ObjectIndex, grants: Obj[]): { pair: PemPair } | Cond {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const ns = ref.namespace ?? gwNs;
  const name = String(ref.name ?? '');
  if (group !== '' || kind !== 'Secret')
    return bad(
      'InvalidCertificateRef',
      `certificateRef ${group || 'core'}/${kind} ${ns}/${name}: only core Secrets are supported`,
    );
  if (
    !referenceAllowed(
      grants,
      { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNs },
      { group: '', kind: 'Secret', namespace: ns, name },
    )
  ) {
    return bad(
      'RefNotPermitted',
      `Secret ${ns}/${name} is in another namespace and no ReferenceGrant in ${ns} allows Gateways from ${gwNs}`,
    );
  }
  const secret = index.secret(ns, name);
  if (!secret) return bad('InvalidCertificateRef', `Secret ${ns}/${name} not found`);
  const pair = tlsPairFromSecret(secret, `${ns}/${name}`);
  return pair.ok ? { pair: pair.pair } : bad('InvalidCertificateRef', pair.reason);
}

function judgeConflicts(listeners: ListenerModel[], opts: CompileOptions): void {
  const kept: ListenerModel[] = [];
  for (const l of listeners) {
    if (!l.accepted.ok) continue;
    if ((l.tls && l.port === opts.httpPort) || (!l.tls && l.port === opts.httpsPort)) {
      const which = l.tls ? 'plain-HTTP' : 'HTTPS';
      l.accepted = bad('PortUnavailable', `port ${l.port} is this controller's ${which} Ingress port`);
      continue;
    }
    const samePort = kept.filter((k) => k.port === l.port);
    const other = samePort.find((k) => k.protocol !== l.protocol);
    if (other) {
      l.conflicted = bad('ProtocolConflict', `port ${l.port} is ${other.protocol} on ${listenerText(other)}`);
    } else {
      const twin = samePort.find((k) => (k.hostname ?? '') === (l.hostname ?? ''));
      if (twin)
        l.conflicted = bad(
          'HostnameConflict',
          `${l.hostname ?? 'any host'} on port ${l.port} is already served by ${listenerText(twin)}`,
        );
    }
    if (l.conflicted) l.accepted = bad(l.conflicted.reason, l.conflicted.message);
    else kept.push(l);
  }
}

/** allowedRoutes.namespaces: Same (the default), All, Selector (namespace labels), None. */
export function listenerAllowsNamespace(l: ListenerModel, ns: string, index: ObjectIndex): boolean {
  switch (l.from) {
    case 'All':
      return true;
    case 'Same':
      return ns === nsOf(l.gateway);
    case 'Selector':
      return l.selector !== undefined && matches(l.selector, index.namespaceLabels(ns));
    default:
      return false;
  }
}
