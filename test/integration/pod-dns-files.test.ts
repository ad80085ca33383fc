import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { execa } from 'execa';
import { labUp, restartAgent, waitFor, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import { planLab, labResolvConf } from '../../src/lab/plan.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { parseResolvConf } from '../../src/kubelet/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// Every pod sees its own /etc/resolv.conf, /etc/hosts and /etc/hostname as
// the kubelet writes them: bind-mounted in each container's own mount
// namespace, so the node's files (and its mount table) never change.
// `podwire exec` enters a container's mount, UTS and network namespaces;
// exec probes run there too; an agent restarted adopts the containers and
// exec still finds the files.
const prefix = testPrefix('dnsf');
let state: LabState;
let client: ApiClient;
const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000 });
const ready = (p: KubeObject | null) =>
  p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
const logs = (ns: string, name: string) => client.text(`/api/v1/namespaces/${ns}/pods/${name}/log?container=box`);

/** The files as a container sees them, and its hostname. */
const FILES = 'cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; hostname; cat /etc/hostname';
/** What a busybox container prints once, then sleeps. */
const SHOW = `${FILES}; exec sleep 3600`;

const HOSTS_HEAD =
  '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

// The node's own files, and the mounts over them in the node's mount namespace, before anything ran.
const NODE_FILES = ['/etc/resolv.conf', '/etc/hosts', '/etc/hostname'].filter((f) => fs.existsSync(f));
const nodeBytes = () => Object.fromEntries(NODE_FILES.map((f) => [f, fs.readFileSync(f).toString('base64')]));
const nodeMounts = () =>
  fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => /^\S+ \S+ \S+ \S+ \/etc\/(resolv\.conf|hosts|hostname) /.test(l))
    .map((l) => l.split(' ').slice(2, 5).join(' '))
    .sort();
const before = { bytes: nodeBytes(), mounts: nodeMounts() };
// The node's resolver file (--resolv-conf): the lab gives every agent its own, naming the outside's DNS server
const nodeResolv = parseResolvConf(labResolvConf(planLab({ prefix, nodes: 1, stateRoot: STATE_ROOT })));
const nodeSearch = nodeResolv.searches;

const pods: KubeObject[] = [
  {
    // ClusterFirst (the default) with dnsConfig merged in, hostAliases, and an exec readiness probe that reads the pod's resolv.conf
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'client', namespace: 'default' },
    spec: {
      dnsConfig: { searches: ['lab.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] }],
      containers: [
        {
          name: 'box',
          image: 'busybox',
          command: ['sh', '-c', SHOW],
          readinessProbe: {
            exec: { command: ['grep', '-q', 'nameserver 10.96.0.10', '/etc/resolv.conf'] },
            periodSeconds: 1,
          },
        },
        { name: 'side', image: 'busybox', command: ['sleep', '3600'] },
      ],
    },
  },
  {
    // None: only its dnsConfig; a hostname and subdomain with setHostnameAsFQDN, in another namespace
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'db-0', namespace: 'shop' },
    spec: {
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['192.0.2.53', '198.51.100.53'],
        searches: ['shop.example'],
        options: [{ name: 'ndots', value: '1' }],
      },
      hostname: 'db-0',
      subdomain: 'db',
      setHostnameAsFQDN: true,
      containers: [{ name: 'box', image: 'busybox', command: ['sh', '-c', SHOW] }],
    },
  },
  {
    // Default: the node's resolver file
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hostdns', namespace: 'default' },
    spec: { dnsPolicy: 'Default', containers: [{ name: 'box', image: 'busybox', command: ['sh', '-c', SHOW] }] },
  },
];

let ips: Record<string, string> = {};
const expected = () => ({
  client: {
    resolv: `search ${['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', ...nodeSearch.filter((s) => s !== 'lab.example'), 'lab.example'].join(' ')}\nnameserver 10.96.0.10\noptions ndots:2 edns0\n`,
    hosts: `${HOSTS_HEAD}${ips.client}\tclient\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n`,
    hostname: 'client',
  },
  'db-0': {
    resolv: 'search shop.example\nnameserver 192.0.2.53\nnameserver 198.51.100.53\noptions ndots:1\n',
    hosts: `${HOSTS_HEAD}${ips['db-0']}\tdb-0.db.shop.svc.cluster.local\tdb-0\n`,
    hostname: 'db-0.db.shop.svc.cluster.local',
  },
  hostdns: {
    resolv: `${nodeResolv.searches.length ? `search ${nodeResolv.searches.join(' ')}\n` : ''}${nodeResolv.servers.map((s) => `nameserver ${s}\n`).join('')}${nodeResolv.options.length ? `options ${nodeResolv.options.join(' ')}\n` : ''}`,
    hosts: `${HOSTS_HEAD}${ips.hostdns}\thostdns\n`,
    hostname: 'hostdns',
  },
});
const nsOf = (name: string) => (name === 'db-0' ? 'shop' : 'default');
const exec = (name: string, ...argv: string[]) => podwire('exec', '-n', nsOf(name), name, '--', ...argv);

const shown = (name: keyof ReturnType<typeof expected>) => {
  const want = expected()[name];
  return `${want.resolv}---\n${want.hosts}---\n${want.hostname}\n${want.hostname}\n`;
};

async function expectExecShows(name: 'client' | 'db-0' | 'hostdns') {
  const r = await exec(name, 'sh', '-c', FILES);
  expect(r.exitCode, String(r.stderr)).toBe(0);
  expect(`${r.stdout}\n`).toBe(shown(name));
}

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 1, stateRoot: STATE_ROOT, controlPlane: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  for (const p of pods) await client.create(p);
  await waitFor('the three pods running with IPs', 30_000, async () => {
    const got = await Promise.all(pods.map((p) => client.get('pods', p.metadata.namespace, p.metadata.name)));
    if (
      !got.every(
        (p) =>
          p.status?.podIP &&
          p.status.containerStatuses?.every((c: { state: Record<string, unknown> }) => c.state.running),
      )
    )
      return false;
    ips = Object.fromEntries(got.map((p) => [p.metadata.name, p.status.podIP]));
    return true;
  });
}, 120_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
}, 60_000);

describe('each pod’s /etc/resolv.conf, /etc/hosts and /etc/hostname, as the kubelet writes them', () => {
  it('podwire exec shows each pod its own files (ClusterFirst + dnsConfig + hostAliases; None + FQDN; Default)', async () => {
    await expectExecShows('client');
    await expectExecShows('db-0');
    await expectExecShows('hostdns');
    // -c picks a container; the second container of the pod sees the same files
    expect((await podwire('exec', 'client', '-c', 'side', '--', 'cat', '/etc/resolv.conf')).stdout + '\n').toBe(
      expected().client.resolv,
    );
    // and exec runs with the container's environment, as kubectl exec
    expect((await exec('client', 'sh', '-c', 'echo $POD_NAME $POD_NAMESPACE')).stdout).toBe('client default');
  });

  it('a container’s own output shows them too (its logs)', async () => {
    for (const name of ['client', 'db-0', 'hostdns'] as const) {
      const want = expected()[name];
      await waitFor(`${name}'s log`, 10_000, async () =>
        (await logs(nsOf(name), name)).endsWith(`${want.hostname}\n${want.hostname}\n`),
      );
      expect(await logs(nsOf(name), name)).toBe(shown(name));
    }
  });

  it('an exec readiness probe runs in the container’s mount namespace: it reads the pod’s resolv.conf', async () => {
    // (the node's resolv.conf has no 10.96.0.10: a probe run there would never pass)
    expect(fs.readFileSync('/etc/resolv.conf', 'utf8')).not.toContain('10.96.0.10');
    await waitFor('client Ready', 20_000, async () => ready(await client.get('pods', 'default', 'client')));
  });

  it('the node’s own files and mount table are untouched', () => {
    expect(nodeBytes()).toEqual(before.bytes);
    expect(nodeMounts()).toEqual(before.mounts);
    // the files live in the pod's directory in the agent's state dir
    const uid = fs.readdirSync(`${state.plan.nodes[0].stateDir}/pods`);
    expect(uid.length).toBe(3);
    for (const u of uid)
      expect(fs.readdirSync(`${state.plan.nodes[0].stateDir}/pods/${u}/etc.pod`).sort()).toEqual([
        'hostname',
        'hosts',
        'resolv.conf',
      ]);
  });

  it('an agent killed and restarted adopts the containers; exec still shows the files', async () => {
    const started = async () =>
      (await client.get('pods', 'default', 'client')).status.containerStatuses.map(
        (c: { state: { running?: { startedAt: string } }; restartCount: number }) => [
          c.state.running?.startedAt,
          c.restartCount,
        ],
      );
    const was = await started();
    await restartAgent({ prefix, stateRoot: STATE_ROOT, node: 'node1', crash: true });
    await waitFor('client Ready after the restart', 20_000, async () =>
      ready(await client.get('pods', 'default', 'client')),
    );
    expect(await started()).toEqual(was);
    await expectExecShows('client');
    await expectExecShows('db-0');
    expect(nodeBytes()).toEqual(before.bytes);
    expect(nodeMounts()).toEqual(before.mounts);
  });

  it('a bare pod (podwire pod add) keeps the network namespace only: the node’s files', async () => {
    expect((await podwire('pod', 'add', 'bare', '--node', 'node1')).exitCode).toBe(0);
    const r = await podwire('exec', 'bare', '--', 'cat', '/etc/resolv.conf');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(r.stdout + '\n').toBe(fs.readFileSync('/etc/resolv.conf', 'utf8').replace(/\n*$/, '\n'));
    expect((await podwire('exec', 'bare', '--', 'hostname')).stdout).toBe('bare');
  });
});
