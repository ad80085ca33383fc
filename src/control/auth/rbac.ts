import { matches, selectorRequirements, type LabelSelector } from '../labels.js';
import type { UserInfo } from './user.js';
import { SERVICE_ACCOUNT_PREFIX } from './user.js';

/**
 * RBAC as kube-apiserver's authorizer evaluates it
 * (plugin/pkg/auth/authorizer/rbac and pkg/apis/rbac/v1/evaluation_helpers.go):
 * a request is allowed when some ClusterRoleBinding, or some RoleBinding in
 * the request's namespace, names the user (User), one of its groups (Group)
 * or its ServiceAccount, and the role it refers to has a rule covering the
 * verb, API group, resource (`resource/subresource`; `*`; a `*` before a subresource's name)
 * and name — or, for a path outside the API, the verb and the URL (a
 * trailing `*` a prefix). Nothing denies: no rule, no access. Pure: the
 * objects come from a snapshot (rbac-cache.ts keeps one current).
 */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface Role {
  metadata: Meta;
  rules?: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] | null } | null;
}

export interface RoleBinding {
  metadata: Meta;
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

/** What the authorizer reads: every Role, ClusterRole and binding (RbacCache keeps it current). */
export interface RbacSnapshot {
  clusterRoles: ReadonlyMap<string, Role>;
  clusterRoleBindings: Iterable<RoleBinding>;
  /** namespace → name → Role */
  roles(namespace: string): ReadonlyMap<string, Role> | undefined;
  roleBindings(namespace: string): Iterable<RoleBinding>;
  /** aggregated ClusterRoles' gathered rules, kept until any ClusterRole changes (an optional memo) */
  aggregated?: Map<Role, PolicyRule[]>;
}

/** authorizer.Attributes: who asks to do what. */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  namespace: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  /** for a non-resource request */
  path: string;
}

export interface Decision {
  allowed: boolean;
  /** allowed: which binding allowed it; denied: RBAC's errors (a binding to a role that does not exist) or "" */
  reason: string;
}

const has = (list: readonly string[] | null | undefined, v: string) => !!list && list.includes(v);

export const verbMatches = (r: PolicyRule, verb: string) => has(r.verbs, '*') || has(r.verbs, verb);
export const apiGroupMatches = (r: PolicyRule, group: string) => has(r.apiGroups, '*') || has(r.apiGroups, group);

export function resourceMatches(r: PolicyRule, combined: string, subresource: string): boolean {
  for (const res of r.resources ?? []) {
    if (res === '*' || res === combined) return true;
    // `*/scale` covers every resource's scale subresource
    if (subresource && res === `*/${subresource}`) return true;
  }
  return false;
}

export const resourceNameMatches = (r: PolicyRule, name: string) =>
  !r.resourceNames?.length || r.resourceNames.includes(name);

export function nonResourceURLMatches(r: PolicyRule, path: string): boolean {
  for (const u of r.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export function ruleAllows(a: Omit<Attributes, 'user'>, r: PolicyRule): boolean {
  if (a.resourceRequest) {
    const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return (
      verbMatches(r, a.verb) &&
      apiGroupMatches(r, a.apiGroup) &&
      resourceMatches(r, combined, a.subresource) &&
      resourceNameMatches(r, a.name)
    );
  }
  return verbMatches(r, a.verb) && nonResourceURLMatches(r, a.path);
}

/** Does `subject` (of a binding in `namespace`, '' for a ClusterRoleBinding) name this user? */
export function appliesTo(user: UserInfo, s: Subject, namespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.name === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      // a RoleBinding's ServiceAccount subject without a namespace is one of its own namespace
      const ns = s.namespace || namespace;
      return !!ns && user.name === `${SERVICE_ACCOUNT_PREFIX}${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

/**
 * A role's rules; a ClusterRole with an aggregationRule also has the rules of
 * every ClusterRole its selectors match, as they are stored (what upstream's
 * aggregation controller copies into it; computed here when asked, so a
 * ClusterRole labelled to aggregate counts at once).
 */
export function clusterRoleRules(snap: RbacSnapshot, role: Role): PolicyRule[] {
  const own = role.rules ?? [];
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  if (!selectors.length) return own;
  const memo = snap.aggregated?.get(role);
  if (memo) return memo;
  const reqs = selectors.flatMap((s) => {
    try {
      return [selectorRequirements(s)];
    } catch {
      return []; // a selector that does not parse selects nothing
    }
  });
  const more: PolicyRule[] = [];
  for (const other of snap.clusterRoles.values()) {
    if (other === role) continue;
    if (reqs.some((r) => matches(r, other.metadata.labels))) more.push(...(other.rules ?? []));
  }
  const out = [...own, ...more];
  snap.aggregated?.set(role, out);
  return out;
}

interface Visit {
  binding: RoleBinding;
  /** the binding's namespace ('' for a ClusterRoleBinding) */
  namespace: string;
  subject: Subject;
  rules: PolicyRule[];
}

/**
 * Every (binding, subject, rules) that applies to `user` for `namespace`
 * (ClusterRoleBindings first, then the namespace's RoleBindings), as the
 * authorizer's VisitRulesFor; a binding to a missing role is an error.
 */
export function* visitRules(
  snap: RbacSnapshot,
  user: UserInfo,
  namespace: string,
  errors: string[] = [],
): Generator<Visit> {
  for (const b of snap.clusterRoleBindings) {
    const subject = (b.subjects ?? []).find((s) => appliesTo(user, s, ''));
    if (!subject) continue;
    const role = b.roleRef.kind === 'ClusterRole' ? snap.clusterRoles.get(b.roleRef.name) : undefined;
    if (!role) {
      errors.push(`clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
      continue;
    }
    yield { binding: b, namespace: '', subject, rules: clusterRoleRules(snap, role) };
  }
  if (!namespace) return;
  for (const b of snap.roleBindings(namespace)) {
    const subject = (b.subjects ?? []).find((s) => appliesTo(user, s, namespace));
    if (!subject) continue;
    const role =
      b.roleRef.kind === 'ClusterRole'
        ? snap.clusterRoles.get(b.roleRef.name)
        : b.roleRef.kind === 'Role'
          ? snap.roles(namespace)?.get(b.roleRef.name)
          : undefined;
    if (!role) {
      errors.push(`${b.roleRef.kind.toLowerCase()}.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
      continue;
    }
    yield {
      binding: b,
      namespace,
      subject,
      rules: b.roleRef.kind === 'ClusterRole' ? clusterRoleRules(snap, role) : (role.rules ?? []),
    };
  }
}

/** rbac's describe of what allowed a request, as SubjectAccessReview's reason shows it. */
function describeAllow(v: Visit): string {
  const s = v.subject;
  const who =
    s.kind === 'ServiceAccount' ? `${s.kind} "${s.namespace || v.namespace}/${s.name}"` : `${s.kind} "${s.name}"`;
  const binding = v.namespace
    ? `RoleBinding "${v.binding.metadata.name}/${v.namespace}"`
    : `ClusterRoleBinding "${v.binding.metadata.name}"`;
  const role = `${v.binding.roleRef.kind} "${v.binding.roleRef.name}"`;
  return `RBAC: allowed by ${binding} of ${role} to ${who}`;
}

export function authorize(snap: RbacSnapshot, a: Attributes): Decision {
  const errors: string[] = [];
  for (const v of visitRules(snap, a.user, a.resourceRequest ? a.namespace : '', errors)) {
    if (v.rules.some((r) => ruleAllows(a, r))) return { allowed: true, reason: describeAllow(v) };
  }
  return { allowed: false, reason: errors.length ? `RBAC: ${errors.map((e) => `[${e}]`).join(', ')}` : '' };
}

/** Every rule that applies to `user` in `namespace` (SelfSubjectRulesReview; escalation checks). */
export function rulesFor(snap: RbacSnapshot, user: UserInfo, namespace: string): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const v of visitRules(snap, user, namespace)) out.push(...v.rules);
  return out;
}

/**
 * Do `owner`'s rules cover every one of `wanted` (rbac's validation.Covers)?
 * Each wanted rule is broken into single verb × group × resource × name
 * atoms, each of which some owner rule must allow as it is written (a
 * wanted `*` is covered only by a `*`). Answers the rules not covered.
 */
export function uncovered(owner: PolicyRule[], wanted: PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const w of wanted) {
    for (const verb of w.verbs) {
      if (w.nonResourceURLs?.length) {
        for (const url of w.nonResourceURLs) {
          const ok = owner.some(
            (o) => verbMatches(o, verb) && (has(o.nonResourceURLs, '*') || nonResourceURLMatches(o, url)),
          );
          if (!ok) missing.push({ verbs: [verb], nonResourceURLs: [url] });
        }
        continue;
      }
      for (const group of w.apiGroups ?? []) {
        for (const res of w.resources ?? []) {
          const [resource, sub = ''] = res.split(/\/(.*)/s);
          for (const name of w.resourceNames?.length ? w.resourceNames : ['']) {
            const ok = owner.some(
              (o) =>
                verbMatches(o, verb) &&
                apiGroupMatches(o, group) &&
                resourceMatches(o, res, sub) &&
                (!o.resourceNames?.length || (name !== '' && o.resourceNames.includes(name))) &&
                (resource !== '*' || has(o.resources, '*')),
            );
            if (!ok)
              missing.push({
                verbs: [verb],
                apiGroups: [group],
                resources: [res],
                ...(name ? { resourceNames: [name] } : {}),
              });
          }
        }
      }
    }
  }
  return missing;
}
