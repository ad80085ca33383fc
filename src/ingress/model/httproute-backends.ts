/**
 * An HTTPRoute backendRef → BackendTarget. The spec's failure cases, each a
 * ResolvedRefs=False reason on the Route and a 500 for the share of requests
 * that backend would have had (BackendTarget.failure):
 * - a group/kind other than core Service → InvalidKind;
 * - a Service in another namespace without a ReferenceGrant there allowing
 *   HTTPRoutes of the Route's namespace → RefNotPermitted;
 * - a Service (or its port) that does not exist → BackendNotFound.
 * A Service podwire cannot proxy to (headless, ExternalName) resolves — the
 * reference is fine — but answers 503 with the reason, as for Ingress.
 */
import type { BackendTarget, Obj } from '../types.js';
import { resolveServiceBackend } from './backends.js';
import type { ObjectIndex } from './objects.js';
import { GATEWAY_GROUP, referenceAllowed } from './reference-grants.js';

export interface RefProblem {
  reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound';
  message: string;
}

export interface ResolvedRef {
  target: BackendTarget;
  problem?: RefProblem;
}

export function resolveBackendRef(
  ref: Obj,
  routeNs: string,
  index: ObjectIndex,
  grants: Obj[],
  defaultWeight = 1,
): ResolvedRef {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const ns = ref.namespace ?? routeNs;
  const name = String(ref.name ?? '');
  const weight = typeof ref.weight === 'number' ? ref.weight : defaultWeight;
  const port = typeof ref.port === 'number' ? ref.port : undefined;
  const fail = (reason: RefProblem['reason'], message: string): ResolvedRef => ({
    target: {
      service: `${ns}/${name}`,
      port: port ?? 0,
      address: '',
      weight,
      failure: { status: 500, reason: message },
    },
    problem: { reason, message },
  });
  if (group !== '' || kind !== 'Service')
    return fail('InvalidKind', `backendRef ${group || 'core'}/${kind} ${ns}/${name}: only core Services are supported`);
  if (
    !referenceAllowed(
      grants,
      { group: GATEWAY_GROUP, kind: 'HTTPRoute', namespace: routeNs },
      { group: '', kind: 'Service', namespace: ns, name },
    )
  ) {
    return fail(
      'RefNotPermitted',
      `backendRef Service ${ns}/${name} is in another namespace and no ReferenceGrant in ${ns} allows HTTPRoutes from ${routeNs}`,
    );
  }
  if (port === undefined) return fail('BackendNotFound', `backendRef Service ${ns}/${name} has no port`);
  const r = resolveServiceBackend(index, ns, name, { number: port }, weight);
  if (r.ok) return { target: r.target };
  if (r.problem === 'NoClusterIP') return { target: r.target };
  return fail('BackendNotFound', r.reason);
}
