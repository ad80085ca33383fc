import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { planLab, topologyCommands, waitFor, type LabNode } from '../../src/lab/index.js';
import { controlPlaneCommands, nodeCommands } from '../../src/lab/plan.js';
import { execaRunner, listNetns, deleteNetnsWithPrefix, netnsPids, names } from '../../src/host/index.js';
import { STATE_ROOT, requireRoot, testPrefix, labProcesses as labProcessLines } from './helpers.js';

/** PIDs of processes whose command line names this lab's state directory (containers, agents). */
const labProcesses = (p: string): number[] => labProcessLines(p).map((l) => Number(l.split(' ')[0]));

// compose.yaml's cluster without a Docker engine. Each "container" is what
// Docker makes of a service: a network namespace whose only link is eth0 on
// a shared bridge (compose's `underlay` network, 172.28.0.0/24), plus a
// mount namespace of its own with a fresh tmpfs on /run/netns (compose's
// `tmpfs:`), its own /sys, and an /etc/hosts naming the services that are up
// (what Docker's DNS answers). In them run the entrypoints of containers/,
// unchanged, with compose.yaml's environment; only the state paths and the
// prefix are overridden so that this test collides with nothing. Then what a
// learner does with `docker compose exec` is done by entering the container's
// namespaces.

const root = fileURLToPath(new URL('../../', import.meta.url));
const prefix = testPrefix('ct');
const runner = execaRunner();
const plan = planLab({ prefix, nodes: 2, stateRoot: STATE_ROOT });
const SERVER = 'https://172.28.0.2:6443';
/** compose's `pki` volume: apiserver.sh makes the cluster's PKI and kubeconfigs there, the others read them */
const PKI = path.join(plan.stateDir, 'pki');
/** the second API server's (compose --profile etcd, a cluster of its own here) */
const PKI_ETCD = path.join(plan.stateDir, 'pki-etcd');
/** curl as the admin (kubernetes-admin, system:masters), trusting the cluster CA */
const adminCurl = (pki = PKI) => [
  'curl',
  '--cacert',
  path.join(pki, 'ca.crt'),
  '--cert',
  path.join(pki, 'admin.crt'),
  '--key',
  path.join(pki, 'admin.key'),
];

/** A service of compose.yaml played by namespaces. */
interface Box {
  service: string;
  ns: string;
  ip: string;
  log: string;
  pid?: number;
  /** the box's own mount namespace (`mnt:[…]`), once its entrypoint runs in it */
  mountNs?: string;
  exit?: Promise<number | null>;
}

const box = (service: string, ns: string, ip: string): Box => ({
  service,
  ns,
  ip,
  log: path.join(plan.stateDir, `${service}.log`),
});
const boxes: Record<string, Box> = {
  apiserver: box('apiserver', plan.controlPlane.ns, plan.controlPlane.ip),
  node1: box('node1', plan.nodes[0].ns, plan.nodes[0].ip),
  node2: box('node2', plan.nodes[1].ns, plan.nodes[1].ip),
  client: box('client', `${prefix}-client`, '172.28.0.100'),
  demo: box('demo', `${prefix}-demo`, '172.28.0.4'),
  // compose --profile etcd: etcd at its compose address, and a second API server that finds it
  etcd: box('etcd', `${prefix}-etcd`, '172.28.0.3'),
  apiserverEtcd: box('apiserver-etcd', `${prefix}-apiserver-etcd`, '172.28.0.5'),
};
/** compose.yaml's addresses for the extra "containers" on the underlay (nodes and the API server are the lab plan's) */
const extraOnUnderlay = (b: Box): LabNode => ({
  name: b.service,
  ns: b.ns,
  ip: b.ip,
  podCidr: '',
  underlayPort: names.underlayPort(b.ns),
  stateDir: '',
});

/** the boxes' /etc/hosts: a service's name resolves once it runs, as with Docker's DNS on a compose network */
const hostsFile = path.join(plan.stateDir, 'hosts');
const announce = (b: Box) => fs.appendFileSync(hostsFile, `${b.ip} ${b.service}\n`);

const logOf = (b: Box) => (fs.existsSync(b.log) ? fs.readFileSync(b.log, 'utf8') : '');
const hostMountNs = fs.readlinkSync('/proc/self/ns/mnt');
const mountNsOf = (pid: number) => {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
};

/**
 * `docker run` for a box: its namespace, a private mount namespace with a
 * tmpfs on /run/netns and a sysfs of its own, then `sh containers/<script>`
 * with the service's environment. PATH is the image's: `podwire` is a
 * symlink to bin/podwire.js, as the Dockerfile makes it.
 */
async function start(b: Box, script: string, env: Record<string, string>): Promise<void> {
  const fd = fs.openSync(b.log, 'a');
  announce(b);
  const container =
    'mount -t tmpfs -o mode=755 pwt-netns /run/netns && mount -t sysfs sysfs /sys && mount --bind "$0" /etc/hosts && exec "$@"';
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${b.ns}`,
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      container,
      hostsFile,
      'sh',
      path.join(root, 'containers', script),
    ],
    {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: '/',
      env: {
        PATH: `${path.join(plan.stateDir, 'bin')}:${path.dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
        HOME: '/root',
        PODWIRE_SERVER: SERVER,
        PODWIRE_PKI_DIR: PKI,
        PODWIRE_KUBECONFIG: path.join(PKI, 'admin.kubeconfig'),
        ...env,
      },
    },
  );
  fs.closeSync(fd);
  b.pid = child.pid!;
  b.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  // set up once its /etc/hosts is ours: the last mount before the entrypoint runs
  const hosts = fs.statSync(hostsFile);
  await waitFor(
    `${b.service} to be in its own mount namespace`,
    10_000,
    () => {
      const m = mountNsOf(b.pid!);
      if (m === null) throw new Error(`${b.service} exited:\n${logOf(b)}`);
      if (m === hostMountNs) return false;
      b.mountNs = m;
      const seen = fs.statSync(`/proc/${b.pid}/root/etc/hosts`, { throwIfNoEntry: false });
      return seen?.ino === hosts.ino && seen?.dev === hosts.dev;
    },
    20,
  );
}

async function logLine(b: Box, text: string, timeoutMs: number): Promise<void> {
  await waitFor(
    `"${text}" from ${b.service}`,
    timeoutMs,
    () => {
      if (logOf(b).includes(text)) return true;
      if (mountNsOf(b.pid!) === null) throw new Error(`${b.service} exited:\n${logOf(b)}`);
      return false;
    },
    100,
  );
}

/** `docker compose exec <service> …`: a command in the box's network and mount namespaces. */
function exec(b: Box, argv: string[], timeoutMs = 30_000) {
  return execa(
    'nsenter',
    [
      `--target=${b.pid}`,
      '--mount',
      '--net',
      '--',
      'env',
      `PODWIRE_SERVER=${SERVER}`,
      `PODWIRE_KUBECONFIG=${path.join(PKI, 'admin.kubeconfig')}`,
      `PATH=${path.join(plan.stateDir, 'bin')}:${path.dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
      ...argv,
    ],
    { reject: false, timeout: timeoutMs },
  );
}

/** GET on the API server from the client box (the learner's machine outside the cluster). */
async function api(pathname: string): Promise<any> {
  const r = await exec(boxes.client, [...adminCurl(), '-fsS', '--max-time', '5', `${SERVER}${pathname}`]);
  if (r.exitCode !== 0) throw new Error(`GET ${pathname}: ${r.stderr}`);
  return JSON.parse(String(r.stdout));
}
const ready = (o: any) => o?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

/** Everything this test started: the boxes' process groups, everything in their mount namespaces and in our network namespaces. */
async function teardown(): Promise<void> {
  const started = Object.values(boxes).filter((b) => b.pid);
  for (const b of started) {
    try {
      process.kill(-b.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const mountNss = new Set(started.map((b) => b.mountNs).filter(Boolean));
  const ours = async (): Promise<number[]> => {
    const pids = new Set<number>();
    for (const p of fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)) {
      const m = mountNsOf(p);
      if (m && mountNss.has(m)) pids.add(p);
    }
    for (const ns of await listNetns(runner, prefix)) for (const p of await netnsPids(runner, ns)) pids.add(p);
    // A pod's containers have mount namespaces of their own, and their pod
    // netns lives in the box's private /run/netns: found by their state dir
    // (the shim), and their workloads by the shim's process group.
    const groups = new Set(labProcesses(prefix));
    for (const p of groups) pids.add(p);
    for (const p of fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number))
      if (groups.has(pgidOf(p))) pids.add(p);
    pids.delete(process.pid);
    return [...pids];
  };
  await waitFor('the boxes to stop on SIGTERM', 5_000, async () => (await ours()).length === 0).catch(() => {});
  await waitFor('every process of the boxes to be gone', 10_000, async () => {
    const left = await ours();
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    return left.length === 0;
  });
  await deleteNetnsWithPrefix(runner, prefix);
  fs.rmSync(plan.stateDir, { recursive: true, force: true });
}

beforeAll(async () => {
  requireRoot();
  fs.mkdirSync(path.join(plan.stateDir, 'bin'), { recursive: true });
  fs.symlinkSync(path.join(root, 'bin/podwire.js'), path.join(plan.stateDir, 'bin/podwire'));
  fs.writeFileSync(hostsFile, '127.0.0.1 localhost\n');
  // compose's underlay network, and one namespace per container with only eth0 on it
  const extras = [boxes.client, boxes.demo, boxes.etcd, boxes.apiserverEtcd].flatMap((b) =>
    nodeCommands(plan, extraOnUnderlay(b)),
  );
  for (const argv of [...topologyCommands(plan), ...controlPlaneCommands(plan), ...extras]) await runner.run(argv);
  // docker compose up, in compose.yaml's order: the API server, then nodes, client and demo
  await start(boxes.apiserver, 'apiserver.sh', {
    PODWIRE_STORE: path.join(plan.stateDir, 'store'),
    PODWIRE_NODES: 'node1 node2',
  });
  await logLine(boxes.apiserver, 'controllers running', 30_000);
  for (const n of ['node1', 'node2']) {
    await start(boxes[n], 'node.sh', {
      NODE_NAME: n,
      PODWIRE_PREFIX: prefix,
      PODWIRE_STATE_DIR: path.join(plan.stateDir, n),
    });
  }
  await start(boxes.client, 'client.sh', {});
  await start(boxes.demo, 'demo.sh', { PODWIRE_DEMO_NODES: '2', PODWIRE_DEMO_TIMEOUT: '150' });
}, 60_000);

/** A process's group (field 5 of /proc/<pid>/stat), or -1. */
function pgidOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return -1;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

let containerGroups = new Set<number>();
let leftInGroups: number[] = [];

afterAll(async () => {
  containerGroups = new Set(labProcesses(prefix));
  await teardown();
  const alive = () =>
    fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => containerGroups.has(pgidOf(p)) && !isZombie(p));
  // (SIGKILLed processes take a moment to leave /proc)
  await waitFor('the containers’ workloads to be gone', 10_000, () => alive().length === 0).catch(() => {});
  leftInGroups = alive();
  const left = await listNetns(runner, prefix);
  expect(left).toEqual([]);
  expect(labProcesses(prefix), 'processes left behind').toEqual([]);
  expect(leftInGroups.length, `workloads left behind: ${leftInGroups.join(' ')}`).toBe(0);
}, 60_000);

describe('the compose cluster, entrypoints run unchanged in netns containers', () => {
  it('the demo service waits for both nodes, applies the demo app, sees it Ready and exits 0', async () => {
    const code = await Promise.race([
      boxes.demo.exit!,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 200_000)),
    ]);
    const log = logOf(boxes.demo);
    expect(code, log).toBe(0);
    expect(log).toContain('node/node1 condition met');
    expect(log).toContain('node/node2 condition met');
    expect(log).toMatch(/service\/frontend created/);
    expect(log).toContain('demo: demo app ready');
  }, 210_000);

  it('nodes registered from eth0’s address, each with a pod CIDR the API server allocated, and Ready', async () => {
    const nodes = (await api('/api/v1/nodes')).items.sort((a: any, b: any) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
    expect(
      nodes.map((n: any) => [n.metadata.name, n.status.addresses.find((a: any) => a.type === 'InternalIP')?.address]),
    ).toEqual([
      ['node1', '172.28.0.11'],
      ['node2', '172.28.0.12'],
    ]);
    const cidrs = nodes.map((n: any) => n.spec.podCIDR);
    for (const c of cidrs) expect(c).toMatch(/^10\.244\.\d+\.0\/24$/);
    expect(new Set(cidrs).size).toBe(2);
    for (const n of nodes) expect(ready(n), n.metadata.name).toBe(true);
    for (const n of ['node1', 'node2']) expect(logOf(boxes[n])).toContain(`${n}: node IP ${boxes[n].ip}/24 on eth0`);
  });

  it('every demo pod is Ready, with an IP from its node’s pod CIDR', async () => {
    const nodes = (await api('/api/v1/nodes')).items;
    const cidrOf = (node: string) => nodes.find((n: any) => n.metadata.name === node).spec.podCIDR.replace('0/24', '');
    const pods = (await api('/api/v1/namespaces/default/pods')).items;
    expect(pods.length).toBe(1 + 3 + 2 + 2);
    for (const p of pods) {
      expect(ready(p), p.metadata.name).toBe(true);
      expect(
        p.status.podIP.startsWith(cidrOf(p.spec.nodeName)),
        `${p.metadata.name} ${p.status.podIP} on ${p.spec.nodeName}`,
      ).toBe(true);
    }
    expect(new Set(pods.map((p: any) => p.spec.nodeName))).toEqual(new Set(['node1', 'node2']));
  });

  it('a pod on node1 reaches a pod on node2 by IP over VXLAN, and `tcpdump -ni eth0 udp port 4789` in node1 sees it', async () => {
    const pods = (await api('/api/v1/namespaces/default/pods?labelSelector=tier%3Dfrontend')).items;
    const far = pods.find((p: any) => p.spec.nodeName === 'node2');
    expect(far, 'a frontend pod on node2').toBeDefined();
    // docker compose exec node1 tcpdump -ni eth0 udp port 4789
    const dump = execa(
      'nsenter',
      [
        `--target=${boxes.node1.pid}`,
        '--mount',
        '--net',
        '--',
        'tcpdump',
        '-ni',
        'eth0',
        '-c',
        '4',
        '-l',
        'udp',
        'port',
        '4789',
        'and',
        'dst',
        'host',
        boxes.node2.ip,
      ],
      { reject: false, timeout: 30_000 },
    );
    let heard = '';
    dump.stderr!.on('data', (d: Buffer) => (heard += d.toString()));
    await waitFor('tcpdump to listen', 10_000, () => heard.includes('listening on eth0'));
    // docker compose exec node1 ip netns exec <pod> curl … : the pod namespaces live in the node container
    const r = await exec(boxes.node1, [
      'ip',
      'netns',
      'exec',
      `${prefix}-pod-client`,
      'curl',
      '-s',
      '--max-time',
      '5',
      `http://${far.status.podIP}:3000/hostname`,
    ]);
    expect(r.stdout, String(r.stderr)).toBe(far.metadata.name);
    const d = await dump;
    expect(String(d.stdout)).toMatch(
      new RegExp(
        `IP ${boxes.node1.ip.replace(/\./g, '\\.')}\\.\\d+ > ${boxes.node2.ip.replace(/\./g, '\\.')}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni 1`,
      ),
    );
  });

  it('the cluster DNS add-on the demo applied answers from a pod: backend by name, and an outside name through the nodes’ resolver file', async () => {
    const coredns = (await api('/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns')).items;
    expect(coredns).toHaveLength(2);
    for (const p of coredns) expect(ready(p), p.metadata.name).toBe(true);
    const backend = await api('/api/v1/namespaces/default/services/backend');
    const r = await exec(boxes.node1, [
      'ip',
      'netns',
      'exec',
      `${prefix}-pod-client`,
      'dig',
      '+short',
      '+time=2',
      '@10.96.0.10',
      'backend.default.svc.cluster.local',
    ]);
    expect(String(r.stdout), String(r.stderr)).toBe(backend.spec.clusterIP);
    // CoreDNS (dnsPolicy Default) got node.sh's resolver file: www's DNS (not running in this test: the forward fails, nothing leaves)
    const conf = fs.readFileSync(path.join(plan.stateDir, 'node1', 'resolv.conf'), 'utf8');
    expect(conf).toBe('nameserver 172.28.0.200\n');
  });

  it('`podwire get pods -o wide` works inside a node, and the pods’ namespaces exist only inside the node containers', async () => {
    const r = await exec(boxes.node1, ['podwire', 'get', 'pods', '-o', 'wide']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const client = await api('/api/v1/namespaces/default/pods/client');
    expect(String(r.stdout)).toMatch(
      new RegExp(`^client\\s+1/1\\s+Running\\s+.*${client.status.podIP.replace(/\./g, '\\.')}\\s+node1`, 'm'),
    );
    // exec's WebSocket over HTTPS with the admin certificate, into a pod that got its ServiceAccount token from node1's agent (system:node:node1)
    const sa = await exec(boxes.node1, [
      'podwire',
      'exec',
      'client',
      '--',
      'cat',
      '/var/run/secrets/kubernetes.io/serviceaccount/namespace',
    ]);
    expect(String(sa.stdout), String(sa.stderr)).toBe('default');
    const inside = await exec(boxes.node1, ['ip', 'netns', 'list']);
    expect(String(inside.stdout)).toContain(`${prefix}-pod-client`);
    expect((await listNetns(runner, prefix)).filter((n) => n.includes('-pod-'))).toEqual([]);
  });

  it('the client, outside the cluster, reaches the API server but has no route into the pod network', async () => {
    await logLine(
      boxes.client,
      `client: ${boxes.client.ip}/24, outside the cluster: the API server at ${SERVER} answers`,
      10_000,
    );
    // health is open to anonymous clients (trusting the cluster CA); the API is not: 401
    const ca = ['--cacert', path.join(PKI, 'ca.crt')];
    const health = await exec(boxes.client, ['curl', '-fsS', ...ca, '--max-time', '5', `${SERVER}/healthz`]);
    expect(health.stdout).toBe('ok');
    const anonymous = await exec(boxes.client, [
      'curl',
      '-sS',
      ...ca,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `${SERVER}/api/v1/nodes`,
    ]);
    expect(String(anonymous.stdout)).toBe('401');
    const version = await api('/version');
    expect(version.gitVersion).toMatch(/podwire/);
    const client = await api('/api/v1/namespaces/default/pods/client');
    const r = await exec(boxes.client, ['curl', '-sS', '--max-time', '3', `http://${client.status.podIP}:3000/`]);
    expect(r.exitCode).not.toBe(0);
  });
});

describe('compose --profile etcd, entrypoints run unchanged in netns containers', () => {
  it('etcd.sh runs Debian’s etcd, and apiserver.sh, finding the etcd host, keeps its objects there', async () => {
    await start(boxes.etcd, 'etcd.sh', { PODWIRE_ETCD_DATA_DIR: path.join(plan.stateDir, 'etcd') });
    const etcdHost = 'etcd';
    // as on compose's network, the name resolves now that the service runs (apiserver.sh relies on it;
    // were it not so, it would fall back to the embedded store's default path)
    expect(
      String((await exec(boxes.etcd, ['getent', 'hosts', etcdHost])).stdout)
        .trim()
        .split(/\s+/),
    ).toEqual([boxes.etcd.ip, etcdHost]);
    await waitFor(
      'etcd to be healthy',
      30_000,
      async () => {
        const r = await exec(boxes.client, ['curl', '-fsS', '--max-time', '2', `http://${boxes.etcd.ip}:2379/health`]);
        if (mountNsOf(boxes.etcd.pid!) === null) throw new Error(`etcd exited:\n${logOf(boxes.etcd)}`);
        return r.exitCode === 0 && String(r.stdout).includes('"health":"true"');
      },
      250,
    );
    // no PODWIRE_STORE: `etcd` resolves, so the store is etcd://etcd:2379
    await start(boxes.apiserverEtcd, 'apiserver.sh', { PODWIRE_PKI_DIR: PKI_ETCD });
    await logLine(boxes.apiserverEtcd, 'controllers running', 30_000);
    expect(logOf(boxes.apiserverEtcd)).toContain(`apiserver: store etcd://${etcdHost}:2379`);
    expect(logOf(boxes.apiserverEtcd)).toContain(`(store: etcd etcd://${etcdHost}:2379;`);
    // the default namespace the API server bootstraps is a key in etcd now
    const ns = await exec(boxes.client, [
      ...adminCurl(PKI_ETCD),
      '-fsS',
      '--max-time',
      '5',
      `https://${boxes.apiserverEtcd.ip}:6443/api/v1/namespaces/default`,
    ]);
    expect(JSON.parse(String(ns.stdout)).metadata.name).toBe('default');
    const keys = await exec(boxes.client, [
      'curl',
      '-fsS',
      '--max-time',
      '5',
      '-X',
      'POST',
      `http://${boxes.etcd.ip}:2379/v3/kv/range`,
      '-d',
      JSON.stringify({
        key: Buffer.from('\0').toString('base64'),
        range_end: Buffer.from('\0').toString('base64'),
        keys_only: true,
      }),
    ]);
    const stored = (JSON.parse(String(keys.stdout)).kvs ?? []).map((kv: { key: string }) =>
      Buffer.from(kv.key, 'base64').toString(),
    );
    expect(
      stored.some((k: string) => k.includes('namespaces') && k.endsWith('default')),
      stored.join('\n'),
    ).toBe(true);
  });
});
