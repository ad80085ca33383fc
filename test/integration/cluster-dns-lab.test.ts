import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import { applyClusterDns } from '../../src/lab/cluster-dns.js';
import { netnsEtcDir } from '../../src/lab/plan.js';
import { DEFAULT_COREFILE } from '../../src/dns/addon.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// The cluster DNS in the lab: the outside's DNS server on www (the client
// machine's resolver and CoreDNS's upstream, through the nodes' resolver
// file), the add-on applied at start, and the four lab break scenarios —
// each found where the workshop says, then undone. Real dig/nslookup.
const prefix = testPrefix('cdns');
let state: LabState;
let client: ApiClient;
const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000, all: true });
const inPod = (pod: string, ...argv: string[]) => podwire('exec', pod, '--', ...argv);
const dnsJson = async () =>
  JSON.parse(
    String(
      (await podwire('lab', 'exec', 'client', '--', 'curl', '-sS', '--max-time', '5', 'http://172.28.0.200/dns.json'))
        .stdout,
    ),
  );
const pod = (name: string, image: string, node: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName: node, containers: [{ name: 'shell', image }] },
});
const ready = (p: KubeObject | null) =>
  p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  await applyClusterDns(state, { ready: true });
  await client.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
  });
  await client.create({
    ...pod('web', 'nginx', 'node2'),
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: { nodeName: 'node2', containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] },
  });
  await client.create(pod('client', 'nicolaka/netshoot', 'node1'));
  await client.create(pod('box', 'busybox', 'node2'));
  await waitFor('the pods to be Ready', 60_000, async () =>
    (await Promise.all(['web', 'client', 'box'].map((n) => client.tryGet('pods', 'default', n)))).every(ready),
  );
}, 180_000);

afterAll(async () => {
  client?.close();
  if (state) await stopLab(prefix);
  // lab down removed the client machine's resolver file, and its directory
  expect(fs.existsSync(netnsEtcDir(`${prefix}-client`))).toBe(false);
}, 60_000);

describe('the outside’s DNS', () => {
  it('answers the client machine through its own resolv.conf (lab exec and ip netns exec alike), over UDP and TCP', async () => {
    const conf = path.join(netnsEtcDir(`${prefix}-client`), 'resolv.conf');
    expect(fs.readFileSync(conf, 'utf8')).toMatch(/^nameserver 172\.28\.0\.200$/m);
    expect((await podwire('lab', 'exec', 'client', '--', 'dig', '+short', 'api.example.com')).stdout).toBe(
      '172.28.0.200',
    );
    expect((await podwire('lab', 'exec', 'client', '--', 'dig', '+short', '+tcp', 'database.example.com')).stdout).toBe(
      '172.28.0.200',
    );
    const viaIp = await execa('ip', ['netns', 'exec', `${prefix}-client`, 'dig', '+short', 'www.google.com'], {
      reject: false,
    });
    expect(viaIp.stdout).toBe('172.28.0.200');
    const nx = await podwire('lab', 'exec', 'client', '--', 'dig', 'nope.example.com');
    expect(nx.stdout).toMatch(/status: NXDOMAIN/);
    expect(nx.stdout).toMatch(/^\.\s+\d+\s+IN\s+SOA\s+a\.root-servers\.net\. nstld\.verisign-grs\.com\./m);
    // the host's own resolver is untouched
    expect(fs.readFileSync('/etc/resolv.conf', 'utf8')).not.toContain('172.28.0.200');
  });

  it('is CoreDNS’s upstream: a pod’s outside name goes there from its CoreDNS pod’s node, and only the name itself, not the search-path tries', async () => {
    await podwire('lab', 'exec', 'client', '--', 'curl', '-sS', '-X', 'DELETE', 'http://172.28.0.200/dns.json');
    const r = await inPod('client', 'nslookup', 'app.example.com');
    expect(r.stdout).toMatch(/Name:\s+app\.example\.com\nAddress: 172\.28\.0\.200/);
    const counts = await dnsJson();
    expect(counts.names['app.example.com'].A).toBeGreaterThanOrEqual(1);
    expect(Object.keys(counts.names).filter((n) => n.endsWith('cluster.local'))).toEqual([]);
    const log = fs.readFileSync(path.join(state.plan.outside.www.stateDir, 'www.log'), 'utf8');
    expect(log).toMatch(/dns A app\.example\.com → NOERROR 172\.28\.0\.200 \(udp from 172\.28\.0\.1[12]:\d+\)/);
  });

  it('the agents have the lab’s resolver file: CoreDNS (dnsPolicy Default) got nameserver 172.28.0.200', async () => {
    const dns = (await client.list('pods', { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items;
    expect(dns).toHaveLength(2);
    const r = await podwire('exec', '-n', 'kube-system', dns[0].metadata.name, '--', 'cat', '/etc/resolv.conf');
    expect(r.stdout).toContain('nameserver 172.28.0.200');
    expect(r.stdout).not.toContain('search');
  });
});

describe('names from pods', () => {
  it('netshoot’s (the node’s) dig and nslookup, and busybox’s nslookup, through the search path', async () => {
    expect((await inPod('client', 'dig', '+short', 'web.default.svc.cluster.local')).stdout).toMatch(
      /^10\.96\.\d+\.\d+$/,
    );
    expect((await inPod('client', 'nslookup', 'web')).stdout).toMatch(/Name:\s+web\.default\.svc\.cluster\.local/);
    const bb = await inPod('box', 'nslookup', 'web.default.svc.cluster.local');
    expect(bb.stdout, String(bb.all)).toMatch(/Name:\s+web\.default\.svc\.cluster\.local\nAddress: 10\.96\./);
    expect((await inPod('client', 'curl', '-sS', '--max-time', '5', 'web/')).stdout).toContain(
      'nginx on pod default/web',
    );
  });
});

describe('lab break: the DNS faults', () => {
  it('dns-no-endpoints: kube-dns selects nothing, lookups are refused, the drop names kube-dns; fixed', async () => {
    expect((await podwire('lab', 'break', 'dns-no-endpoints')).exitCode).toBe(0);
    expect((await podwire('get', 'endpoints', '-n', 'kube-system', 'kube-dns')).stdout).toMatch(/kube-dns\s+<none>/);
    const r = await inPod('client', 'dig', '+tries=1', '+time=2', 'web.default.svc.cluster.local');
    expect(r.stdout).toMatch(/connection refused/);
    const t = await podwire('trace', 'client', '10.96.0.10:53/udp');
    expect(t.stdout).toContain('no-endpoints (kube-system/kube-dns)');
    expect((await podwire('lab', 'fix')).stdout).toBe('fixed: dns-no-endpoints on kube-system/kube-dns');
    expect((await inPod('client', 'dig', '+short', 'web.default.svc.cluster.local')).stdout).toMatch(/^10\.96\./);
    expect((await client.get('services', 'kube-system', 'kube-dns')).spec.selector).toEqual({ 'k8s-app': 'kube-dns' });
  });

  it('dns-port-blocked: only that pod’s resolv.conf names 10.96.0.11; its queries are dropped as no-service-port; another pod resolves; fixed', async () => {
    const before = (await inPod('client', 'cat', '/etc/resolv.conf')).stdout;
    expect((await podwire('lab', 'break', 'dns-port-blocked', 'client')).exitCode).toBe(0);
    expect((await inPod('client', 'cat', '/etc/resolv.conf')).stdout).toBe(
      before.replace('nameserver 10.96.0.10', 'nameserver 10.96.0.11'),
    );
    const drops = async () =>
      Number(
        /node1\s+no-service-port\s+(\d+)/.exec(String((await podwire('drops', '--node', 'node1')).stdout))?.[1] ?? 0,
      );
    const n0 = await drops();
    const r = await inPod('client', 'nslookup', 'web');
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toMatch(/10\.96\.0\.11#53: connection refused/);
    expect(await drops()).toBeGreaterThan(n0);
    expect((await inPod('box', 'nslookup', 'web.default.svc.cluster.local')).stdout).toMatch(/Address: 10\.96\./);
    await podwire('lab', 'fix');
    expect((await inPod('client', 'cat', '/etc/resolv.conf')).stdout).toBe(before);
    expect((await inPod('client', 'nslookup', 'web')).exitCode).toBe(0);
  });

  it('corefile-error: the reload is refused with its line in the logs, DNS keeps answering, the ConfigMap is restored', async () => {
    expect((await podwire('lab', 'break', 'corefile-error')).exitCode).toBe(0);
    const logs = await podwire('logs', '-n', 'kube-system', '-l', 'k8s-app=kube-dns');
    expect(logs.stdout.match(/\[ERROR\] Corefile:16: unknown plugin 'cahce'/g)?.length).toBe(2);
    expect((await inPod('client', 'dig', '+short', 'web.default.svc.cluster.local')).stdout).toMatch(/^10\.96\./);
    await podwire('lab', 'fix');
    expect((await client.get('configmaps', 'kube-system', 'coredns')).data.Corefile).toBe(DEFAULT_COREFILE);
  });

  it('coredns-down: no CoreDNS pods, no endpoints, every lookup refused; fix brings both replicas back', async () => {
    expect((await podwire('lab', 'break', 'coredns-down')).exitCode).toBe(0);
    expect((await podwire('get', 'endpoints', '-n', 'kube-system', 'kube-dns')).stdout).toMatch(/kube-dns\s+<none>/);
    const r = await inPod('box', 'nslookup', 'web.default.svc.cluster.local');
    expect(r.exitCode).not.toBe(0);
    expect((await podwire('lab', 'fix')).stdout).toBe('fixed: coredns-down on kube-system/coredns');
    expect((await client.get('deployments', 'kube-system', 'coredns')).spec.replicas).toBe(2);
    expect((await inPod('client', 'dig', '+short', 'web.default.svc.cluster.local')).stdout).toMatch(/^10\.96\./);
  });
});
