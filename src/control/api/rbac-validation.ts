import type { Cause } from './status.js';
import type { KubeObject } from './object.js';
import { dns1123SubdomainErrors, pathSegmentNameErrors } from './names.js';

/**
 * What upstream's RBAC validation (pkg/apis/rbac/validation) checks beyond
 * the fields' shapes, with its messages: every rule has verbs; a rule is
 * about resources (apiGroups and resources given) or about non-resource
 * URLs (only in a ClusterRole), never both; a binding refers to a Role
 * (RoleBinding only) or ClusterRole of rbac.authorization.k8s.io, and its
 * subjects are Users, Groups (that API group) or ServiceAccounts (the core
 * group; in a ClusterRoleBinding with their namespace). And the defaults
 * applied before that: roleRef's and User/Group subjects' apiGroup.
 */
const RBAC_GROUP = 'rbac.authorization.k8s.io';

type Obj = Record<string, any>;

export function rbacDefaults(kind: string, o: Obj): void {
  if (kind !== 'RoleBinding' && kind !== 'ClusterRoleBinding') return;
  const ref = o.roleRef as Obj | undefined;
  if (ref && !ref.apiGroup) ref.apiGroup = RBAC_GROUP;
  for (const s of (o.subjects ?? []) as Obj[]) {
    // a ServiceAccount's is the core group, "": not written, as Go's omitempty leaves it out
    if (s.kind === 'ServiceAccount') {
      if (s.apiGroup === '') delete s.apiGroup;
    } else if (s.apiGroup === undefined || s.apiGroup === '') s.apiGroup = RBAC_GROUP;
  }
}

function ruleCauses(rules: Obj[] | null | undefined, namespaced: boolean): Cause[] {
  const out: Cause[] = [];
  (rules ?? []).forEach((r, i) => {
    const at = `rules[${i}]`;
    if (!r.verbs?.length)
      out.push({
        field: `${at}.verbs`,
        message: 'Required value: verbs must contain at least one value',
        reason: 'FieldValueRequired',
      });
    const urls: string[] = r.nonResourceURLs ?? [];
    if (urls.length) {
      const shown = `[]string{${urls.map((u) => JSON.stringify(u)).join(', ')}}`;
      if (namespaced)
        out.push({
          field: `${at}.nonResourceURLs`,
          message: `Invalid value: ${shown}: namespaced rules cannot apply to non-resource URLs`,
          reason: 'FieldValueInvalid',
        });
      if (r.apiGroups?.length || r.resources?.length || r.resourceNames?.length)
        out.push({
          field: `${at}.nonResourceURLs`,
          message: `Invalid value: ${shown}: rules cannot apply to both regular resources and non-resource URLs`,
          reason: 'FieldValueInvalid',
        });
      return;
    }
    if (!r.apiGroups?.length)
      out.push({
        field: `${at}.apiGroups`,
        message: 'Required value: resource rules must supply at least one api group',
        reason: 'FieldValueRequired',
      });
    if (!r.resources?.length)
      out.push({
        field: `${at}.resources`,
        message: 'Required value: resource rules must supply at least one resource',
        reason: 'FieldValueRequired',
      });
  });
  return out;
}

function bindingCauses(o: Obj, cluster: boolean): Cause[] {
  const out: Cause[] = [];
  const ref = o.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP)
    out.push({
      field: 'roleRef.apiGroup',
      message: `Unsupported value: ${JSON.stringify(ref.apiGroup ?? '')}: supported values: "${RBAC_GROUP}"`,
      reason: 'FieldValueNotSupported',
    });
  const kinds = cluster ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(ref.kind))
    out.push({
      field: 'roleRef.kind',
      message: `Unsupported value: ${JSON.stringify(ref.kind ?? '')}: supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`,
      reason: 'FieldValueNotSupported',
    });
  if (!ref.name) out.push({ field: 'roleRef.name', message: 'Required value', reason: 'FieldValueRequired' });
  else
    for (const e of pathSegmentNameErrors(ref.name))
      out.push({
        field: 'roleRef.name',
        message: `Invalid value: ${JSON.stringify(ref.name)}: ${e}`,
        reason: 'FieldValueInvalid',
      });
  ((o.subjects ?? []) as Obj[]).forEach((s, i) => {
    const at = `subjects[${i}]`;
    if (!s.name) out.push({ field: `${at}.name`, message: 'Required value', reason: 'FieldValueRequired' });
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.name)
          for (const e of dns1123SubdomainErrors(s.name))
            out.push({
              field: `${at}.name`,
              message: `Invalid value: ${JSON.stringify(s.name)}: ${e}`,
              reason: 'FieldValueInvalid',
            });
        if (s.apiGroup)
          out.push({
            field: `${at}.apiGroup`,
            message: `Unsupported value: ${JSON.stringify(s.apiGroup)}: supported values: ""`,
            reason: 'FieldValueNotSupported',
          });
        if (cluster && !s.namespace)
          out.push({ field: `${at}.namespace`, message: 'Required value', reason: 'FieldValueRequired' });
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP)
          out.push({
            field: `${at}.apiGroup`,
            message: `Unsupported value: ${JSON.stringify(s.apiGroup ?? '')}: supported values: "${RBAC_GROUP}"`,
            reason: 'FieldValueNotSupported',
          });
        break;
      default:
        out.push({
          field: `${at}.kind`,
          message: `Unsupported value: ${JSON.stringify(s.kind ?? '')}: supported values: "ServiceAccount", "User", "Group"`,
          reason: 'FieldValueNotSupported',
        });
    }
  });
  return out;
}

export function rbacCauses(kind: string, o: Obj): Cause[] {
  switch (kind) {
    case 'Role':
      return ruleCauses(o.rules, true);
    case 'ClusterRole':
      return ruleCauses(o.rules, false);
    case 'RoleBinding':
      return bindingCauses(o, false);
    case 'ClusterRoleBinding':
      return bindingCauses(o, true);
    default:
      return [];
  }
}

/** A binding's roleRef cannot change (delete and recreate the binding), as upstream's ValidateRoleBindingUpdate. */
export function roleRefUpdateCauses(cur: KubeObject, next: KubeObject): Omit<Cause, 'reason'>[] {
  const a = (cur.roleRef ?? {}) as Obj;
  const b = (next.roleRef ?? {}) as Obj;
  if (a.apiGroup === b.apiGroup && a.kind === b.kind && a.name === b.name) return [];
  const shown = `rbac.RoleRef{APIGroup:${JSON.stringify(b.apiGroup ?? '')}, Kind:${JSON.stringify(b.kind ?? '')}, Name:${JSON.stringify(b.name ?? '')}}`;
  return [{ field: 'roleRef', message: `Invalid value: ${shown}: cannot change roleRef` }];
}
