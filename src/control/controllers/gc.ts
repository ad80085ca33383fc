import type { KubeObject, OwnerReference } from './objects.js';

/**
 * Garbage collection (Kubernetes' background cascading deletion), pure: an
 * object whose owners are all gone is deleted. "Gone" means no object of
 * that kind, namespace and name with that uid — a Deployment deleted and
 * created again under the same name is a different owner. Owners of a kind
 * the collector does not know keep their dependents (it cannot tell).
 */
export const OWNER_KINDS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'Service', 'Endpoints'];

export type OwnerLookup = (kind: string, namespace: string | undefined, name: string) => KubeObject | undefined;

export function ownerExists(ref: OwnerReference, namespace: string | undefined, lookup: OwnerLookup): boolean {
  const o = lookup(ref.kind, namespace, ref.name);
  return !!o && o.metadata.uid === ref.uid;
}

/** The dependents whose every owner reference points at a known kind and a missing object. */
export function orphans(dependents: KubeObject[], lookup: OwnerLookup): KubeObject[] {
  return dependents.filter((d) => {
    const refs: OwnerReference[] = Array.isArray(d.metadata.ownerReferences) ? d.metadata.ownerReferences : [];
    if (!refs.length) return false;
    return refs.every((r) => r && OWNER_KINDS.includes(r.kind) && !ownerExists(r, d.metadata.namespace, lookup));
  });
}
