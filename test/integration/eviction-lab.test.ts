import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { readLabState, restartApiServer, waitFor, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, execa } from './helpers.js';

// Node failure on a workshop's clock (#15): `lab up --eviction-seconds 5`
// gives the API server --default-not-ready-toleration-seconds 5 and
// --default-unreachable-toleration-seconds 5 (kept across its restarts), so
// every pod tolerates a lost node for 5 s instead of 300. `lab break
// node-down` on a node holding a Deployment's replica: the node goes
// NotReady after its 10 s grace, is tainted, the replica is evicted 5 s
// later (TaintManagerEviction) and replaced on the other node; `lab fix`
// brings the node back Ready.
const prefix = testPrefix('evict');
const env = { ...process.env, PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 240_000 });
let state: LabState;
let client: ApiClient;

const running = (p: KubeObject) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp;
const appPods = async () => (await client.list('pods', { namespace: 'default', labelSelector: 'app=evictee' })).items;
const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
const flagOf = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

beforeAll(async () => {
  requireRoot();
  const up = await podwire(
    'lab',
    'up',
    '--nodes',
    '2',
    '--eviction-seconds',
    '5',
    '--no-outside',
    '--no-dns',
    '--no-ingress',
    '--no-supervisor',
  );
  expect(up.exitCode, `${up.stdout}\n${up.stderr}`).toBe(0);
  state = readLabState(prefix, STATE_ROOT)!;
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
}, 240_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
}, 60_000);

describe('lab up --eviction-seconds', () => {
  it('sets both DefaultTolerationSeconds flags, kept in the lab’s state and across an API server restart', async () => {
    expect(state.evictionSeconds).toBe(5);
    const flags = (pid: number) => {
      const argv = cmdline(pid);
      return ['--default-not-ready-toleration-seconds', '--default-unreachable-toleration-seconds'].map(
        (f) => `${f}=${flagOf(argv, f)}`,
      );
    };
    const want = ['--default-not-ready-toleration-seconds=5', '--default-unreachable-toleration-seconds=5'];
    expect(flags(state.apiserver!)).toEqual(want);
    expect(flags(await restartApiServer({ prefix, stateRoot: STATE_ROOT }))).toEqual(want);
    expect((await podwire('lab', 'status')).stdout).toContain('pods evicted from a lost node after 5 s');
    const bad = await podwire('lab', 'up', '--eviction-seconds', 'soon');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('--eviction-seconds must be a whole number of seconds');
  });

  it('node-down on a node with a replica: evicted after 5 s, replaced on the other node; lab fix brings the node back Ready', async () => {
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'evictee', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'evictee' } },
        template: {
          metadata: { labels: { app: 'evictee' } },
          spec: { containers: [{ name: 'box', image: 'curlimages/curl', command: ['sleep', '3600'] }] },
        },
      },
    });
    await waitFor('both replicas Running', 90_000, async () => (await appPods()).filter(running).length === 2);
    const pods = await appPods();
    // every pod got the lab's 5 s, not Kubernetes' 300
    for (const p of pods)
      expect(
        p.spec.tolerations
          .filter((t: { key: string }) => t.key.startsWith('node.kubernetes.io/'))
          .map((t: { key: string; tolerationSeconds: number }) => `${t.key}=${t.tolerationSeconds}`),
      ).toEqual(['node.kubernetes.io/not-ready=5', 'node.kubernetes.io/unreachable=5']);
    const victimNode = pods[0].spec.nodeName as string;
    const other = state.plan.nodes.map((n) => n.name).find((n) => n !== victimNode)!;
    const victims = new Set(pods.filter((p) => p.spec.nodeName === victimNode).map((p) => p.metadata.name));

    const t0 = Date.now();
    const broke = await podwire('lab', 'break', 'node-down', victimNode);
    expect(broke.exitCode, broke.stderr).toBe(0);
    // back to two Running replicas, both on the node that is left
    await waitFor('the Deployment back to 2 Running replicas on the other node', 60_000, async () => {
      const live = (await appPods()).filter(running);
      return live.length === 2 && live.every((p) => p.spec.nodeName === other);
    });
    const replacedMs = Date.now() - t0;
    console.log(`node-down ${victimNode}: both replicas Running on ${other} ${(replacedMs / 1000).toFixed(1)} s later`);
    // about 10 s of grace before the taint (heartbeats come every 2 s), then the 5 s toleration, then a new pod
    expect(replacedMs).toBeGreaterThanOrEqual(12_000);
    expect(replacedMs).toBeLessThan(45_000);
    // the eviction came the pods' 5 s after the taint (timestamps in whole seconds)
    const node = await client.get('nodes', undefined, victimNode);
    const taint = node.spec.taints.find(
      (t: { key: string; effect: string }) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
    );
    expect(taint).toBeDefined();
    const evictions = (await client.list('events', { namespace: 'default' })).items.filter(
      (e) => e.reason === 'TaintManagerEviction' && victims.has(e.involvedObject?.name),
    );
    expect(evictions).toHaveLength(victims.size);
    for (const e of evictions) {
      const after = (Date.parse(e.firstTimestamp) - Date.parse(taint.timeAdded)) / 1000;
      expect(after).toBeGreaterThanOrEqual(4);
      expect(after).toBeLessThanOrEqual(8);
    }
    const events = await podwire('get', 'events');
    expect(events.exitCode, events.stderr).toBe(0);
    for (const name of victims)
      expect(events.stdout).toMatch(
        new RegExp(`TaintManagerEviction\\s+pod/${name}\\s+Marking for deletion Pod default/${name}`),
      );

    const fixed = await podwire('lab', 'fix');
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    await waitFor(`${victimNode} Ready and untainted`, 30_000, async () => {
      const n = await client.get('nodes', undefined, victimNode);
      const ready = n.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
      return ready && !(n.spec.taints ?? []).some((t: { key: string }) => t.key.startsWith('node.kubernetes.io/'));
    });
    // its agent finishes the evicted pods, which were Terminating while it was away
    await waitFor('the evicted pods gone', 30_000, async () =>
      (await appPods()).every((p) => !victims.has(p.metadata.name)),
    );
  });
});
