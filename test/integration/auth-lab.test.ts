import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import {
  labUp,
  waitFor,
  applyClusterDns,
  adminKubeconfigPath,
  labPki,
  labNodeCert,
  labNodeKubeconfigPath,
  CLI_ENTRY,
  type LabState,
} from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// The lab's credentials end to end (#15): `lab up` makes the PKI and the
// admin kubeconfig; the real kubectl (podwire kubectl) gets in with the admin
// client certificate; a request with no credentials is 401; every pod gets
// its ServiceAccount's token, the lab CA and its namespace read-only at
// /var/run/secrets/kubernetes.io/serviceaccount, and with that token
// https://10.96.0.1 (the `kubernetes` Service) answers 403 until a
// RoleBinding grants `view`, then 200; a pod that opts out gets no token;
// CoreDNS, an in-cluster client with its own ServiceAccount and
// system:coredns, still answers the cluster's names.
const prefix = testPrefix('auth');
let state: LabState;
let client: ApiClient;
const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000 });
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pwt-auth-kube-'));
const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const ready = (p: KubeObject | null) =>
  p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

const pod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'box', image: 'curlimages/curl', command: ['sleep', '3600'] }], ...spec },
});
/** The status code of GET url from inside the pod, with its own token and CA (as client-go would). */
const asPod = (name: string, url: string) =>
  podwire(
    'exec',
    name,
    '--',
    'sh',
    '-c',
    `curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert ${SA}/ca.crt -H "Authorization: Bearer $(cat ${SA}/token)" ${url}`,
  );

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  await applyClusterDns(state, { ready: true });
  for (const p of [pod('web'), pod('quiet', { automountServiceAccountToken: false })]) await client.create(p);
  await waitFor('both pods Ready', 60_000, async () => {
    const [a, b] = await Promise.all([
      client.tryGet('pods', 'default', 'web'),
      client.tryGet('pods', 'default', 'quiet'),
    ]);
    return ready(a) && ready(b);
  });
}, 240_000);

afterAll(async () => {
  client?.close();
  fs.rmSync(cache, { recursive: true, force: true });
  await stopLab(prefix);
}, 60_000);

describe('authentication in the lab', () => {
  it('lab up wrote the admin kubeconfig: https with the lab CA and the kubernetes-admin client certificate', () => {
    const text = fs.readFileSync(adminKubeconfigPath(state.plan), 'utf8');
    expect(text).toContain(`server: https://${state.plan.controlPlane.ip}:6443`);
    expect(text).toContain('client-certificate-data:');
    expect(fs.statSync(adminKubeconfigPath(state.plan)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(labPki(state.plan).ca.keyFile)).mode & 0o777).toBe(0o700);
  });

  it('podwire lab kubeconfig prints it for the machine’s kubectl, which gets in from the lab’s namespaces', async () => {
    expect((await podwire('lab', 'kubeconfig', '--path')).stdout).toBe(adminKubeconfigPath(state.plan));
    const printed = await podwire('lab', 'kubeconfig');
    const copy = path.join(cache, 'lab.kubeconfig');
    fs.writeFileSync(copy, printed.stdout);
    const r = await inNs(state.plan.controlPlane.ns, [
      'kubectl',
      '--kubeconfig',
      copy,
      '--cache-dir',
      cache,
      'get',
      'nodes',
      '-o',
      'name',
    ]);
    expect(String(r.stdout), String(r.stderr)).toBe(state.plan.nodes.map((n) => `node/${n.name}`).join('\n'));
  });

  it('podwire kubectl get pods works with the admin certificate; kubectl auth whoami names kubernetes-admin', async () => {
    const r = await podwire('kubectl', '--cache-dir', cache, 'get', 'pods', '-o', 'name');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n').sort()).toEqual(['pod/quiet', 'pod/web']);
    const who = await podwire(
      'kubectl',
      '--cache-dir',
      cache,
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username}',
    );
    expect(who.stdout, who.stderr).toBe('kubernetes-admin');
  });

  it('no credentials on the API server’s TCP port: 401 Unauthorized (from the outside client machine)', async () => {
    const cp = state.plan.controlPlane;
    const r = await inNs(state.plan.outside.client.ns, [
      'curl',
      '-sS',
      '--max-time',
      '5',
      '--cacert',
      labPki(state.plan).ca.certFile,
      '-w',
      '\n%{http_code}',
      `https://${cp.ip}:${cp.port}/api/v1/namespaces/default/pods`,
    ]);
    const [body, code] = String(r.stdout).split('\n');
    expect(code, String(r.stderr)).toBe('401');
    expect(JSON.parse(body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    // and no plain HTTP at all there
    const plain = await inNs(state.plan.outside.client.ns, [
      'curl',
      '-sS',
      '--max-time',
      '5',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `http://${cp.ip}:${cp.port}/api/v1/namespaces/default/pods`,
    ]);
    expect(String(plain.stdout)).not.toBe('200');
  });

  it('a pod gets its token, the CA and its namespace, read-only; one with automountServiceAccountToken: false gets none', async () => {
    const ls = await podwire('exec', 'web', '--', 'sh', '-c', `cd ${SA} && cat namespace && echo && ls`);
    expect(ls.stdout, ls.stderr).toBe('default\nca.crt\nnamespace\ntoken');
    const token = (await podwire('exec', 'web', '--', 'cat', `${SA}/token`)).stdout;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims.sub).toBe('system:serviceaccount:default:default');
    expect(claims['kubernetes.io'].pod.name).toBe('web');
    expect(claims.exp - claims.iat).toBe(3607);
    const write = await podwire('exec', 'web', '--', 'sh', '-c', `echo x > ${SA}/token`);
    expect(write.exitCode).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
    const env = await podwire(
      'exec',
      'web',
      '--',
      'sh',
      '-c',
      'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT',
    );
    expect(env.stdout).toBe('10.96.0.1:443');
    const none = await podwire('exec', 'quiet', '--', 'ls', SA);
    expect(none.exitCode).not.toBe(0);
  });

  it('with its token a pod is forbidden to list pods (403), and allowed (200) once a RoleBinding grants view', async () => {
    const url = 'https://10.96.0.1/api/v1/namespaces/default/pods';
    const denied = await asPod('web', url);
    expect(denied.stdout, denied.stderr).toBe('403');
    await client.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'default-view', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }],
    });
    await waitFor('the RoleBinding to take effect', 10_000, async () => (await asPod('web', url)).stdout === '200');
    // view is namespaced here: other namespaces stay closed
    expect((await asPod('web', 'https://10.96.0.1/api/v1/namespaces/kube-system/pods')).stdout).toBe('403');
  });

  it('CoreDNS, listing Services with its own token (system:coredns), answers the cluster’s names', async () => {
    const coredns = (await client.list('pods', { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items;
    expect(coredns.length).toBeGreaterThan(0);
    for (const p of coredns) expect(p.spec.serviceAccountName).toBe('coredns');
    const node = state.plan.nodes[0];
    const r = await inNs(node.ns, ['dig', '+short', '+time=2', '@10.96.0.10', 'kubernetes.default.svc.cluster.local']);
    expect(String(r.stdout).trim(), String(r.stderr)).toBe('10.96.0.1');
    const svc = await client.get('services', 'kube-system', 'kube-dns');
    const back = await inNs(node.ns, [
      'dig',
      '+short',
      '+time=2',
      '@10.96.0.10',
      'kube-dns.kube-system.svc.cluster.local',
    ]);
    expect(String(back.stdout).trim()).toBe(svc.spec.clusterIP);
  });

  it('a node’s :10250 lets in only the API server: a pod gets 401 over TLS and nothing over plain HTTP, another node’s certificate 403; kubectl logs still works', async () => {
    const web = await client.get('pods', 'default', 'web');
    const nodeIp = state.plan.nodes.find((n) => n.name === web.spec.nodeName)!.ip;
    const url = `https://${nodeIp}:10250/containerLogs/kube-system/x/y`;
    const anon = await podwire(
      'exec',
      'web',
      '--',
      'curl',
      '-sk',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '5',
      url,
    );
    expect(anon.stdout).toBe('401');
    const plain = await podwire(
      'exec',
      'web',
      '--',
      'curl',
      '-s',
      '--max-time',
      '5',
      `http://${nodeIp}:10250/stats/summary`,
    );
    expect(plain.stdout).not.toMatch(/"node"/); // the TLS port answers no plain HTTP request with data
    // a certificate of the lab CA, but a node's, not the API server's kubelet client
    const other = labNodeCert(state.plan, web.spec.nodeName === 'node1' ? 'node2' : 'node1');
    const forbidden = await inNs(state.plan.controlPlane.ns, [
      'curl',
      '-sk',
      '-w',
      ' %{http_code}',
      '--max-time',
      '5',
      '--cert',
      other.certFile,
      '--key',
      other.keyFile,
      url,
    ]);
    expect(forbidden.stdout).toMatch(/^Forbidden \(user=system:node:node\d, .*\)\n 403$/s);
    const kubelet = labPki(state.plan).apiserverKubeletClient;
    const allowed = await inNs(state.plan.controlPlane.ns, [
      'curl',
      '-sk',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--max-time',
      '5',
      '--cert',
      kubelet.certFile,
      '--key',
      kubelet.keyFile,
      `https://${nodeIp}:10250/stats/summary`,
    ]);
    expect(allowed.stdout).toBe('200');
    const logs = await podwire(
      'kubectl',
      '--cache-dir',
      cache,
      'logs',
      '-n',
      'kube-system',
      '-l',
      'k8s-app=kube-dns',
      '--tail',
      '1',
    );
    expect(logs.exitCode, logs.stderr).toBe(0);
  });
});

// The agents' own credentials (#15): each node's agent talks HTTPS to the API
// server as system:node:<name> (its kubeconfig beside the PKI), so the Node
// authorizer, RBAC's system:node and NodeRestriction govern it as they
// govern a kubelet: node1's certificate writes node1's status but not
// node2's Node nor the status of a pod on node2, and reads a Secret only
// while a pod of node1 uses it.
describe('the agents on their node certificates (Node authorizer, NodeRestriction)', () => {
  const NS = 'nodeauth';
  /** curl from node1's namespace with node1's certificate: [status code, parsed body] */
  const asNode1 = async (method: string, p: string, body?: unknown): Promise<[string, any]> => {
    const cp = state.plan.controlPlane;
    const cert = labNodeCert(state.plan, 'node1');
    const r = await inNs(state.plan.nodes[0].ns, [
      'curl',
      '-sS',
      '--max-time',
      '5',
      '--cacert',
      labPki(state.plan).ca.certFile,
      '--cert',
      cert.certFile,
      '--key',
      cert.keyFile,
      '-X',
      method,
      ...(body === undefined ? [] : ['-H', 'Content-Type: application/merge-patch+json', '-d', JSON.stringify(body)]),
      '-w',
      '\n%{http_code}',
      `https://${cp.ip}:${cp.port}${p}`,
    ]);
    const out = String(r.stdout);
    const at = out.lastIndexOf('\n');
    return [out.slice(at + 1), JSON.parse(out.slice(0, at) || 'null')];
  };

  it('each agent runs with its node kubeconfig (HTTPS, system:node:<name>), not the API server’s socket', () => {
    for (const n of state.plan.nodes) {
      const argv = fs.readFileSync(`/proc/${state.agents[n.name]}/cmdline`, 'utf8').split('\0');
      expect(argv[argv.indexOf('--kubeconfig') + 1]).toBe(labNodeKubeconfigPath(state.plan, n.name));
      expect(argv.join(' ')).not.toContain(state.plan.controlPlane.socket);
      const text = fs.readFileSync(labNodeKubeconfigPath(state.plan, n.name), 'utf8');
      expect(text).toContain(`user: system:node:${n.name}`);
      expect(text).toContain(`server: https://${state.plan.controlPlane.ip}:6443`);
      expect(fs.statSync(labNodeKubeconfigPath(state.plan, n.name)).mode & 0o777).toBe(0o600);
    }
  });

  it('node1’s credentials: its own status 200; node2’s Node and a pod of node2’s status 403; a Secret only while its pod uses it', async () => {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await waitFor('the namespace’s default ServiceAccount', 15_000, async () =>
      Boolean(await client.tryGet('serviceaccounts', NS, 'default')),
    );
    for (const name of ['used-by-node1', 'stranger'])
      await client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: NS },
        stringData: { k: name },
      });
    const env = [{ name: 'K', valueFrom: { secretKeyRef: { name: 'used-by-node1', key: 'k' } } }];
    const pinned = (name: string, nodeName: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS },
      spec: {
        nodeName,
        containers: [{ name: 'box', image: 'curlimages/curl', command: ['sleep', '3600'], ...extra }],
      },
    });
    await client.create(pinned('on-node1', 'node1', { env }));
    await client.create(pinned('on-node2', 'node2'));
    // node1's kubelet read the Secret for the container's environment (the Node authorizer let it) and started it
    await waitFor('both pinned pods Ready', 60_000, async () => {
      const [a, b] = await Promise.all([client.tryGet('pods', NS, 'on-node1'), client.tryGet('pods', NS, 'on-node2')]);
      return ready(a) && ready(b);
    });
    const printed = await podwire('exec', '-n', NS, 'on-node1', '--', 'sh', '-c', 'echo $K');
    expect(printed.stdout.trim(), printed.stderr).toBe('used-by-node1');

    const [own] = await asNode1('PATCH', '/api/v1/nodes/node1/status', { status: {} });
    expect(own).toBe('200');
    const [other, otherBody] = await asNode1('PATCH', '/api/v1/nodes/node2', { metadata: { labels: { x: 'y' } } });
    expect(other).toBe('403');
    expect(otherBody.message).toBe('nodes "node2" is forbidden: node "node1" is not allowed to modify node "node2"');
    const [theirPod, theirPodBody] = await asNode1('PATCH', `/api/v1/namespaces/${NS}/pods/on-node2/status`, {
      status: {},
    });
    expect(theirPod).toBe('403');
    expect(theirPodBody.message).toBe(
      'pods "on-node2" is forbidden: node "node1" can only update pod status for pods with spec.nodeName set to itself',
    );
    expect((await asNode1('PATCH', `/api/v1/namespaces/${NS}/pods/on-node1/status`, { status: {} }))[0]).toBe('200');

    expect((await asNode1('GET', `/api/v1/namespaces/${NS}/secrets/used-by-node1`))[0]).toBe('200');
    const [stranger, strangerBody] = await asNode1('GET', `/api/v1/namespaces/${NS}/secrets/stranger`);
    expect(stranger).toBe('403');
    expect(strangerBody.message).toBe(
      `secrets "stranger" is forbidden: User "system:node:node1" cannot get resource "secrets" in API group "" in the namespace "${NS}": no relationship found between node 'node1' and this object`,
    );
    expect((await asNode1('GET', `/api/v1/namespaces/${NS}/secrets`))[0]).toBe('403'); // no listing them all
    // the pod gone (deleted at once), so is node1's access
    await client.delete('pods', NS, 'on-node1', { gracePeriodSeconds: 0 });
    await waitFor(
      'node1’s access to the Secret to go with its pod',
      10_000,
      async () => (await asNode1('GET', `/api/v1/namespaces/${NS}/secrets/used-by-node1`))[0] === '403',
    );
  });
});
