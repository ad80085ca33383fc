import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { execa } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import { applyClusterDns } from '../../src/lab/cluster-dns.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { callAgent } from '../../src/agent/control-server.js';
import { agentSocketPath } from '../../src/agent/agent.js';
import { execaRunner } from '../../src/host/index.js';
import { formatMatrix, probe, probeTopology, LEGEND } from '../../src/probe/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// podwire probe on a real 2-node lab with cluster DNS: cyclonus's topology
// cut to namespaces x, y × pods a, b (each serving TCP and UDP on 80 and 81,
// a Service s-<ns>-<pod> each). With no policy every cell connects, by pod
// IP, by ClusterIP and by name; with a deny-all-ingress policy in x the
// cells into x are blocked, as the model expects; probing port 82, where
// nothing listens, the model still expects "allowed" where no policy stands
// in the way, and the pods answer "refused": reported as mismatches, exit 1.
const prefix = testPrefix('prb');
const PODS = ['x/a', 'x/b', 'y/a', 'y/b'];
let state: LabState;
let api: ApiClient;

const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000 });
const ready = (p: KubeObject) =>
  p.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

/** One table as probe prints it, from a rule for each cell. */
function tableText(name: string, mark: (from: string, to: string) => string): string {
  const pad = (s: string, w: number) => s.padEnd(w + 3);
  const w0 = Math.max(name.length, 3);
  return [
    `${pad(name, w0)}${PODS.map((p, i) => (i === PODS.length - 1 ? p : pad(p, 3))).join('')}`,
    ...PODS.map(
      (from) =>
        `${pad(from, w0)}${PODS.map((to, i) => (i === PODS.length - 1 ? mark(from, to) : pad(mark(from, to), 3))).join('')}`,
    ),
  ].join('\n');
}

/** Each agent's Service table has one usable backend for every s-<ns>-<pod>. */
async function servicesUsable(): Promise<boolean> {
  for (const n of state.plan.nodes) {
    for (const key of ['x/s-x-a', 'x/s-x-b', 'y/s-y-a', 'y/s-y-b']) {
      const r = await callAgent(
        agentSocketPath(n.stateDir),
        'GET',
        `/lb/service?name=${encodeURIComponent(key)}`,
      ).catch(() => null);
      const svc = (r?.body?.services ?? []).find((s: { service: string }) => s.service === key);
      const fes = svc?.frontends ?? [];
      if (
        fes.length !== 4 ||
        !fes.every((f: { backends: { usable: boolean }[] }) => f.backends.filter((b) => b.usable).length === 1)
      )
        return false;
    }
  }
  return true;
}

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: false });
  api = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  for (const o of probeTopology({ namespaces: ['x', 'y'], pods: ['a', 'b'] })) await api.create(o);
  await applyClusterDns(state, { ready: true }); // for --to service-name
  await waitFor('pods x/a x/b y/a y/b Ready', 30_000, async () => {
    const pods = (await api.list('pods')).items.filter((p) => p.metadata.namespace !== 'kube-system');
    return pods.length === 4 && pods.every(ready);
  });
  await waitFor('every agent to balance each pod’s Service to it', 30_000, servicesUsable);
}, 120_000);

afterAll(async () => {
  api?.close();
  if (state) await stopLab(prefix);
}, 60_000);

describe('podwire probe', () => {
  it('no policy: every cell connected, as expected — by pod IP, by Service ClusterIP, by Service name', async () => {
    const r = await podwire('probe', '-o', 'json');
    expect(r.exitCode, `${r.stdout}${r.stderr}`).toBe(0);
    const m = JSON.parse(String(r.stdout));
    expect(m.pods.map((p: { pod: string }) => p.pod)).toEqual(PODS);
    expect(new Set(m.pods.map((p: { node: string }) => p.node))).toEqual(new Set(['node1', 'node2']));
    expect(m.tables.map((t: { name: string }) => t.name)).toEqual(['TCP/80', 'TCP/81', 'UDP/80', 'UDP/81']);
    const cells = m.tables.flatMap((t: { rows: unknown[][] }) => t.rows.flat());
    expect(cells).toHaveLength(64);
    for (const c of cells)
      expect(c, JSON.stringify(c)).toMatchObject({ expected: 'allowed', observed: 'connected', mark: '.' });

    // through each pod's Service (in-process: the same code without a CLI start per run)
    for (const [to, words] of [
      ['service-ip', 'Service ClusterIP'],
      ['service-name', 'Service name'],
    ] as const) {
      const s = await probe(
        { api, state, runner: execaRunner() },
        { ports: [80], protocols: ['tcp', 'udp'], to, timeoutMs: 1000, parallel: 3 },
      );
      const text = formatMatrix(s);
      expect(text).toContain(`${tableText('UDP/80', () => '.')}\n`);
      expect(text).toContain(`targets by ${words}:\n`);
      expect(text).toMatch(
        to === 'service-ip'
          ? /\n {2}y\/b {3}y\/s-y-b 10\.96\.\d+\.\d+:80 +y\/s-y-b 10\.96\.\d+\.\d+:80\n/
          : /\n {2}y\/b {3}s-y-b\.y\.svc\.cluster\.local:80 +s-y-b\.y\.svc\.cluster\.local:80\n/,
      );
      expect(text.split('\n').at(-1), text).toBe('32/32 correct, 0 wrong');
    }
  }, 60_000);

  it('deny-all ingress in x: the cells into x are blocked, and that is what the model expects', async () => {
    await api.create({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-all', namespace: 'x' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    await waitFor('every agent to enforce x/deny-all', 10_000, async () => {
      for (const n of state.plan.nodes) {
        const r = await callAgent(agentSocketPath(n.stateDir), 'GET', '/policy').catch(() => null);
        if (!r?.body?.policies?.some((p: { name: string }) => p.name === 'x/deny-all')) return false;
      }
      return true;
    });
    const intoX = (from: string, to: string) => (to.startsWith('x/') && from !== to ? 'X' : '.');
    const t = await podwire('probe', '--ports', '80', '--protocols', 'udp');
    expect(t.exitCode, String(t.stdout)).toBe(0);
    expect(String(t.stdout)).toBe(`${tableText('UDP/80', intoX)}\n\n${LEGEND}\n16/16 correct, 0 wrong`); // (execa strips the last newline)

    const m = await probe(
      { api, state, runner: execaRunner() },
      { ports: [80], protocols: ['tcp'], to: 'pods', timeoutMs: 1000, parallel: 3 },
    );
    expect(m.summary).toEqual({ cells: 16, compared: 16, correct: 16, wrong: 0, notProbed: 0, noTarget: 0 });
    const yaToXb = m.tables[0].rows[2][1];
    expect(yaToXb).toMatchObject({
      from: 'y/a',
      to: 'x/b',
      expected: 'blocked',
      observed: 'blocked',
      detail: 'no answer in 1000 ms',
      mark: 'X',
    });
    expect(yaToXb.why).toMatch(
      /^ingress to x\/b \([\d.]+\) from y\/a \([\d.]+\) TCP\/80 denied: isolated by x\/deny-all; no rule allowed it$/,
    );
  }, 60_000);

  it('a port nothing serves: blocked into x as expected, refused elsewhere against "allowed" — mismatches, exit 1; SCTP said once', async () => {
    const r = await podwire('probe', '--ports', '82', '--protocols', 'tcp,sctp');
    expect(r.exitCode, String(r.stdout)).toBe(1);
    const out = String(r.stdout);
    const mark = (from: string, to: string) => (to.startsWith('x/') && from !== to ? 'X' : '!');
    const sctp = fs.existsSync('/proc/net/sctp')
      ? 'the kernel has SCTP, but the prober cannot open SCTP sockets (Node has none)'
      : 'the kernel has no SCTP (no /proc/net/sctp)';
    expect(
      out.startsWith(
        `SCTP: not probed: ${sctp}\n\n${tableText('TCP/82', mark)}\n\n${LEGEND}\n6/16 correct, 10 wrong\nwrong:\n`,
      ),
    ).toBe(true);
    expect(out).toMatch(
      /\n {2}y\/a -> y\/b TCP\/82: expected allowed, observed refused: connection refused \(\d+ ms\)\n {6}model: egress from y\/a \([\d.]+\) to y\/b \([\d.]+\) TCP\/82 allowed: no policy isolates it for egress; ingress to y\/b/,
    );
    expect(out).toMatch(
      /\n {2}x\/a -> x\/a TCP\/82: expected allowed, observed refused: connection refused \(\d+ ms\)\n {6}model: a pod to itself: the traffic never leaves the pod\n/,
    );
    expect(out.match(/observed refused/g)).toHaveLength(10);
  }, 60_000);
});
