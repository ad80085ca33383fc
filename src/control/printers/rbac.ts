import { since } from './duration.js';
import type { Printer } from './printers.js';

/**
 * kubectl 1.30's columns for ServiceAccounts and RBAC objects
 * (printServiceAccount, printRole, printRoleBinding and the cluster
 * variants): roles show when they were created (RFC 3339), bindings their
 * role as Kind/name and, wide, who they bind (rbac.SubjectsStrings).
 */
type Obj = Record<string, any>;

const created = (o: Obj) => {
  const t = o.metadata?.creationTimestamp;
  return t ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : '<unknown>';
};

function subjectsStrings(subjects: Obj[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
    else if (s.kind === 'ServiceAccount') sas.push(s.namespace ? `${s.namespace}/${s.name}` : s.name);
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

const role: Printer = { columns: ['NAME', 'CREATED AT'], wide: [], row: (o) => [o.metadata.name, created(o)] };

const binding: Printer = {
  columns: ['NAME', 'ROLE', 'AGE'],
  wide: ['USERS', 'GROUPS', 'SERVICEACCOUNTS'],
  row: (o, now, wide) => {
    const cells = [o.metadata.name, `${o.roleRef?.kind}/${o.roleRef?.name}`, since(o.metadata?.creationTimestamp, now)];
    return wide ? [...cells, ...subjectsStrings(o.subjects)] : cells;
  },
};

export const RBAC_PRINTERS: Record<string, Printer> = {
  ServiceAccount: {
    columns: ['NAME', 'SECRETS', 'AGE'],
    wide: [],
    row: (o, now) => [o.metadata.name, String((o.secrets ?? []).length), since(o.metadata?.creationTimestamp, now)],
  },
  Role: role,
  ClusterRole: role,
  RoleBinding: binding,
  ClusterRoleBinding: binding,
};
