/**
 * ReferenceGrant (gateway.networking.k8s.io, v1beta1 and v1): a namespace's
 * owner allows references into it. A grant lives in the *target* namespace;
 * it allows a reference when one of its `from` entries names the referrer's
 * group, kind and namespace, and one of its `to` entries names the target's
 * group and kind (and name, when the entry gives one).
 */
import type { Obj } from '../types.js';
import { asArray, nsOf } from './objects.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface RefFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface RefTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export function referenceAllowed(grants: Obj[], from: RefFrom, to: RefTo): boolean {
  if (from.namespace === to.namespace) return true;
  return asArray(grants).some(
    (g) =>
      nsOf(g) === to.namespace &&
      asArray(g.spec?.from).some(
        (f) => (f.group ?? '') === from.group && f.kind === from.kind && f.namespace === from.namespace,
      ) &&
      asArray(g.spec?.to).some(
        (t) => (t.group ?? '') === to.group && t.kind === to.kind && (!t.name || t.name === to.name),
      ),
  );
}
