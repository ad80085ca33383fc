import type { PolicyRule, Subject } from './rbac.js';
import { AUTHENTICATED, MASTERS, NODES, UNAUTHENTICATED } from './user.js';

/**
 * The bootstrap policy kube-apiserver creates at start
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), trimmed to the kinds
 * podwire serves: cluster-admin; the user-facing admin, edit and view,
 * aggregated as upstream from system:aggregate-to-{admin,edit,view} (a
 * ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"`
 * adds its rules to view, and so on); discovery, basic-user and
 * public-info-viewer; and system:node, what a node's agent needs. Every
 * object carries `rbac.authorization.kubernetes.io/autoupdate: "true"`:
 * the bootstrap puts its rules back at each start unless that is set to
 * "false", as upstream's reconciliation does.
 */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';
const AGGREGATE_TO = (role: string) => `rbac.authorization.k8s.io/aggregate-to-${role}`;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL_VERBS = [...WRITE, ...READ].sort();

const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
});
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

export interface BuiltInClusterRole {
  name: string;
  labels?: Record<string, string>;
  rules: PolicyRule[];
  aggregateFrom?: string;
}

const VIEW: PolicyRule[] = [
  rule(
    READ,
    [''],
    ['configmaps', 'endpoints', 'pods', 'pods/log', 'pods/status', 'serviceaccounts', 'services', 'services/status'],
  ),
  rule(READ, [''], ['events', 'namespaces', 'namespaces/status']),
  rule(
    READ,
    ['apps'],
    [
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
  ),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  // not in upstream's defaults (Gateway API is a CRD there); the lab serves it built in
  rule(
    READ,
    ['gateway.networking.k8s.io'],
    ['gateways', 'gateways/status', 'httproutes', 'httproutes/status', 'referencegrants'],
  ),
  rule(READ, ['metrics.k8s.io'], ['pods', 'nodes']),
];

const EDIT: PolicyRule[] = [
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/ephemeralcontainers']),
  rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward']),
  rule(WRITE, [''], ['configmaps', 'endpoints', 'secrets', 'serviceaccounts', 'services']),
  rule(READ, [''], ['secrets']),
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(
    WRITE,
    ['apps'],
    ['deployments', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
  ),
  rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  rule(WRITE, ['gateway.networking.k8s.io'], ['gateways', 'httproutes', 'referencegrants']),
];

const ADMIN: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(ALL_VERBS, [RBAC_GROUP], ['rolebindings', 'roles']),
];

export const BUILT_IN_CLUSTER_ROLES: BuiltInClusterRole[] = [
  {
    name: 'cluster-admin',
    rules: [
      { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
      { verbs: ['*'], nonResourceURLs: ['*'] },
    ],
  },
  { name: 'admin', rules: [], aggregateFrom: 'admin' },
  // view's rules go into edit, edit's into admin, as upstream labels them
  { name: 'edit', labels: { [AGGREGATE_TO('admin')]: 'true' }, rules: [], aggregateFrom: 'edit' },
  { name: 'view', labels: { [AGGREGATE_TO('edit')]: 'true' }, rules: [], aggregateFrom: 'view' },
  { name: 'system:aggregate-to-admin', labels: { [AGGREGATE_TO('admin')]: 'true' }, rules: ADMIN },
  { name: 'system:aggregate-to-edit', labels: { [AGGREGATE_TO('edit')]: 'true' }, rules: EDIT },
  { name: 'system:aggregate-to-view', labels: { [AGGREGATE_TO('view')]: 'true' }, rules: VIEW },
  {
    name: 'system:discovery',
    rules: [
      urls(
        ['get'],
        [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
      ),
    ],
  },
  {
    name: 'system:basic-user',
    rules: [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  {
    name: 'system:public-info-viewer',
    rules: [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])],
  },
  {
    // what a node's agent reads and writes: its Node and heartbeats, the pods bound to it and their
    // status, what the dataplane follows (Services, EndpointSlices, NetworkPolicies, Namespaces),
    // Events. Secrets, ConfigMaps, ServiceAccounts and their tokens are not here: the Node
    // authorizer (node-authorizer.ts) grants a node those its own pods use, and no others
    name: 'system:node',
    rules: [
      rule([...READ, 'create', 'delete', 'patch', 'update'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule([...READ, 'create', 'delete'], [''], ['pods']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(READ, [''], ['endpoints', 'namespaces', 'services']),
      rule(['create', 'patch', 'update'], [''], ['events']),
      rule(READ, ['discovery.k8s.io'], ['endpointslices']),
      rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingressclasses']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ],
  },
];

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });

export const BUILT_IN_CLUSTER_ROLE_BINDINGS: { name: string; role: string; subjects: Subject[] }[] = [
  { name: 'cluster-admin', role: 'cluster-admin', subjects: [group(MASTERS)] },
  { name: 'system:discovery', role: 'system:discovery', subjects: [group(AUTHENTICATED)] },
  { name: 'system:basic-user', role: 'system:basic-user', subjects: [group(AUTHENTICATED)] },
  {
    name: 'system:public-info-viewer',
    role: 'system:public-info-viewer',
    subjects: [group(AUTHENTICATED), group(UNAUTHENTICATED)],
  },
  { name: 'system:node', role: 'system:node', subjects: [group(NODES)] },
];

const bootstrapLabels = (extra?: Record<string, string>) => ({
  'kubernetes.io/bootstrapping': 'rbac-defaults',
  ...(extra ?? {}),
});

/** The ClusterRole objects (without uid and timestamps) the bootstrap writes. */
export function builtInClusterRoleObjects(): Record<string, any>[] {
  // what upstream's aggregation controller writes into admin, edit and view
  const rulesOf = (r: BuiltInClusterRole): PolicyRule[] =>
    r.aggregateFrom
      ? BUILT_IN_CLUSTER_ROLES.filter((o) => o.labels?.[AGGREGATE_TO(r.aggregateFrom!)] === 'true').flatMap(rulesOf)
      : r.rules;
  return BUILT_IN_CLUSTER_ROLES.map((r) => {
    const aggregated = rulesOf(r);
    return {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRole',
      metadata: {
        name: r.name,
        labels: bootstrapLabels(r.labels),
        annotations: { [AUTOUPDATE]: 'true' },
      },
      ...(r.aggregateFrom
        ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO(r.aggregateFrom)]: 'true' } }] } }
        : {}),
      rules: aggregated,
    };
  });
}

export function builtInClusterRoleBindingObjects(): Record<string, any>[] {
  return BUILT_IN_CLUSTER_ROLE_BINDINGS.map((b) => ({
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name: b.name, labels: bootstrapLabels(), annotations: { [AUTOUPDATE]: 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: b.role },
    subjects: b.subjects,
  }));
}
