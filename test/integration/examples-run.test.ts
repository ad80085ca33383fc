import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import { applyClusterDns } from '../../src/lab/cluster-dns.js';
import { applyIngressAddon } from '../../src/lab/cluster-ingress.js';
import { applyDemo } from '../../src/lab/demo.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { makeSelfSigned } from '../../src/ingress/controller/fake-cert.js';
import { EXAMPLES, runExample, EXAMPLE_LABEL } from '../../src/examples/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// Issue #13 item 5: the articles' manifests run end to end with
// `podwire example run`, in a 2-node lab with the demo app (default:
// frontend/backend/database, client). Every example passes the API server's
// dry run; a representative set runs for real — a Service (traffic through
// its ClusterIP), a NetworkPolicy (the probe's packets blocked), the Ingress
// (https through the controller) and the multi-container pod — beside the
// demo app, and `podwire example delete` leaves nothing labelled behind
// while the demo app still answers.
const prefix = testPrefix('exr');
const examplesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
let state: LabState;
let client: ApiClient;
let ingressIp = '';
const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 150_000, all: true });
const RUN = ['000-service-clusterip', '000-networkpolicy-default-deny-all', '000-ingress', '003-multi-container-pod'];
const runs: Record<string, string> = {};
/** the multi-container pod's delete, started early: its busybox shell ignores SIGTERM, so it takes the grace period */
let multiContainerDelete: ReturnType<typeof podwire> | undefined;

/** Every object carrying the example label, cluster-wide, as kind/namespace/name. */
async function labelled(): Promise<string[]> {
  const out: string[] = [];
  for (const r of [
    'namespaces',
    'pods',
    'services',
    'secrets',
    'deployments',
    'replicasets',
    'statefulsets',
    'networkpolicies',
    'ingresses',
  ]) {
    const { items } = await client.list(r, { labelSelector: EXAMPLE_LABEL });
    out.push(...items.map((o) => `${r}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
  }
  return out.sort();
}

const ready = (p: KubeObject) =>
  p.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  const [, ingress] = await Promise.all([
    applyClusterDns(state, { ready: true }),
    applyIngressAddon(state, { ready: true }),
  ]);
  ingressIp = ingress.externalIp ?? '';
  await applyDemo(state, () => {});
}, 150_000);

afterAll(async () => {
  client?.close();
  if (state) await stopLab(prefix);
}, 60_000);

describe('podwire example run|delete', () => {
  it('every example passes the API server’s dry run, and a dry run makes nothing', async () => {
    const io = {
      client,
      examplesDir,
      makeTlsPair: (cn: string, hosts: string[]) => makeSelfSigned(cn, hosts),
      log: () => {},
    };
    const dry = await Promise.all(EXAMPLES.map((e) => runExample(e, io, { dryRun: true })));
    dry.forEach((r, i) => {
      expect(r.lines.length, EXAMPLES[i].name).toBeGreaterThan(1);
      expect(
        r.lines.filter((l) => !l.endsWith('created (server dry run)')),
        EXAMPLES[i].name,
      ).toEqual([]);
    });
    const cli = await podwire('example', 'run', '000-service-nodeport', '--dry-run');
    expect(cli.exitCode, cli.all).toBe(0);
    expect(cli.stdout).toBe(
      [
        'namespace/ex-000-nodeport created (server dry run)',
        'deployment.apps/web created (server dry run)',
        'service/web created (server dry run)',
      ].join('\n'),
    );
    expect(await labelled()).toEqual([]);
  }, 60_000);

  it('a Service, a NetworkPolicy, the Ingress and the multi-container pod run side by side with the demo app', async () => {
    const results = await Promise.all(RUN.map((n) => podwire('example', 'run', n, '--timeout', '90')));
    results.forEach((r, i) => {
      expect(r.exitCode, `${RUN[i]}: ${r.all}`).toBe(0);
      runs[RUN[i]] = r.stdout;
    });
    expect(runs['000-service-clusterip']).toMatch(/^namespace\/ex-000-clusterip created\n/);
    expect(runs['000-service-clusterip']).toContain('\nservice/backend created\n');
    expect(runs['000-ingress']).toContain('\nsecret/app-tls-cert created\n');
    for (const n of RUN) expect(runs[n]).toMatch(/ is running\. Try:\n/);
  }, 120_000);

  it('000-service-clusterip: the hint’s ClusterIP answers from the example’s client, from a backend pod', async () => {
    const hint = /^ {2}(podwire --lab \S+ exec -n ex-000-clusterip client -- curl -s (10\.96\.\d+\.\d+)\/)\s+#/m.exec(
      runs['000-service-clusterip'],
    );
    expect(hint, runs['000-service-clusterip']).not.toBeNull();
    const svc = await client.get('services', 'ex-000-clusterip', 'backend');
    expect(hint![2]).toBe(svc.spec.clusterIP);
    const r = await podwire('exec', '-n', 'ex-000-clusterip', 'client', '--', 'curl', '-sS', '-m', '5', `${hint![2]}/`);
    expect(r.stdout).toMatch(/^nginx on pod ex-000-clusterip\/backend-[a-z0-9]+-[a-z0-9]+ \(10\.244\.\d+\.\d+:8080,/);
  }, 30_000);

  it('000-networkpolicy-default-deny-all: the probe’s packets between production’s pods are all blocked', async () => {
    const r = await podwire('probe', '-n', 'production', '--ports', '8080', '--protocols', 'tcp', '-o', 'json');
    expect(r.exitCode, r.all).toBe(0);
    const m = JSON.parse(r.stdout);
    const cells = m.tables[0].rows.flat().filter((c: any) => c.from !== c.to);
    expect(cells).toHaveLength(12);
    for (const c of cells) {
      expect(c.expected, `${c.from} → ${c.to}`).toBe('blocked');
      expect(['blocked', 'unreachable']).toContain(c.observed);
    }
    expect(runs['000-networkpolicy-default-deny-all']).toContain('podwire --lab');
  }, 60_000);

  it('000-ingress-tls-path-routing: https through the controller reaches api-service and frontend-service', async () => {
    const curl = (p: string) =>
      inNs(state.plan.outside.client.ns, [
        'curl',
        '-sSk',
        '--max-time',
        '5',
        '--resolve',
        `app.example.com:443:${ingressIp}`,
        `https://app.example.com${p}`,
      ]);
    let body = '';
    await waitFor(
      'the Ingress to route /api',
      20_000,
      async () => {
        body = String((await curl('/api')).stdout);
        return body.startsWith('nginx on pod ex-000-ingress/api-service-');
      },
      250,
    ).catch(() => expect(body).toMatch(/^nginx on pod ex-000-ingress\/api-service-/));
    expect(String((await curl('/about')).stdout)).toMatch(/^nginx on pod ex-000-ingress\/frontend-service-/);
    expect(runs['000-ingress']).toContain(`--resolve app.example.com:443:${ingressIp} https://app.example.com/api`);
  }, 40_000);

  it('003-multi-container-pod: the sidecar fetches nginx on localhost:80', async () => {
    let logs = '';
    await waitFor(
      'a fetch in the sidecar’s log',
      20_000,
      async () => {
        logs = (await podwire('logs', '-n', 'ex-003-multi-container', 'multi-container-pod', '-c', 'sidecar')).stdout;
        return logs.includes('nginx on pod ex-003-multi-container/multi-container-pod');
      },
      500,
    ).catch(() => expect(logs).toContain('nginx on pod ex-003-multi-container/multi-container-pod'));
    multiContainerDelete = podwire('example', 'delete', '003-multi-container-pod');
  }, 30_000);

  it('a companion shared by two policy examples stays until the second is deleted', async () => {
    const r = await podwire('example', 'run', '000-networkpolicy-allow', '--timeout', '60');
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(
      'pod/web shared (used by 000-networkpolicy-default-deny-all, 000-networkpolicy-allow-web-to-api-and-dns-egress)',
    );
    const d = await podwire('example', 'delete', '000-networkpolicy-default-deny-all');
    expect(d.exitCode, d.all).toBe(0);
    expect(d.stdout).toContain('networkpolicy.networking.k8s.io/default-deny-all deleted');
    expect(d.stdout).toContain(
      'namespace/production kept (still used by 000-networkpolicy-allow-web-to-api-and-dns-egress)',
    );
    expect((await client.list('pods', { namespace: 'production' })).items.map((p) => p.metadata.name).sort()).toEqual([
      'api',
      'backend',
      'frontend',
      'web',
    ]);
  }, 90_000);

  it('delete leaves nothing labelled behind, and the demo app still answers', async () => {
    // something of the learner's in one of the namespaces a run made: that namespace stays
    await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'mine', namespace: 'ex-000-clusterip' },
    });
    const names = ['000-service-clusterip', '000-networkpolicy-allow', '000-ingress', '003-multi-container-pod'];
    const deleted = await Promise.all(
      names.map((n) =>
        n === '003-multi-container-pod' && multiContainerDelete
          ? multiContainerDelete
          : podwire('example', 'delete', n),
      ),
    );
    deleted.forEach((d, i) => {
      expect(d.exitCode, `${names[i]}: ${d.all}`).toBe(0);
      expect(d.stdout).not.toContain('warning');
    });
    expect(deleted[0].stdout).toContain(
      'namespace/ex-000-clusterip kept: it holds configmap/mine (not made by podwire example)',
    );
    expect(deleted[1].stdout).toContain('namespace/production deleted');
    expect(await client.tryGet('namespaces', undefined, 'ex-000-clusterip')).not.toBeNull();
    await client.delete('namespaces', undefined, 'ex-000-clusterip');
    await waitFor('no labelled object', 30_000, async () => (await labelled()).length === 0, 500).catch(async () =>
      expect(await labelled()).toEqual([]),
    );
    const ns = (await client.list('namespaces')).items.map((n) => n.metadata.name);
    expect(ns.filter((n) => n.startsWith('ex-') || n === 'production')).toEqual([]);
    const again = await podwire('example', 'delete', '000-service-clusterip');
    expect(again.stdout).toBe('nothing of 000-service-clusterip to delete (not run, or already deleted)');
    const demo = (await client.list('pods', { namespace: 'default' })).items;
    expect(demo.length).toBeGreaterThanOrEqual(8);
    expect(demo.filter((p) => !ready(p)).map((p) => p.metadata.name)).toEqual([]);
    const r = await podwire('exec', 'client', '--', 'curl', '-sS', '-m', '5', 'backend:8080/');
    expect(r.stdout).toMatch(/^nginx on pod default\/backend-/);
  }, 90_000);
});
