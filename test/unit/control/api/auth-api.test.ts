import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../../../src/control/store/index.js';
import { ApiServer } from '../../../../src/control/api/index.js';
import { namespacesMissingDefault } from '../../../../src/control/controllers/serviceaccounts.js';
import { DEFAULT_ISSUER } from '../../../../src/control/auth/index.js';

// The API server's RBAC kinds, reviews, TokenRequest, escalation and ServiceAccount
// admission over a real file store, spoken to over HTTP on loopback (system:admin)
// and, for other users, with Impersonate-User as kubectl --as sends it.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwauth-'));
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
let store: FileStore;
let api: ApiServer;
let url = '';
const G = 'rbac.authorization.k8s.io';

beforeAll(async () => {
  store = FileStore.open(path.join(dir, 'store'));
  api = new ApiServer(store, {
    auth: {
      authorization: 'RBAC',
      nodeAuthorizer: true,
      serviceAccounts: {
        publicKeys: [publicKey],
        signingKey: privateKey,
        issuer: DEFAULT_ISSUER,
        audiences: [DEFAULT_ISSUER],
      },
    },
    serviceAccountAdmission: true,
  });
  await api.bootstrap();
  url = (await api.listen(0)).url;
});
afterAll(async () => {
  await api.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(`${url}${p}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as any };
};
const as = (user: string, groups: string[] = []) => ({
  'impersonate-user': user,
  ...(groups.length ? { 'impersonate-group': groups.join(',') } : {}),
});
const ns = (name: string) =>
  call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const sa = (namespace: string, name: string) =>
  call('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name },
  });

describe('RBAC kinds and the built-in policy', () => {
  it('bootstraps the built-in ClusterRoles and bindings once (a second bootstrap changes nothing)', async () => {
    const crs = (await call('GET', `/apis/${G}/v1/clusterroles`)).body.items.map((o: any) => o.metadata.name);
    expect(crs).toEqual(
      expect.arrayContaining([
        'cluster-admin',
        'admin',
        'edit',
        'view',
        'system:discovery',
        'system:basic-user',
        'system:public-info-viewer',
        'system:node',
      ]),
    );
    const view = (await call('GET', `/apis/${G}/v1/clusterroles/view`)).body;
    expect(view.rules.length).toBeGreaterThan(3);
    const rv = view.metadata.resourceVersion;
    await api.bootstrap();
    expect((await call('GET', `/apis/${G}/v1/clusterroles/view`)).body.metadata.resourceVersion).toBe(rv);
    const crb = (await call('GET', `/apis/${G}/v1/clusterrolebindings/cluster-admin`)).body;
    expect(crb.subjects).toEqual([{ kind: 'Group', apiGroup: G, name: 'system:masters' }]);
  });

  it('validates roles and bindings with upstream’s messages; roleRef is immutable', async () => {
    const bad = await call('POST', `/apis/${G}/v1/namespaces/default/roles`, {
      apiVersion: `${G}/v1`,
      kind: 'Role',
      metadata: { name: 'r' },
      rules: [
        { verbs: [], apiGroups: [''], resources: ['pods'] },
        { verbs: ['get'], nonResourceURLs: ['/x'] },
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe(
      'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].verbs: Required value: verbs must contain at least one value, rules[1].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs',
    );
    const b = {
      apiVersion: `${G}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'rb' },
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'alice' }],
    };
    const made = await call('POST', `/apis/${G}/v1/namespaces/default/rolebindings`, b);
    expect(made.status).toBe(201);
    expect(made.body.roleRef.apiGroup).toBe(G); // defaulted, as upstream
    expect(made.body.subjects[0].apiGroup).toBe(G);
    const moved = await call('PUT', `/apis/${G}/v1/namespaces/default/rolebindings/rb`, {
      ...made.body,
      roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'edit' },
    });
    expect(moved.status).toBe(422);
    expect(moved.body.message).toContain(
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
    );
    const crbBad = await call('POST', `/apis/${G}/v1/clusterrolebindings`, {
      ...b,
      kind: 'ClusterRoleBinding',
      roleRef: { kind: 'Role', name: 'x' },
      subjects: [{ kind: 'ServiceAccount', name: 'default' }],
    });
    expect(crbBad.body.message).toContain('roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"');
    expect(crbBad.body.message).toContain('subjects[0].namespace: Required value');
  });
});

describe('authorization through the server', () => {
  it('a RoleBinding grants list pods in its namespace; the 403 is kube’s', async () => {
    await ns('team');
    const u = as('bob');
    const denied = await call('GET', '/api/v1/namespaces/team/pods', undefined, u);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      reason: 'Forbidden',
      message: 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "team"',
      code: 403,
    });
    await call('POST', `/apis/${G}/v1/namespaces/team/rolebindings`, {
      apiVersion: `${G}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'bob-view' },
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'bob' }],
    });
    expect((await call('GET', '/api/v1/namespaces/team/pods', undefined, u)).status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/pods', undefined, u)).status).toBe(403);
    expect((await call('GET', '/api/v1/namespaces/team/secrets', undefined, u)).status).toBe(403);
    // discovery and the reviews are for everyone authenticated
    expect((await call('GET', '/apis', undefined, u)).status).toBe(200);
  });

  it('SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview answer for the sender', async () => {
    const ssar = (verb: string, resource: string, namespace: string) => ({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { namespace, verb, resource } },
    });
    const yes = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      ssar('list', 'pods', 'team'),
      as('bob'),
    );
    expect(yes.status).toBe(201);
    expect(yes.body.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "bob-view/team" of ClusterRole "view" to User "bob"',
    });
    const no = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      ssar('delete', 'pods', 'team'),
      as('bob'),
    );
    expect(no.body.status).toEqual({ allowed: false });
    const rules = await call(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'team' } },
      as('bob'),
    );
    expect(rules.body.status.resourceRules).toContainEqual(
      expect.objectContaining({ resources: expect.arrayContaining(['pods']) }),
    );
    expect(rules.body.status.nonResourceRules.length).toBeGreaterThan(0);
    const who = await call(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      as('bob', ['devs']),
    );
    expect(who.body.status.userInfo).toEqual({ username: 'bob', groups: ['devs', 'system:authenticated'] });
    expect((await call('GET', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')).status).toBe(405);
  });

  it('escalation: a user may not write a Role granting what it does not hold, nor bind a role beyond its own', async () => {
    // carol may create ClusterRoles (nothing else)
    await call('POST', `/apis/${G}/v1/clusterroles`, {
      apiVersion: `${G}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'role-maker' },
      rules: [{ verbs: ['create'], apiGroups: [G], resources: ['clusterroles'] }],
    });
    await call('POST', `/apis/${G}/v1/clusterrolebindings`, {
      apiVersion: `${G}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'role-makers' },
      roleRef: { kind: 'ClusterRole', name: 'role-maker' },
      subjects: [{ kind: 'Group', name: 'role-makers' }],
    });
    // bob may manage roles in team (but holds only view; `*` would include escalate and bind)
    await call('POST', `/apis/${G}/v1/namespaces/team/roles`, {
      apiVersion: `${G}/v1`,
      kind: 'Role',
      metadata: { name: 'rbac-manager' },
      rules: [
        { verbs: ['create', 'get', 'list', 'update', 'delete'], apiGroups: [G], resources: ['roles', 'rolebindings'] },
      ],
    });
    await call('POST', `/apis/${G}/v1/namespaces/team/rolebindings`, {
      apiVersion: `${G}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'bob-rbac' },
      roleRef: { kind: 'Role', name: 'rbac-manager' },
      subjects: [{ kind: 'User', name: 'bob' }],
    });
    const role = (verbs: string[]) => ({
      apiVersion: `${G}/v1`,
      kind: 'Role',
      metadata: { name: `r-${verbs.join('-')}` },
      rules: [{ verbs, apiGroups: [''], resources: ['pods'] }],
    });
    expect((await call('POST', `/apis/${G}/v1/namespaces/team/roles`, role(['get']), as('bob'))).status).toBe(201);
    const esc = await call('POST', `/apis/${G}/v1/namespaces/team/roles`, role(['delete']), as('bob'));
    expect(esc.status).toBe(403);
    expect(esc.body.message).toBe(
      'roles.rbac.authorization.k8s.io "r-delete" is forbidden: user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
    );
    const bindAdmin = await call(
      'POST',
      `/apis/${G}/v1/namespaces/team/rolebindings`,
      {
        apiVersion: `${G}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'bob-admin' },
        roleRef: { kind: 'ClusterRole', name: 'admin' },
        subjects: [{ kind: 'User', name: 'bob' }],
      },
      as('bob'),
    );
    expect(bindAdmin.status).toBe(403);
    // an aggregationRule could gather cluster-admin's rules: it takes full authority
    const gather = await call(
      'POST',
      `/apis/${G}/v1/clusterroles`,
      {
        apiVersion: `${G}/v1`,
        kind: 'ClusterRole',
        metadata: { name: 'gather-all' },
        aggregationRule: {
          clusterRoleSelectors: [{ matchLabels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }],
        },
      },
      as('carol', ['role-makers']),
    );
    expect(gather.status).toBe(403);
    expect(gather.body.message).toContain('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
  });
});

describe('ServiceAccounts', () => {
  it('admission: a pod runs as default, and one naming a missing ServiceAccount is refused', async () => {
    await ns('sa-adm');
    const pod = (name: string, spec: Record<string, unknown> = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
    });
    // no ServiceAccount controller here: the admission waits for `default`, then refuses
    const refused = await call('POST', '/api/v1/namespaces/sa-adm/pods', pod('a'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe(
      'pods "a" is forbidden: error looking up service account sa-adm/default: serviceaccount "default" not found',
    );
    await sa('sa-adm', 'default');
    const ok = await call('POST', '/api/v1/namespaces/sa-adm/pods', pod('a'));
    expect(ok.status).toBe(201);
    expect(ok.body.spec).toMatchObject({ serviceAccountName: 'default', serviceAccount: 'default' });
    const other = await call('POST', '/api/v1/namespaces/sa-adm/pods', pod('b', { serviceAccountName: 'builder' }));
    expect(other.body.message).toContain('serviceaccount "builder" not found');
  });

  it('TokenRequest: a token for the ServiceAccount, bound to a pod on request', async () => {
    const made = await call('POST', '/api/v1/namespaces/sa-adm/serviceaccounts/default/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {},
    });
    expect(made.status).toBe(201);
    const claims = JSON.parse(Buffer.from(made.body.status.token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ iss: DEFAULT_ISSUER, sub: 'system:serviceaccount:sa-adm:default' });
    expect(claims.exp - claims.iat).toBe(3600);
    const pod = (await call('GET', '/api/v1/namespaces/sa-adm/pods/a')).body;
    const bound = await call('POST', '/api/v1/namespaces/sa-adm/serviceaccounts/default/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        expirationSeconds: 3607,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'a', uid: pod.metadata.uid },
      },
    });
    expect(bound.status).toBe(201);
    const bc = JSON.parse(Buffer.from(bound.body.status.token.split('.')[1], 'base64url').toString());
    expect(bc['kubernetes.io'].pod).toEqual({ name: 'a', uid: pod.metadata.uid });
    const short = await call('POST', '/api/v1/namespaces/sa-adm/serviceaccounts/default/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 60 },
    });
    expect(short.status).toBe(422);
    expect(
      (
        await call('POST', '/api/v1/namespaces/sa-adm/serviceaccounts/nobody/token', {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {},
        })
      ).status,
    ).toBe(404);
  });

  it('the ServiceAccount controller’s decision: namespaces without `default`, terminating ones aside', () => {
    const n = (name: string, phase = 'Active') => ({ metadata: { name }, status: { phase } });
    const s = (namespace: string, name: string) => ({ metadata: { name, namespace } });
    expect(
      namespacesMissingDefault([n('a'), n('b'), n('c', 'Terminating')], [s('a', 'default'), s('b', 'other')]),
    ).toEqual(['b']);
  });
});

describe('without auth options (the in-process server tests use)', () => {
  it('everything is allowed as system:admin, and no policy is bootstrapped', async () => {
    const s2 = FileStore.open(path.join(dir, 'open'));
    const open = new ApiServer(s2);
    await open.bootstrap();
    const u = (await open.listen(0)).url;
    const who = await fetch(`${u}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
    });
    expect(((await who.json()) as any).status.userInfo.username).toBe('system:admin');
    const crs = (await (await fetch(`${u}/apis/${G}/v1/clusterroles`)).json()) as any;
    expect(crs.items).toEqual([]);
    await open.close();
    await s2.close();
  });
});

// (token authentication over TLS, anonymous 401 and the real kubectl: test/integration/apiserver-auth.test.ts)
export type { http };

describe('protobuf bodies (kubectl create rolebinding --user=… sends one)', () => {
  // protobuf by hand: tag = field << 3 | 2 (length-delimited)
  const msg = (...parts: [number, Buffer | string][]) =>
    Buffer.concat(
      parts.map(([no, v]) => {
        const b = Buffer.isBuffer(v) ? v : Buffer.from(v);
        const len: number[] = [];
        for (let n = b.length; ; n >>= 7) {
          if (n < 0x80) {
            len.push(n);
            break;
          }
          len.push((n & 0x7f) | 0x80);
        }
        return Buffer.concat([Buffer.from([(no << 3) | 2, ...len]), b]);
      }),
    );
  it('a RoleBinding is read as the JSON it stands for; other kinds are 415', async () => {
    const { decodeKubeProtobuf } = await import('../../../../src/control/api/protobuf.js');
    const rb = msg(
      [1, msg([1, 'jane-view'], [3, 'team'])],
      [2, msg([1, 'User'], [2, G], [3, 'jane'])],
      [2, msg([1, 'ServiceAccount'], [2, ''], [3, 'builder'], [4, 'team'])],
      [3, msg([1, G], [2, 'ClusterRole'], [3, 'view'])],
    );
    const body = Buffer.concat([
      Buffer.from('k8s\0', 'latin1'),
      msg([1, msg([1, `${G}/v1`], [2, 'RoleBinding'])], [2, rb]),
    ]);
    expect(decodeKubeProtobuf(body)).toEqual({
      apiVersion: `${G}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'jane-view', namespace: 'team' },
      subjects: [
        { kind: 'User', apiGroup: G, name: 'jane' },
        { kind: 'ServiceAccount', apiGroup: '', name: 'builder', namespace: 'team' },
      ],
      roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' },
    });
    const pod = Buffer.concat([
      Buffer.from('k8s\0', 'latin1'),
      msg([1, msg([1, 'v1'], [2, 'Pod'])], [2, Buffer.alloc(0)]),
    ]);
    expect(() => decodeKubeProtobuf(pod)).toThrow(/unknown format/);
    const r = await fetch(`${url}/apis/${G}/v1/namespaces/team/rolebindings`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
      body,
    });
    expect(r.status).toBe(201);
    const made = (await r.json()) as any;
    expect(made.subjects[1]).toEqual({ kind: 'ServiceAccount', name: 'builder', namespace: 'team' });
  });
});

describe('NodeRestriction (a node’s certificate: system:node:<name>, system:nodes)', () => {
  it('a node writes only its own Node, its own pods’ status, and tokens bound to its pods', async () => {
    const n1 = as('system:node:n1', ['system:nodes']);
    const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
    expect((await call('POST', '/api/v1/nodes', node('n1'), n1)).status).toBe(201);
    const other = await call('POST', '/api/v1/nodes', node('n2'), n1);
    expect(other.status).toBe(403);
    expect(other.body.message).toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    await call('POST', '/api/v1/nodes', node('n2')); // (the admin may)
    expect(
      (
        await call(
          'PATCH',
          '/api/v1/nodes/n2',
          { metadata: { labels: { x: 'y' } } },
          { ...n1, 'content-type': 'application/merge-patch+json' },
        )
      ).status,
    ).toBe(403);
    // pods: one on n1, one on n2
    for (const [name, nodeName] of [
      ['on-n1', 'n1'],
      ['on-n2', 'n2'],
    ])
      await call('POST', '/api/v1/namespaces/sa-adm/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
      });
    const status = (name: string) =>
      call(
        'PATCH',
        `/api/v1/namespaces/sa-adm/pods/${name}/status`,
        { status: { phase: 'Running' } },
        { ...n1, 'content-type': 'application/merge-patch+json' },
      );
    expect((await status('on-n1')).status).toBe(200);
    const theirs = await status('on-n2');
    expect(theirs.status).toBe(403);
    expect(theirs.body.message).toBe(
      'pods "on-n2" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself',
    );
    expect((await call('DELETE', '/api/v1/namespaces/sa-adm/pods/on-n2', undefined, n1)).body.message).toBe(
      'pods "on-n2" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself',
    );
    const created = await call(
      'POST',
      '/api/v1/namespaces/sa-adm/pods',
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'b' }] } },
      n1,
    );
    expect(created.status).toBe(403);
    const tr = (podName?: string) =>
      call(
        'POST',
        '/api/v1/namespaces/sa-adm/serviceaccounts/default/token',
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: podName ? { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: podName } } : {},
        },
        n1,
      );
    expect((await tr('on-n1')).status).toBe(201);
    expect((await tr('on-n2')).body.message).toBe(
      'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node',
    );
    expect((await tr()).body.message).toBe(
      'serviceaccounts "default" is forbidden: node requested token not bound to a pod',
    );
  });

  it('the Node authorizer: a node reads a Secret only while a pod bound to it uses it, in kube’s words otherwise', async () => {
    const n1 = as('system:node:n1', ['system:nodes']);
    const secret = (name: string) =>
      call('POST', '/api/v1/namespaces/sa-adm/secrets', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name },
        stringData: { k: 'v' },
      });
    await secret('used');
    await secret('unused');
    await call('POST', '/api/v1/namespaces/sa-adm/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'uses-secret' },
      spec: {
        nodeName: 'n1',
        containers: [
          { name: 'c', image: 'b', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'used', key: 'k' } } }] },
        ],
      },
    });
    expect((await call('GET', '/api/v1/namespaces/sa-adm/secrets/used', undefined, n1)).status).toBe(200);
    const refused = await call('GET', '/api/v1/namespaces/sa-adm/secrets/unused', undefined, n1);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe(
      'secrets "unused" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "sa-adm": no relationship found between node \'n1\' and this object',
    );
    expect((await call('GET', '/api/v1/namespaces/sa-adm/secrets', undefined, n1)).status).toBe(403);
    // the pod gone, so is the node's access
    await call('DELETE', '/api/v1/namespaces/sa-adm/pods/uses-secret?gracePeriodSeconds=0');
    expect((await call('GET', '/api/v1/namespaces/sa-adm/secrets/used', undefined, n1)).status).toBe(403);
  });
});
