import { describe, it, expect } from 'vitest';
import {
  authorize,
  rulesFor,
  uncovered,
  forbiddenStatus,
  RbacIndex,
  builtInClusterRoleObjects,
  builtInClusterRoleBindingObjects,
  serviceAccountUser,
  ADMIN,
  ANONYMOUS_USER,
  certificateUser,
  type Attributes,
  type UserInfo,
} from '../../../../src/control/auth/index.js';

const G = 'rbac.authorization.k8s.io';
const res = (
  user: UserInfo,
  verb: string,
  resource: string,
  namespace = '',
  extra: Partial<Attributes> = {},
): Attributes => ({
  user,
  verb,
  resourceRequest: true,
  namespace,
  apiGroup: '',
  resource,
  subresource: '',
  name: '',
  path: '',
  ...extra,
});
const url = (user: UserInfo, verb: string, path: string): Attributes => ({
  user,
  verb,
  resourceRequest: false,
  namespace: '',
  apiGroup: '',
  resource: '',
  subresource: '',
  name: '',
  path,
});

const alice = certificateUser('alice', ['devs']);
const sa = serviceAccountUser('team', 'builder');
const policy = () => [...builtInClusterRoleObjects(), ...builtInClusterRoleBindingObjects()];

describe('RBAC evaluation', () => {
  it('the built-in policy: masters do anything; the authenticated discover and ask about themselves; anonymous sees health only', () => {
    const snap = RbacIndex.of(policy());
    expect(authorize(snap, res(ADMIN, 'delete', 'nodes')).allowed).toBe(true);
    expect(authorize(snap, res(ADMIN, 'delete', 'nodes')).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"',
    );
    expect(authorize(snap, url(ADMIN, 'get', '/anything/at/all')).allowed).toBe(true);
    expect(authorize(snap, url(alice, 'get', '/apis/apps/v1')).allowed).toBe(true);
    expect(authorize(snap, url(alice, 'get', '/livez')).allowed).toBe(true);
    expect(
      authorize(snap, res(alice, 'create', 'selfsubjectaccessreviews', '', { apiGroup: 'authorization.k8s.io' }))
        .allowed,
    ).toBe(true);
    expect(authorize(snap, res(alice, 'list', 'pods', 'default')).allowed).toBe(false);
    expect(authorize(snap, url(ANONYMOUS_USER, 'get', '/livez')).allowed).toBe(true);
    expect(authorize(snap, url(ANONYMOUS_USER, 'get', '/version')).allowed).toBe(true);
    expect(authorize(snap, url(ANONYMOUS_USER, 'get', '/api')).allowed).toBe(false);
    expect(authorize(snap, url(ANONYMOUS_USER, 'get', '/livez/ping')).allowed).toBe(false);
  });

  it('a RoleBinding grants in its namespace only; to a ClusterRole too; a ServiceAccount subject without namespace is the binding’s', () => {
    const objs = [
      ...policy(),
      {
        kind: 'Role',
        metadata: { name: 'pod-reader', namespace: 'team' },
        rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }],
      },
      {
        kind: 'RoleBinding',
        metadata: { name: 'b', namespace: 'team' },
        roleRef: { apiGroup: G, kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'builder' }],
      },
      {
        kind: 'RoleBinding',
        metadata: { name: 'v', namespace: 'qa' },
        roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', apiGroup: G, name: 'devs' }],
      },
    ];
    const snap = RbacIndex.of(objs);
    expect(authorize(snap, res(sa, 'list', 'pods', 'team'))).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "b/team" of Role "pod-reader" to ServiceAccount "team/builder"',
    });
    expect(authorize(snap, res(sa, 'list', 'pods', 'other')).allowed).toBe(false);
    expect(authorize(snap, res(sa, 'delete', 'pods', 'team')).allowed).toBe(false);
    expect(authorize(snap, res(sa, 'list', 'pods', '')).allowed).toBe(false); // all namespaces needs a ClusterRoleBinding
    // view, aggregated: deployments in qa, but no secrets
    expect(authorize(snap, res(alice, 'list', 'deployments', 'qa', { apiGroup: 'apps' })).allowed).toBe(true);
    expect(authorize(snap, res(alice, 'get', 'secrets', 'qa')).allowed).toBe(false);
    expect(authorize(snap, res(alice, 'get', 'pods', 'qa', { subresource: 'log', name: 'x' })).allowed).toBe(true);
  });

  it('rule matching: wildcards, */subresource, resourceNames, non-resource URL prefixes', () => {
    const snap = RbacIndex.of([
      {
        kind: 'ClusterRole',
        metadata: { name: 'r' },
        rules: [
          { verbs: ['get'], apiGroups: ['*'], resources: ['*/scale'] },
          { verbs: ['update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['one'] },
          { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] },
          { verbs: ['get'], nonResourceURLs: ['/metrics', '/logs/*'] },
        ],
      },
      {
        kind: 'ClusterRoleBinding',
        metadata: { name: 'rb' },
        roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'r' },
        subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }],
      },
    ]);
    const ok = (a: Attributes) => authorize(snap, a).allowed;
    expect(ok(res(alice, 'get', 'deployments', 'x', { apiGroup: 'apps', subresource: 'scale', name: 'w' }))).toBe(true);
    expect(ok(res(alice, 'get', 'statefulsets', 'x', { apiGroup: 'apps', subresource: 'status', name: 'w' }))).toBe(
      false,
    );
    expect(ok(res(alice, 'update', 'configmaps', 'x', { name: 'one' }))).toBe(true);
    expect(ok(res(alice, 'update', 'configmaps', 'x', { name: 'two' }))).toBe(false);
    expect(ok(res(alice, 'update', 'configmaps', 'x'))).toBe(false);
    expect(ok(res(alice, 'deletecollection', 'deployments', 'x', { apiGroup: 'apps' }))).toBe(true);
    expect(ok(res(alice, 'list', 'deployments', 'x', { apiGroup: 'extensions' }))).toBe(false);
    expect(ok(url(alice, 'get', '/metrics'))).toBe(true);
    expect(ok(url(alice, 'get', '/metrics/x'))).toBe(false);
    expect(ok(url(alice, 'get', '/logs/a/b'))).toBe(true);
    expect(ok(url(alice, 'post', '/logs/a'))).toBe(false);
  });

  it('a binding to a missing role says so in the reason', () => {
    const snap = RbacIndex.of([
      {
        kind: 'RoleBinding',
        metadata: { name: 'b', namespace: 'ns' },
        roleRef: { apiGroup: G, kind: 'Role', name: 'gone' },
        subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }],
      },
    ]);
    expect(authorize(snap, res(alice, 'get', 'pods', 'ns'))).toEqual({
      allowed: false,
      reason: 'RBAC: [role.rbac.authorization.k8s.io "gone" not found]',
    });
  });

  it('an aggregated ClusterRole counts a newly labelled role at once', () => {
    const objs = [
      ...policy(),
      {
        kind: 'ClusterRole',
        metadata: { name: 'widgets', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
        rules: [{ verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] }],
      },
      {
        kind: 'ClusterRoleBinding',
        metadata: { name: 'v' },
        roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }],
      },
    ];
    expect(authorize(RbacIndex.of(objs), res(alice, 'get', 'widgets', 'x', { apiGroup: 'example.com' })).allowed).toBe(
      true,
    );
  });

  it('rulesFor lists what applies in a namespace; uncovered finds what a user would escalate to', () => {
    const snap = RbacIndex.of([
      ...policy(),
      {
        kind: 'RoleBinding',
        metadata: { name: 'e', namespace: 'ns' },
        roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'edit' },
        subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }],
      },
    ]);
    const mine = rulesFor(snap, alice, 'ns');
    expect(uncovered(mine, [{ verbs: ['get', 'create'], apiGroups: ['apps'], resources: ['deployments'] }])).toEqual(
      [],
    );
    expect(uncovered(mine, [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }])).toEqual([
      { verbs: ['get'], apiGroups: [''], resources: ['nodes'] },
    ]);
    expect(uncovered(mine, [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }])).toHaveLength(1);
    expect(uncovered(rulesFor(snap, ADMIN, ''), [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])).toEqual([]);
  });
});

describe('forbidden messages (kube-apiserver’s words)', () => {
  it('namespaced, cluster-scoped, named, grouped, subresource and path', () => {
    const u = serviceAccountUser('default', 'default');
    expect(forbiddenStatus(res(u, 'list', 'pods', 'default')).message).toBe(
      'pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    expect(forbiddenStatus(res(alice, 'get', 'nodes', '', { name: 'n1' }))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'nodes "n1" is forbidden: User "alice" cannot get resource "nodes" in API group "" at the cluster scope',
      reason: 'Forbidden',
      details: { name: 'n1', kind: 'nodes' },
      code: 403,
    });
    expect(forbiddenStatus(res(alice, 'create', 'pods', 'x', { subresource: 'exec', name: 'p' })).message).toBe(
      'pods "p" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "x"',
    );
    expect(forbiddenStatus(res(alice, 'list', 'deployments', 'x', { apiGroup: 'apps' })).message).toBe(
      'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" in the namespace "x"',
    );
    expect(forbiddenStatus(url(ANONYMOUS_USER, 'get', '/api')).message).toBe(
      'forbidden: User "system:anonymous" cannot get path "/api"',
    );
    expect(
      forbiddenStatus(res(alice, 'get', 'pods', 'x'), 'RBAC: [role.rbac.authorization.k8s.io "r" not found]').message,
    ).toMatch(/in the namespace "x": RBAC: \[role/);
  });
});
