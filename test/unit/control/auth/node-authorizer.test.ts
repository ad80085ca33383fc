import { describe, it, expect } from 'vitest';
import {
  NodeGraph,
  nodeAuthorize,
  nodeIdentity,
  podReferences,
  authorize,
  RbacIndex,
  builtInClusterRoleObjects,
  builtInClusterRoleBindingObjects,
  type Attributes,
} from '../../../../src/control/auth/index.js';
import { authorizationModes } from '../../../../src/control/run-apiserver.js';

// The Node authorizer (kube's plugin/pkg/auth/authorizer/node): a node reads
// only the Secrets, ConfigMaps, PVCs and ServiceAccounts (and gets only the
// tokens) of pods bound to it; everything else is RBAC's system:node.
const node = (n: string) => ({ name: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });
const attrs = (over: Partial<Attributes>): Attributes => ({
  user: node('n1'),
  verb: 'get',
  resourceRequest: true,
  namespace: 'shop',
  apiGroup: '',
  resource: 'secrets',
  subresource: '',
  name: 'db-password',
  path: '',
  ...over,
});

const pod = (name: string, nodeName: string | undefined, spec: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'shop' },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'x' }], ...spec },
});

const web = pod('web', 'n1', {
  serviceAccountName: 'web-sa',
  imagePullSecrets: [{ name: 'registry' }],
  initContainers: [{ name: 'i', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'init-cm', key: 'a' } } }] }],
  containers: [
    {
      name: 'c',
      env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db-password', key: 'p' } } }],
      envFrom: [{ configMapRef: { name: 'settings' } }, { secretRef: { name: 'api-keys' } }],
    },
  ],
  volumes: [
    { name: 'tls', secret: { secretName: 'tls' } },
    { name: 'conf', configMap: { name: 'conf' } },
    { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'all', projected: { sources: [{ secret: { name: 'proj-s' } }, { configMap: { name: 'proj-c' } }] } },
  ],
});

describe('podReferences', () => {
  it('finds every Secret, ConfigMap, claim and the ServiceAccount a pod uses (default when unset)', () => {
    expect(podReferences(web)).toEqual({
      secrets: ['api-keys', 'db-password', 'proj-s', 'registry', 'tls'],
      configmaps: ['conf', 'init-cm', 'proj-c', 'settings'],
      persistentvolumeclaims: ['data'],
      serviceaccounts: ['web-sa'],
    });
    expect(podReferences(pod('bare', 'n1'))).toEqual({
      secrets: [],
      configmaps: [],
      persistentvolumeclaims: [],
      serviceaccounts: ['default'],
    });
    // malformed specs give nothing, never throw
    expect(podReferences({ spec: { volumes: 'x', containers: [null, { env: 3 }] } }).secrets).toEqual([]);
  });
});

describe('nodeAuthorize', () => {
  const graph = new NodeGraph();
  graph.setPod(web);
  graph.setPod(pod('elsewhere', 'n2', { volumes: [{ name: 's', secret: { secretName: 'n2-only' } }] }));
  graph.setPod(pod('pending', undefined, { volumes: [{ name: 's', secret: { secretName: 'unbound' } }] }));

  it('is silent about anyone but a node, and about kinds it does not narrow', () => {
    expect(nodeIdentity({ name: 'alice', groups: ['system:nodes'] })).toBeNull();
    expect(nodeIdentity({ name: 'system:node:n1', groups: [] })).toBeNull(); // the group is needed too
    expect(nodeAuthorize(graph, attrs({ user: { name: 'alice', groups: [] } }))).toBeNull();
    expect(nodeAuthorize(graph, attrs({ resource: 'pods', name: 'web' }))).toBeNull();
    expect(nodeAuthorize(graph, attrs({ apiGroup: 'apps', resource: 'secrets' }))).toBeNull();
    expect(nodeAuthorize(graph, attrs({ user: { name: 'system:node:', groups: ['system:nodes'] } }))).toEqual({
      allowed: false,
      reason: 'unknown node for user "system:node:"',
    });
  });

  it('a node reads what its pods use and nothing else, with upstream’s reasons', () => {
    for (const [resource, name] of [
      ['secrets', 'db-password'],
      ['secrets', 'registry'],
      ['secrets', 'proj-s'],
      ['configmaps', 'init-cm'],
      ['configmaps', 'settings'],
      ['persistentvolumeclaims', 'data'],
      ['serviceaccounts', 'web-sa'],
    ])
      expect(nodeAuthorize(graph, attrs({ resource, name })), `${resource}/${name}`).toEqual({
        allowed: true,
        reason: '',
      });
    const none = { allowed: false, reason: "no relationship found between node 'n1' and this object" };
    expect(nodeAuthorize(graph, attrs({ name: 'n2-only' }))).toEqual(none);
    expect(nodeAuthorize(graph, attrs({ name: 'unbound' }))).toEqual(none); // a pod not yet scheduled counts for no node
    expect(nodeAuthorize(graph, attrs({ namespace: 'other' }))).toEqual(none); // same name, other namespace
    expect(nodeAuthorize(graph, attrs({ user: node('n2'), name: 'n2-only' }))?.allowed).toBe(true);
    expect(nodeAuthorize(graph, attrs({ verb: 'list', name: '' }))).toEqual({
      allowed: false,
      reason: 'No Object name found',
    });
    expect(nodeAuthorize(graph, attrs({ verb: 'delete' }))?.reason).toBe('can only read resources of this type');
    expect(
      nodeAuthorize(graph, attrs({ verb: 'list', resource: 'persistentvolumeclaims', name: 'data' }))?.reason,
    ).toBe('can only get individual resources of this type');
  });

  it('tokens: only create on the token subresource of a ServiceAccount its pods run as', () => {
    const token = (over: Partial<Attributes>) =>
      nodeAuthorize(graph, attrs({ resource: 'serviceaccounts', verb: 'create', subresource: 'token', ...over }));
    expect(token({ name: 'web-sa' })).toEqual({ allowed: true, reason: '' });
    expect(token({ name: 'default' })?.reason).toBe("no relationship found between node 'n1' and this object");
    expect(token({ name: 'web-sa', subresource: '' })?.reason).toBe(
      'can only create token subresource of serviceaccount',
    );
    expect(token({ name: 'web-sa', verb: 'delete' })?.reason).toBe(
      'can only create tokens for individual service accounts',
    );
  });

  it('follows pods: rebound, changed and deleted pods take their objects with them', () => {
    const g = new NodeGraph();
    const a = pod('a', 'n1', { volumes: [{ name: 's', secret: { secretName: 's1' } }] });
    const b = pod('b', 'n1', { volumes: [{ name: 's', secret: { secretName: 's1' } }] });
    g.setPod(a);
    g.setPod(b);
    g.removePod(a);
    expect(g.related('n1', 'secrets', 'shop', 's1')).toBe(true); // b still uses it
    g.setPod({ ...b, spec: { ...b.spec, volumes: [] } });
    expect(g.related('n1', 'secrets', 'shop', 's1')).toBe(false);
    g.setPod({ ...b, spec: { ...b.spec, nodeName: 'n2' } });
    expect(g.related('n1', 'serviceaccounts', 'shop', 'default')).toBe(false);
    expect(g.related('n2', 'serviceaccounts', 'shop', 'default')).toBe(true);
    g.clear();
    expect(g.related('n2', 'serviceaccounts', 'shop', 'default')).toBe(false);
  });

  it('the built-in system:node role grants no Secret, ConfigMap or token: without the Node authorizer a node gets none', () => {
    const rbac = RbacIndex.of([...builtInClusterRoleObjects(), ...builtInClusterRoleBindingObjects()]);
    expect(authorize(rbac, attrs({})).allowed).toBe(false);
    expect(authorize(rbac, attrs({ resource: 'configmaps', name: 'settings' })).allowed).toBe(false);
    expect(
      authorize(rbac, attrs({ resource: 'serviceaccounts', verb: 'create', subresource: 'token', name: 'web-sa' }))
        .allowed,
    ).toBe(false);
    // what the agent does need stays: its pods, their status, the dataplane's watches, events
    for (const [verb, resource, subresource, apiGroup] of [
      ['watch', 'pods', '', ''],
      ['patch', 'pods', 'status', ''],
      ['patch', 'nodes', 'status', ''],
      ['watch', 'services', '', ''],
      ['watch', 'endpointslices', '', 'discovery.k8s.io'],
      ['watch', 'networkpolicies', '', 'networking.k8s.io'],
      ['watch', 'namespaces', '', ''],
      ['create', 'events', '', ''],
    ])
      expect(
        authorize(rbac, attrs({ verb, resource, subresource, apiGroup, name: '' })).allowed,
        `${verb} ${resource}`,
      ).toBe(true);
  });
});

describe('--authorization-mode', () => {
  it('Node,RBAC; RBAC; AlwaysAllow alone; anything else refused', () => {
    expect(authorizationModes('Node,RBAC')).toEqual({ mode: 'RBAC', nodeAuthorizer: true });
    expect(authorizationModes('RBAC')).toEqual({ mode: 'RBAC', nodeAuthorizer: false });
    expect(authorizationModes('AlwaysAllow')).toEqual({ mode: 'AlwaysAllow', nodeAuthorizer: false });
    expect(() => authorizationModes('Node')).toThrow(/Node needs RBAC beside it/);
    expect(() => authorizationModes('ABAC')).toThrow(/podwire knows Node,RBAC, RBAC and AlwaysAllow/);
    expect(() => authorizationModes('AlwaysAllow,RBAC')).toThrow(/AlwaysAllow allows everything alone/);
    expect(() => authorizationModes('RBAC,RBAC')).toThrow(/podwire knows/);
  });
});
