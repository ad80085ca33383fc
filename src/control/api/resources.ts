/**
 * The resource types the API server serves, and the discovery documents
 * (/api, /apis, /api/v1, /apis/<group>/<version>) that kubectl reads to
 * learn them. Shapes follow k8s.io/apimachinery/pkg/apis/meta/v1.
 */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /** which rule object names follow: DNS-1123 label or subdomain, or (RBAC) any path segment */
  nameRule: 'label' | 'subdomain' | 'path';
  /** has a /status subresource */
  status: boolean;
  /** discovery categories: `kubectl get all` lists the kinds in "all" */
  categories?: string[];
  /** answered, never stored: only `create` (the access and identity reviews) */
  virtual?: boolean;
}

const t = (
  group: string,
  version: string,
  kind: string,
  plural: string,
  shortNames: string[],
  namespaced: boolean,
  nameRule: 'label' | 'subdomain' | 'path' = 'subdomain',
  status = false,
): ResourceType => ({
  group,
  version,
  kind,
  plural,
  singular: kind.toLowerCase(),
  shortNames,
  namespaced,
  nameRule,
  status,
});

/** kube-apiserver's "all" category, as far as podwire serves those kinds */
const ALL = (r: ResourceType): ResourceType => ({ ...r, categories: ['all'] });

const RBAC = 'rbac.authorization.k8s.io';
/** a create-only review: POSTed, answered, not stored */
const REVIEW = (group: string, kind: string, plural: string): ResourceType => ({
  ...t(group, 'v1', kind, plural, [], false),
  virtual: true,
});

export const RESOURCE_TYPES: ResourceType[] = [
  t('', 'v1', 'Namespace', 'namespaces', ['ns'], false, 'label', true),
  t('', 'v1', 'Node', 'nodes', ['no'], false, 'subdomain', true),
  ALL(t('', 'v1', 'Pod', 'pods', ['po'], true, 'subdomain', true)),
  ALL(t('', 'v1', 'Service', 'services', ['svc'], true, 'label', true)),
  t('', 'v1', 'Endpoints', 'endpoints', ['ep'], true),
  t('', 'v1', 'ConfigMap', 'configmaps', ['cm'], true),
  t('', 'v1', 'Secret', 'secrets', [], true),
  t('', 'v1', 'Event', 'events', ['ev'], true),
  t('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', [], true),
  ALL(t('apps', 'v1', 'Deployment', 'deployments', ['deploy'], true, 'subdomain', true)),
  ALL(t('apps', 'v1', 'ReplicaSet', 'replicasets', ['rs'], true, 'subdomain', true)),
  ALL(t('apps', 'v1', 'StatefulSet', 'statefulsets', ['sts'], true, 'subdomain', true)),
  t('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', ['netpol'], true),
  t('networking.k8s.io', 'v1', 'Ingress', 'ingresses', ['ing'], true, 'subdomain', true),
  t('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', [], false),
  t('gateway.networking.k8s.io', 'v1', 'Gateway', 'gateways', ['gtw'], true, 'subdomain', true),
  t('gateway.networking.k8s.io', 'v1', 'HTTPRoute', 'httproutes', [], true, 'subdomain', true),
  t('gateway.networking.k8s.io', 'v1', 'GatewayClass', 'gatewayclasses', ['gc'], false, 'subdomain', true),
  t('gateway.networking.k8s.io', 'v1beta1', 'ReferenceGrant', 'referencegrants', ['refgrant'], true),
  t('', 'v1', 'ServiceAccount', 'serviceaccounts', ['sa'], true),
  t(RBAC, 'v1', 'ClusterRole', 'clusterroles', [], false, 'path'),
  t(RBAC, 'v1', 'ClusterRoleBinding', 'clusterrolebindings', [], false, 'path'),
  t(RBAC, 'v1', 'Role', 'roles', [], true, 'path'),
  t(RBAC, 'v1', 'RoleBinding', 'rolebindings', [], true, 'path'),
  REVIEW('authentication.k8s.io', 'SelfSubjectReview', 'selfsubjectreviews'),
  REVIEW('authorization.k8s.io', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  REVIEW('authorization.k8s.io', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
];

export const groupVersion = (r: Pick<ResourceType, 'group' | 'version'>) =>
  r.group ? `${r.group}/${r.version}` : r.version;

/** As kubectl accepts them: plural, singular, short name or kind, optionally `.group`. */
export function findResource(name: string): ResourceType | undefined {
  const [head, ...rest] = name.toLowerCase().split('.');
  const group = rest.join('.');
  return RESOURCE_TYPES.find(
    (r) =>
      (!group || r.group === group) &&
      (r.plural === head || r.singular === head || r.shortNames.includes(head) || r.kind.toLowerCase() === head),
  );
}

export function resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((r) => groupVersion(r) === apiVersion && r.kind === kind);
}

/** Where an object lives in the store. */
export function storageKey(r: ResourceType, namespace: string | undefined, name: string): string {
  const g = r.group || 'core';
  return r.namespaced ? `${g}/${r.plural}/${namespace}/${name}` : `${g}/${r.plural}/${name}`;
}

export function storagePrefix(r: ResourceType, namespace?: string): string {
  const g = r.group || 'core';
  return r.namespaced && namespace ? `${g}/${r.plural}/${namespace}/` : `${g}/${r.plural}/`;
}

/** kinds with a /scale subresource (autoscaling/v1 Scale) */
export const SCALABLE = ['Deployment', 'ReplicaSet', 'StatefulSet'];

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
/** kube-apiserver serves no deletecollection for namespaces */
const verbsOf = (r: ResourceType) =>
  r.virtual ? ['create'] : r.kind === 'Namespace' ? VERBS.filter((v) => v !== 'deletecollection') : VERBS;

export function apiVersions(): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }],
  };
}

export function apiGroupList(types: ResourceType[] = RESOURCE_TYPES): Record<string, unknown> {
  const groups = [...new Set(types.filter((r) => r.group).map((r) => r.group))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((name) => {
      const versions = [...new Set(types.filter((r) => r.group === name).map((r) => r.version))].map((version) => ({
        groupVersion: `${name}/${version}`,
        version,
      }));
      return { name, versions, preferredVersion: versions[0] };
    }),
  };
}

/** `withStatus`: list /status subresources (only where the server really serves them). */
export function apiResourceList(
  gv: string,
  all: ResourceType[] = RESOURCE_TYPES,
  withStatus = true,
): Record<string, unknown> | null {
  const types = all.filter((r) => groupVersion(r) === gv);
  if (!types.length) return null;
  const resources = types.flatMap((r) => [
    {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: verbsOf(r),
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    },
    ...(r.status && withStatus
      ? [
          {
            name: `${r.plural}/status`,
            singularName: '',
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: ['get', 'patch', 'update'],
          },
        ]
      : []),
    // kubectl scale finds the scale subresource here
    ...(SCALABLE.includes(r.kind) && withStatus
      ? [
          {
            name: `${r.plural}/scale`,
            singularName: '',
            namespaced: true,
            group: 'autoscaling',
            version: 'v1',
            kind: 'Scale',
            verbs: ['get', 'patch', 'update'],
          },
        ]
      : []),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources };
}
