import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execa } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState, adminKubeconfigPath } from '../../src/lab/index.js';
import { applyClusterDns } from '../../src/lab/cluster-dns.js';
import { ApiClient } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// The real kubectl against a 2-node lab, for what the debugging toolbox
// needs besides streams (issue 13, item 4, and the debug images of item 3):
// ReplicaSets under Deployments (get rs, rollout history/undo/status),
// get -w keeping every column, explain, get all, top pod/node (the Metrics
// API from what the agents measure), and a nicolaka/netshoot pod with its
// tools on PATH. One lab for the file.
const prefix = testPrefix('kf');
let state: LabState;
let client: ApiClient;

const kubectl = (args: string[], timeout = 60_000) => {
  const cp = state.plan.controlPlane;
  return execa('ip', ['netns', 'exec', cp.ns, 'kubectl', '--kubeconfig', adminKubeconfigPath(state.plan), ...args], {
    reject: false,
    timeout,
  });
};
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], {
    reject: false,
    timeout: 30_000,
    env: { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' },
  });
const ok = async (args: string[], timeout?: number) => {
  const r = await kubectl(args, timeout);
  expect(r.exitCode, `kubectl ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const rows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

beforeAll(async () => {
  requireRoot();
  const v = await execa('kubectl', ['version', '--client'], { reject: false });
  if (v.exitCode !== 0) throw new Error('kubectl is missing: .ci/run and scripts/setup install it');
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  await applyClusterDns(state, { ready: true });
  await ok(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=2']);
  await ok(['run', 'netshoot', '--image=nicolaka/netshoot', '--', 'sleep', '3600']);
  await ok(['rollout', 'status', 'deploy/web', '--timeout=60s'], 70_000);
  await ok(['wait', '--for=condition=Ready', 'pod/netshoot', '--timeout=60s'], 70_000);
}, 180_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
});

describe('kubectl fidelity', () => {
  it('get rs: the Deployment’s ReplicaSet with kubectl’s columns, its pods named after it', async () => {
    const out = await ok(['get', 'rs', '-l', 'app=web', '-o', 'wide']);
    const [head, row] = rows(out);
    expect(head).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(row[0]).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(row.slice(1, 4)).toEqual(['2', '2', '2']);
    expect(row.slice(5, 7)).toEqual(['nginx', 'nginx:1.25']);
    expect(row[7]).toBe(`app=web,pod-template-hash=${row[0].slice(4)}`);
    const pods = await ok(['get', 'pods', '-l', 'app=web', '-o', 'name']);
    expect(pods.trim().split('\n')).toHaveLength(2);
    for (const p of pods.trim().split('\n')) expect(p).toMatch(new RegExp(`^pod/${row[0]}-[a-z0-9]{5}$`));
  });

  it('rollout: set image, history, undo brings the old image back through the old ReplicaSet', async () => {
    await ok(['set', 'image', 'deploy/web', 'nginx=nginx:1.26']);
    expect(await ok(['rollout', 'status', 'deploy/web', '--timeout=60s'], 70_000)).toContain(
      'deployment "web" successfully rolled out',
    );
    expect(rows(await ok(['rollout', 'history', 'deploy/web'])).slice(1)).toEqual([
      ['REVISION', 'CHANGE-CAUSE'],
      ['1', '<none>'],
      ['2', '<none>'],
    ]);
    const before = rows(await ok(['get', 'rs', '-l', 'app=web', '--no-headers']));
    expect(before).toHaveLength(2);
    expect(await ok(['rollout', 'undo', 'deploy/web'])).toContain('deployment.apps/web rolled back');
    await ok(['rollout', 'status', 'deploy/web', '--timeout=60s'], 70_000);
    const d = await client.get('deployments', 'default', 'web');
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.25');
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    const after = rows(await ok(['get', 'rs', '-l', 'app=web', '-o', 'wide', '--no-headers']));
    expect(after).toHaveLength(2); // the old ReplicaSet is the new one again, no third
    const byImage = Object.fromEntries(after.map((r) => [r[6], r[1]]));
    expect(byImage).toEqual({ 'nginx:1.25': '2', 'nginx:1.26': '0' });
    await waitFor('the pods run 1.25 again', 30_000, async () => {
      const pods = (await client.list('pods', { namespace: 'default', labelSelector: 'app=web' })).items;
      const live = pods.filter((p) => !p.metadata.deletionTimestamp);
      return live.length === 2 && live.every((p) => p.spec.containers[0].image === 'nginx:1.25');
    });
    expect(rows(await ok(['rollout', 'history', 'deploy/web'])).slice(2)).toEqual([
      ['2', '<none>'],
      ['3', '<none>'],
    ]);
  }, 120_000);

  it('get -w prints every column for a change', async () => {
    const cp = state.plan.controlPlane;
    const w = execa(
      'ip',
      [
        'netns',
        'exec',
        cp.ns,
        'kubectl',
        '--kubeconfig',
        adminKubeconfigPath(state.plan),
        'get',
        'deploy',
        'web',
        '-w',
      ],
      {
        reject: false,
        timeout: 60_000,
      },
    );
    let text = '';
    w.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    try {
      await waitFor('the first table', 15_000, async () => text.includes('\n'));
      await ok(['scale', 'deploy/web', '--replicas=3']);
      await waitFor('a 3/3 row', 45_000, async () => /\nweb\s+3\/3\s/.test(text));
    } finally {
      w.kill();
    }
    const lines = rows(text);
    expect(lines[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines.slice(1)) {
      expect(l).toHaveLength(5);
      expect(l[0]).toBe('web');
      expect(l[1]).toMatch(/^\d\/3$|^2\/2$/);
    }
  }, 70_000);

  it('explain pods.spec.containers: the Container schema with its fields and descriptions', async () => {
    const out = await ok(['explain', 'pods.spec.containers']);
    expect(out).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n\nFIELD: containers <\[\]Container>/);
    expect(out).toContain('List of containers belonging to the pod.');
    expect(out).toMatch(/\n {2}image\t<string>\n {4}Container image name\./);
    expect(out).toMatch(/\n {2}name\t<string> -required-\n/);
    expect(await ok(['explain', 'rs.spec.replicas'])).toMatch(/GROUP:\s+apps\nKIND:\s+ReplicaSet/);
  });

  it('get all: pods, services, deployments, replicasets', async () => {
    const out = await ok(['get', 'all']);
    expect(out).toMatch(/^NAME\s+READY\s+STATUS/);
    expect(out).toContain('pod/netshoot');
    expect(out).toContain('service/kubernetes');
    expect(out).toMatch(/deployment\.apps\/web\s+3\/3/);
    expect(out).toMatch(/replicaset\.apps\/web-\w+\s+3\s+3\s+3/);
  });

  it('top pod and top node: the Metrics API from what the agents measure', async () => {
    const nodes = rows(await ok(['top', 'node']));
    expect(nodes[0]).toEqual(['NAME', 'CPU(cores)', 'CPU%', 'MEMORY(bytes)', 'MEMORY%']);
    expect(nodes.slice(1).map((r) => r[0])).toEqual(['node1', 'node2']);
    for (const r of nodes.slice(1)) {
      expect(r[1]).toMatch(/^\d+m$/);
      expect(r[3]).toMatch(/^[1-9]\d*Mi$/); // the agent and CoreDNS at least
    }
    const pods = rows(await ok(['top', 'pod', '-n', 'kube-system', '--containers']));
    expect(pods[0]).toEqual(['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    expect(pods.slice(1).map((r) => r[1])).toEqual(['coredns', 'coredns']);
    for (const r of pods.slice(1)) expect(r[3]).toMatch(/^[1-9]\d*Mi$/);
    const web = rows(await ok(['top', 'pod', '-l', 'app=web']));
    expect(web.length).toBe(4); // header and 3 pods
  });

  it('a nicolaka/netshoot pod has its tools: dig, nslookup, nmap, jq, nc, tcpdump, iperf3, ss, ip', async () => {
    expect((await ok(['exec', 'netshoot', '--', 'dig', '+short', 'kubernetes.default.svc.cluster.local'])).trim()).toBe(
      '10.96.0.1',
    );
    const ns = await ok(['exec', 'netshoot', '--', 'nslookup', 'kubernetes']);
    expect(ns).toMatch(/Name:\s+kubernetes\.default\.svc\.cluster\.local\nAddress: 10\.96\.0\.1/);
    expect(await ok(['exec', 'netshoot', '--', 'nmap', '-h'])).toMatch(/^Nmap \d/);
    expect((await ok(['exec', 'netshoot', '--', 'sh', '-c', 'echo \'{"a":[1,2]}\' | jq -c .a'])).trim()).toBe('[1,2]');
    const which = await ok([
      'exec',
      'netshoot',
      '--',
      'sh',
      '-c',
      'for t in nc tcpdump iperf3 ss ip host curl wget; do command -v $t; done',
    ]);
    expect(which.trim().split('\n')).toHaveLength(8);
  });

  it('podwire get -o jsonpath, -o custom-columns, --show-labels and describe deploy against the same API server', async () => {
    // four CLI processes at once (each pays node's start-up)
    const [names, cols, described, labels] = await Promise.all([
      podwire('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.containers[0].image}'),
      podwire(
        'get',
        'rs',
        '-l',
        'app=web',
        '-o',
        "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,REV:.metadata.annotations['deployment.kubernetes.io/revision']",
      ),
      podwire('describe', 'deploy', 'web'),
      podwire('get', 'pod', 'netshoot', '--show-labels'),
    ]);
    expect(names.exitCode, names.stderr).toBe(0);
    expect(names.stdout.split(' ')).toEqual(['nginx:1.25', 'nginx:1.25', 'nginx:1.25']);
    expect(cols.exitCode, cols.stderr).toBe(0);
    const table = rows(cols.stdout);
    expect(table[0]).toEqual(['NAME', 'REPLICAS', 'REV']);
    expect(
      table
        .slice(1)
        .map((r) => r.slice(1))
        .sort(),
    ).toEqual([
      ['0', '2'],
      ['3', '3'],
    ]);
    expect(described.exitCode, described.stderr).toBe(0);
    expect(described.stdout).toMatch(
      /\nOldReplicaSets:\s+web-\w+ \(0\/0 replicas created\)\nNewReplicaSet:\s+web-\w+ \(3\/3 replicas created\)\n/,
    );
    expect(labels.exitCode, labels.stderr).toBe(0);
    expect(rows(labels.stdout)[1].at(-1)).toBe('run=netshoot');
  });
});
