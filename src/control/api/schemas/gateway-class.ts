import { z } from 'zod';
import { typeMeta } from './meta.js';
import { opt, loose, group, kind, objectName, namespace } from './gateway.js';

/**
 * The two Gateway API kinds around Gateway and HTTPRoute, as in
 * kubernetes-sigs/gateway-api: GatewayClass (apis/v1/gatewayclass_types.go,
 * cluster-scoped: which controller implements Gateways of this class) and
 * ReferenceGrant (apis/v1beta1/referencegrant_types.go: a namespace's
 * consent to be referred to from another — an HTTPRoute's backendRef to a
 * Service here, a Gateway's certificateRef to a Secret here).
 *
 * As for the other Gateway kinds, the CRD's OpenAPI schema is the
 * validation. spec.controllerName's immutability (the CRD's CEL rule
 * `self == oldSelf`) needs the stored object: transitionCauses checks it
 * on update. Not done: the CRD's status default (Accepted Unknown,
 * "Waiting for controller") — the controller writes status soon enough.
 */

const SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';

/** GatewayController: a domain-prefixed path, e.g. "io.cilium/gateway-controller". */
const gatewayController = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(`^${SUBDOMAIN}\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$`));

/** ParametersReference: implementation-specific configuration, maybe namespaced. */
const parametersReference = z.strictObject({
  group,
  kind,
  name: z.string().min(1).max(253),
  namespace: opt(namespace),
});

const gatewayClassSpec = z.strictObject({
  controllerName: gatewayController,
  parametersRef: opt(parametersReference),
  description: opt(z.string().max(64)),
});

export const gatewayClass = z.strictObject({
  ...typeMeta,
  spec: gatewayClassSpec,
  status: opt(loose),
});

/** ReferenceGrantFrom: every field required (group "" is core). */
const referenceGrantFrom = z.strictObject({
  group,
  kind,
  namespace,
});

/** ReferenceGrantTo: name optional (absent: every object of the kind). */
const referenceGrantTo = z.strictObject({
  group,
  kind,
  name: opt(objectName),
});

export const referenceGrant = z.strictObject({
  ...typeMeta,
  spec: z.strictObject({
    from: z.array(referenceGrantFrom).min(1).max(16),
    to: z.array(referenceGrantTo).min(1).max(16),
  }),
});

/** A change an update may not make, with the CRD's CEL message. */
export interface TransitionCause {
  field: string;
  message: string;
}

/** GatewayClass spec.controllerName is immutable ("Value is immutable"). */
export function gatewayTransitionCauses(
  kind: string,
  cur: Record<string, any>,
  next: Record<string, any>,
): TransitionCause[] {
  if (kind !== 'GatewayClass') return [];
  const before = cur.spec?.controllerName;
  const after = next.spec?.controllerName;
  if (before === undefined || before === after) return [];
  return [{ field: 'spec.controllerName', message: 'Invalid value: "string": Value is immutable' }];
}
