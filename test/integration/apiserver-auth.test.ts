import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ensurePki, ensureLeafCert, type PkiFiles } from '../../src/host/index.js';
import { STATE_ROOT, requireRoot, testPrefix, startInNs, labProcesses } from './helpers.js';

// The real `podwire apiserver` with TLS, client certificates, ServiceAccount tokens and RBAC,
// in a network namespace of its own (its loopback only), spoken to with curl and the real
// kubectl from inside that namespace: who gets 401, who gets 403 (in kube's words), and what
// a ServiceAccount token may do before and after a RoleBinding, and after its account is gone.
const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/podwire.js');
const prefix = testPrefix('auth');
const ns = `${prefix}-cp`;
const dir = path.join(STATE_ROOT, prefix);
const SERVER = 'https://127.0.0.1:6443';
const A = `${prefix}-a`;
const B = `${prefix}-b`;
let pki: PkiFiles;
let server: Awaited<ReturnType<typeof startInNs>> | null = null;
const kc = (name: string) => path.join(dir, `${name}.kubeconfig`);

const inNs = (argv: string[], input?: string) =>
  execa('ip', ['netns', 'exec', ns, ...argv], {
    reject: false,
    timeout: 60_000,
    ...(input !== undefined ? { input } : { stdin: 'ignore' }),
  });

/** curl in the namespace: status and body (JSON when it is) */
async function curl(p: string, opts: { cert?: { certFile: string; keyFile: string }; token?: string } = {}) {
  const args = ['curl', '-s', '--cacert', pki.ca.certFile, '-w', '\n%{http_code}'];
  if (opts.cert) args.push('--cert', opts.cert.certFile, '--key', opts.cert.keyFile);
  if (opts.token) args.push('-H', `Authorization: Bearer ${opts.token}`);
  const r = await inNs([...args, `${SERVER}${p}`]);
  const lines = String(r.stdout).split('\n');
  const code = Number(lines.pop());
  const text = lines.join('\n');
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text */
  }
  return { code, body };
}

// (a discovery cache of its own: ~/.kube/cache is keyed by host:port, and every test's server is 127.0.0.1 in its netns)
const kubectl = (config: string, ...args: string[]) =>
  inNs(['kubectl', '--kubeconfig', kc(config), '--cache-dir', path.join(dir, 'kube-cache'), ...args]);
async function kubectlOk(config: string, ...args: string[]): Promise<string> {
  const r = await kubectl(config, ...args);
  expect(r.exitCode, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return String(r.stdout);
}

/**
 * kubectl's last word on a refused request; before it, with no discovery cached yet, it logs
 * each failed discovery call (memcache.go), which must be refusals too.
 */
function refusal(stderr: unknown): string {
  const lines = String(stderr).split('\n');
  const last = lines.pop()!;
  for (const l of lines)
    expect(l).toMatch(
      /memcache\.go:\d+\] couldn't get current server API group list: the server has asked for the client to provide credentials$/,
    );
  return last;
}

function writeKubeconfig(name: string, user: Record<string, string>): void {
  const yaml = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: lab\n  cluster:\n    server: ${SERVER}\n    certificate-authority: ${pki.ca.certFile}`,
    'users:',
    `- name: u\n  user:${Object.keys(user).length ? '' : ' {}'}`,
    ...Object.entries(user).map(([k, v]) => `    ${k}: ${v}`),
    'contexts:',
    '- name: c\n  context:\n    cluster: lab\n    user: u\n    namespace: default',
    'current-context: c',
    '',
  ].join('\n');
  fs.writeFileSync(kc(name), yaml, { mode: 0o600 });
}

function apiserverArgv(port: number, store: string): string[] {
  return [
    process.execPath,
    CLI,
    'apiserver',
    '--prefix',
    prefix,
    '--store',
    store,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--tls-cert-file',
    pki.apiserver.certFile,
    '--tls-private-key-file',
    pki.apiserver.keyFile,
    '--client-ca-file',
    pki.ca.certFile,
    '--service-account-key-file',
    pki.saPub,
    '--service-account-signing-key-file',
    pki.saKey,
  ];
}

let etcd: ReturnType<typeof execa> | null = null;

beforeAll(async () => {
  requireRoot();
  const v = await execa('kubectl', ['version', '--client'], { reject: false });
  if (v.exitCode !== 0) throw new Error('kubectl is missing: .ci/run and scripts/setup install it');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  pki = await ensurePki({ dir: path.join(dir, 'pki'), apiserverIps: ['127.0.0.1'] });
  // a user no binding names, and a certificate of another CA
  const alice = { certFile: path.join(dir, 'pki', 'alice.crt'), keyFile: path.join(dir, 'pki', 'alice.key') };
  await ensureLeafCert(pki.dir, alice, {
    subject: { commonName: 'alice', organizations: ['devs'] },
    usage: 'clientAuth',
  });
  const stranger = await ensurePki({ dir: path.join(dir, 'other-pki'), apiserverIps: ['127.0.0.1'] });
  writeKubeconfig('admin', { 'client-certificate': pki.admin.certFile, 'client-key': pki.admin.keyFile });
  writeKubeconfig('alice', { 'client-certificate': alice.certFile, 'client-key': alice.keyFile });
  writeKubeconfig('stranger', { 'client-certificate': stranger.admin.certFile, 'client-key': stranger.admin.keyFile });
  // no credentials: kubectl would prompt for a basic-auth user, which no API server accepts any more
  writeKubeconfig('nobody', { username: 'nobody' });
  writeKubeconfig('bare', {});
  await execa('ip', ['netns', 'add', ns]);
  await execa('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  server = await startInNs(ns, apiserverArgv(6443, path.join(dir, 'store')), 'apiserver on https://127.0.0.1:6443');
}, 60_000);

afterAll(async () => {
  if (etcd) {
    etcd.kill('SIGTERM');
    await etcd;
  }
  if (server) {
    server.child.kill('SIGTERM');
    await server.child;
  }
  await execa('ip', ['netns', 'del', ns], { reject: false });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(labProcesses(prefix)).toEqual([]);
});

describe('API server authentication (TLS, client certificates, ServiceAccount tokens)', () => {
  it('no credentials: 401 as kube-apiserver writes it, except /livez, /readyz and /version; kubectl says "You must be logged in"', async () => {
    const anon = await curl('/api/v1/namespaces/default/pods');
    expect(anon).toEqual({
      code: 401,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      },
    });
    expect((await curl('/api')).code).toBe(401);
    expect(await curl('/livez')).toEqual({ code: 200, body: 'ok' });
    expect((await curl('/readyz')).code).toBe(200);
    expect((await curl('/version')).body.gitVersion).toMatch(/^v1\./);
    const k = await kubectl('nobody', 'get', 'pods');
    expect(k.exitCode).toBe(1);
    // with no discovery cached yet, kubectl words it as client-go's discovery does (as against kube-apiserver) ...
    expect(refusal(k.stderr)).toBe(
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
    );
    // ... and once discovery is cached (here by the admin), with the Status the server sent
    await kubectlOk('admin', 'api-resources', '-o', 'name');
    expect(refusal((await kubectl('nobody', 'get', 'pods')).stderr)).toBe(
      'error: You must be logged in to the server (Unauthorized)',
    );
    // a certificate another CA signed is refused, never taken as anonymous
    expect(
      (
        await curl('/livez', {
          cert: {
            certFile: path.join(dir, 'other-pki', 'admin.crt'),
            keyFile: path.join(dir, 'other-pki', 'admin.key'),
          },
        })
      ).code,
    ).toBe(401);
    expect(refusal((await kubectl('stranger', 'get', 'ns')).stderr)).toBe(
      'error: You must be logged in to the server (Unauthorized)',
    );
    expect((await curl('/api', { token: 'not-a-jwt' })).code).toBe(401);
  });

  it('a system:masters certificate may do anything; kubectl auth whoami and can-i say so', async () => {
    expect(await kubectlOk('admin', 'auth', 'whoami')).toBe(
      'ATTRIBUTE   VALUE\nUsername    kubernetes-admin\nGroups      [system:masters system:authenticated]',
    );
    expect(await kubectlOk('admin', 'auth', 'can-i', '*', '*', '--all-namespaces')).toBe('yes');
    await kubectlOk('admin', 'create', 'namespace', A);
    await kubectlOk('admin', 'create', 'namespace', B);
    await kubectlOk('admin', 'create', 'serviceaccount', 'builder', '-n', A);
    const roles = await kubectlOk('admin', 'get', 'clusterroles');
    expect(roles).toMatch(/^NAME\s+CREATED AT\n/);
    for (const r of ['cluster-admin', 'admin', 'edit', 'view', 'system:node', 'system:public-info-viewer'])
      expect(roles).toMatch(new RegExp(`^${r}\\s+\\d{4}-`, 'm'));
    // the ServiceAccount controller made `default` in the new namespace
    await expect
      .poll(async () => String((await kubectl('admin', 'get', 'sa', '-n', A, '-o', 'name')).stdout), {
        timeout: 10_000,
      })
      .toBe('serviceaccount/builder\nserviceaccount/default');
  });

  it('a user no binding names: 403 in kube’s words, and it may still ask who it is and what it may do', async () => {
    const r = await kubectl('alice', 'get', 'pods', '-n', A);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      `Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "${A}"`,
    );
    const node = await kubectl('alice', 'get', 'node', 'n1');
    expect(node.stderr).toBe(
      'Error from server (Forbidden): nodes "n1" is forbidden: User "alice" cannot get resource "nodes" in API group "" at the cluster scope',
    );
    expect(await kubectlOk('alice', 'auth', 'whoami')).toContain(
      'Username    alice\nGroups      [devs system:authenticated]',
    );
    // a streaming upgrade (kubectl exec's WebSocket) needs create on pods/exec, checked before the pod is looked up
    const exec = await inNs([
      'curl',
      '-s',
      '--cacert',
      pki.ca.certFile,
      '--cert',
      path.join(dir, 'pki', 'alice.crt'),
      '--key',
      path.join(dir, 'pki', 'alice.key'),
      '-H',
      'Connection: Upgrade',
      '-H',
      'Upgrade: websocket',
      '-H',
      'Sec-WebSocket-Version: 13',
      '-H',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      `${SERVER}/api/v1/namespaces/${A}/pods/web/exec?command=ls&stdout=true`,
    ]);
    expect(JSON.parse(String(exec.stdout))).toMatchObject({
      code: 403,
      message: `pods "web" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "${A}"`,
    });
    const no = await kubectl('alice', 'auth', 'can-i', 'list', 'pods', '-n', A);
    expect([no.exitCode, String(no.stdout)]).toEqual([1, 'no']);
  });

  it('a ServiceAccount token (TokenRequest) lists pods in its namespace once a RoleBinding allows it, never in another; a deleted account’s token is refused', async () => {
    const token = (await kubectlOk('admin', 'create', 'token', 'builder', '-n', A)).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(claims.sub).toBe(`system:serviceaccount:${A}:builder`);
    const user = `system:serviceaccount:${A}:builder`;
    const before = await curl(`/api/v1/namespaces/${A}/pods`, { token });
    expect(before.code).toBe(403);
    expect(before.body.message).toBe(
      `pods is forbidden: User "${user}" cannot list resource "pods" in API group "" in the namespace "${A}"`,
    );
    expect(String((await kubectl('admin', 'auth', 'can-i', 'list', 'pods', '-n', A, '--as', user)).stdout)).toBe('no');

    await kubectlOk(
      'admin',
      'create',
      'rolebinding',
      'builder-view',
      '--clusterrole=view',
      `--serviceaccount=${A}:builder`,
      '-n',
      A,
    );
    const after = await curl(`/api/v1/namespaces/${A}/pods`, { token });
    expect(after.code).toBe(200);
    expect(after.body.kind).toBe('PodList');
    expect((await curl(`/api/v1/namespaces/${B}/pods`, { token })).code).toBe(403);
    expect((await curl(`/api/v1/namespaces/${A}/secrets`, { token })).code).toBe(403);
    expect((await curl(`/api/v1/namespaces/${A}/pods`, { token: token.slice(0, -4) + 'AAAA' })).code).toBe(401);

    // kubectl with the token, and an admin asking on its behalf (impersonation)
    const who = await kubectlOk('bare', '--token', token, 'auth', 'whoami');
    expect(who).toMatch(new RegExp(`^Username\\s+${user}$`, 'm'));
    expect(who).toMatch(
      new RegExp(`^Groups\\s+\\[system:serviceaccounts system:serviceaccounts:${A} system:authenticated\\]$`, 'm'),
    );
    expect(await kubectlOk('bare', '--token', token, 'get', 'pods', '-n', A)).toBe('');
    expect(await kubectlOk('admin', 'auth', 'can-i', 'list', 'pods', '-n', A, '--as', user)).toBe('yes');
    expect(String((await kubectl('admin', 'auth', 'can-i', 'list', 'pods', '-n', B, '--as', user)).stdout)).toBe('no');
    expect(String((await kubectl('admin', 'auth', 'can-i', 'delete', 'pods', '-n', A, '--as', user)).stdout)).toBe(
      'no',
    );
    const list = await kubectlOk('bare', '--token', token, 'auth', 'can-i', '--list', '-n', A);
    expect(list).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n/);
    expect(list).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(list).toMatch(/^deployments\.apps\s+\[\]\s+\[\]\s+\[get list watch\]$/m);

    await kubectlOk('admin', 'delete', 'serviceaccount', 'builder', '-n', A);
    expect((await curl(`/api/v1/namespaces/${A}/pods`, { token })).code).toBe(401);
    expect(refusal((await kubectl('bare', '--token', token, 'get', 'pods', '-n', A)).stderr)).toBe(
      'error: You must be logged in to the server (Unauthorized)',
    );
    // an account of the same name made again is another account: the old token stays refused
    await kubectlOk('admin', 'create', 'serviceaccount', 'builder', '-n', A);
    expect((await curl(`/api/v1/namespaces/${A}/pods`, { token })).code).toBe(401);
  });
});

describe('on etcd', () => {
  it('the built-in policy is bootstrapped once; a restarted server authorizes from what it lists again', async () => {
    etcd = execa(
      'ip',
      [
        ...['netns', 'exec', ns, 'etcd', '--name', 'pwauth', '--data-dir', path.join(dir, 'etcd')],
        ...['--listen-client-urls', 'http://127.0.0.1:2379', '--advertise-client-urls', 'http://127.0.0.1:2379'],
        ...['--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'],
        ...['--initial-cluster', 'pwauth=http://127.0.0.1:2380'],
      ],
      { reject: false },
    );
    const at = ['-s', 'https://127.0.0.1:6444'];
    // (the API server waits for a store that is still starting)
    const start = () =>
      startInNs(ns, apiserverArgv(6444, 'etcd://127.0.0.1:2379'), 'apiserver on https://127.0.0.1:6444');
    const rv = async () =>
      kubectlOk('admin', ...at, 'get', 'clusterrole', 'cluster-admin', '-o', 'jsonpath={.metadata.resourceVersion}');
    let s = await start();
    const first = await rv();
    expect(Number(first)).toBeGreaterThan(0);
    s.child.kill('SIGTERM');
    await s.child;
    s = await start();
    try {
      expect(await rv()).toBe(first); // nothing rewritten
      expect((await kubectlOk('admin', ...at, 'get', 'clusterrolebindings', '-o', 'name')).split('\n')).toEqual(
        expect.arrayContaining(['clusterrolebinding.rbac.authorization.k8s.io/cluster-admin']),
      );
      // (kubectl posts this one as protobuf: its --user meets kubectl's global --user)
      await kubectlOk(
        'admin',
        ...at,
        'create',
        'rolebinding',
        'alice-view',
        '--clusterrole=view',
        '--user=alice',
        '-n',
        'default',
      );
      expect(await kubectlOk('alice', ...at, 'auth', 'can-i', 'list', 'pods', '-n', 'default')).toBe('yes');
      expect((await kubectl('alice', ...at, 'get', 'secrets', '-n', 'default')).stderr).toBe(
        'Error from server (Forbidden): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"',
      );
    } finally {
      s.child.kill('SIGTERM');
      await s.child;
    }
  });
});
