/**
 * How `podwire example run` marks what it makes, so `delete` removes exactly
 * that: every object it creates carries the label podwire.dev/example (the
 * example whose run created it; also on the pod templates of its workloads,
 * so their pods carry it too) and the annotation podwire.dev/examples, the
 * examples that use it. A companion shared by several examples (production's
 * pods, used by four policy examples) stays until the last of them is
 * deleted; an object that existed before any run is never touched. Pure.
 */
export const EXAMPLE_LABEL = 'podwire.dev/example';
export const USERS_ANNOTATION = 'podwire.dev/examples';

type Obj = Record<string, any>;

export const isMarked = (o: Obj): boolean => typeof o.metadata?.labels?.[EXAMPLE_LABEL] === 'string';

export function usersOf(o: Obj): string[] {
  const v = o.metadata?.annotations?.[USERS_ANNOTATION];
  return typeof v === 'string' && v ? v.split(',').filter(Boolean) : [];
}

/** The object as run creates it: labelled (pod templates too) and annotated with its one user. */
export function marked(o: Obj, example: string): Obj {
  const out: Obj = {
    ...o,
    metadata: {
      ...o.metadata,
      labels: { ...(o.metadata?.labels ?? {}), [EXAMPLE_LABEL]: example },
      annotations: { ...(o.metadata?.annotations ?? {}), [USERS_ANNOTATION]: example },
    },
  };
  const tpl = o.spec?.template;
  if (tpl && typeof tpl === 'object' && ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(o.kind))
    out.spec = {
      ...o.spec,
      template: {
        ...tpl,
        metadata: { ...(tpl.metadata ?? {}), labels: { ...(tpl.metadata?.labels ?? {}), [EXAMPLE_LABEL]: example } },
      },
    };
  return out;
}

export type RunDecision =
  /** not there: create it, marked */
  | { action: 'create'; obj: Obj }
  /** made by an earlier run, another example's: add this one to its users */
  | { action: 'share'; users: string[] }
  /** made by an earlier run of this example */
  | { action: 'unchanged' }
  /** there before any run (the workshop's, the learner's): left as it is */
  | { action: 'foreign' };

export function decideRun(desired: Obj, existing: Obj | null, example: string): RunDecision {
  if (!existing) return { action: 'create', obj: marked(desired, example) };
  if (!isMarked(existing)) return { action: 'foreign' };
  const users = usersOf(existing);
  if (users.includes(example)) return { action: 'unchanged' };
  return { action: 'share', users: [...users, example] };
}

export type DeleteDecision =
  | { action: 'delete' }
  /** still used by other examples: only this one leaves its users */
  | { action: 'release'; users: string[] }
  /** not this example's */
  | { action: 'none' };

export function decideDelete(existing: Obj, example: string): DeleteDecision {
  if (!isMarked(existing)) return { action: 'none' };
  const users = usersOf(existing);
  if (!users.includes(example)) return { action: 'none' };
  const rest = users.filter((u) => u !== example);
  return rest.length ? { action: 'release', users: rest } : { action: 'delete' };
}

/** The merge patch that sets an object's users; with the resourceVersion read, a concurrent change is a Conflict. */
export const usersPatch = (users: string[], resourceVersion?: string): Obj => ({
  metadata: {
    annotations: { [USERS_ANNOTATION]: users.join(',') },
    ...(resourceVersion ? { resourceVersion } : {}),
  },
});

/**
 * What keeps a namespace that run created from being deleted: objects in it
 * nobody's example run made and no controller owns (pods of a Deployment, a
 * Gateway's Service and an EndpointSlice go with their owner; Terminating
 * objects are going; what every namespace has, like kube-root-ca.crt, does
 * not count). As `kind/name`.
 */
export function namespaceBlockers(objs: Obj[]): string[] {
  const out: string[] = [];
  for (const o of objs) {
    const m = o.metadata ?? {};
    if (isMarked(o) || m.deletionTimestamp || (m.ownerReferences?.length ?? 0) > 0) continue;
    if (o.kind === 'ConfigMap' && m.name === 'kube-root-ca.crt') continue;
    if (o.kind === 'ServiceAccount' && m.name === 'default') continue;
    if (o.kind === 'Secret' && o.type === 'kubernetes.io/service-account-token') continue;
    if (o.kind === 'Endpoints' || o.kind === 'EndpointSlice' || o.kind === 'Event') continue;
    out.push(`${String(o.kind).toLowerCase()}/${m.name}`);
  }
  return out.sort();
}
