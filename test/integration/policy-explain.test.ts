import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { execa } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState, adminKubeconfigPath } from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// explain-policy and describe netpol against a real lab (2 nodes, control
// plane, no outside, no DNS): what explain-policy answers is what real
// traffic through the agents does, and describe netpol's kubectl part is
// the real kubectl's, byte for byte, before podwire's "Explained:".
const prefix = testPrefix('pex');
let state: LabState;
let api: ApiClient;
const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000 });
const podNs = (name: string) => `${prefix}-pod-${name}`;
const ready = (p: KubeObject) =>
  p.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

const OBJECTS = `
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  nodeName: node2
  containers: [{name: web, image: nginx, ports: [{containerPort: 8080, name: http}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {run: client}}
spec:
  nodeName: node1
  containers: [{name: shell, image: nicolaka/netshoot}]
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, labels: {tier: frontend}}
spec:
  nodeName: node1
  containers: [{name: shell, image: nicolaka/netshoot}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-frontend}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {tier: frontend}}}]
    ports: [{port: http}]
`;

/** curl from a pod to url: 0 when answered (3 s at most) */
const curl = async (pod: string, url: string) =>
  (await inNs(podNs(pod), ['curl', '-sS', '-o', '/dev/null', '--max-time', '3', url])).exitCode;

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: false });
  api = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  for (const d of parseAllDocuments(OBJECTS).map((x) => x.toJS())) await api.create(d);
  await waitFor('the three pods Ready', 60_000, async () => {
    const pods = (await api.list('pods', { namespace: 'default' })).items;
    return pods.length === 3 && pods.every(ready);
  });
}, 120_000);

afterAll(async () => {
  api?.close();
  await stopLab(prefix);
}, 60_000);

describe('podwire explain-policy on a real lab', () => {
  it('denied for the client, allowed for the frontend — and real traffic through the Service agrees', async () => {
    const ip = (await api.get('services', 'default', 'web')).spec.clusterIP as string;
    const denied = await podwire('explain-policy', 'client', 'svc/web:80');
    expect(denied.exitCode, denied.stderr).toBe(1);
    expect(denied.stdout).toMatch(
      /^default\/client \(10\.244\.1\.\d+, node1\) → svc default\/web \(10\.96\.\d+\.\d+\): judged after DNAT/,
    );
    expect(denied.stdout).toContain(
      'ingress at default/web-1: denied — isolated by default/allow-frontend; no rule allowed it\n',
    );
    expect(denied.stdout).toContain(
      'default/allow-frontend ingress[0]: from pods tier=frontend in namespace default on TCP port named "http" — the port matches, the peer does not\n',
    );
    expect(denied.stdout.trimEnd().split('\n').at(-1)).toBe('verdict: denied (0 of 1 ready backends)');

    const allowed = await podwire('explain-policy', 'frontend', 'svc/web:80', '-o', 'json');
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    const e = JSON.parse(allowed.stdout);
    expect(e.verdict).toBe('allowed');
    expect(e.ports[0].paths[0]).toMatchObject({
      backend: { name: 'web-1', node: 'node2' },
      port: 8080,
      ingress: { verdict: 'allowed', policy: 'default/allow-frontend', rule: 'ingress[0]' },
    });

    // the agents enforce what the model says (they apply a policy within a second of its arrival)
    await waitFor(
      'the frontend answered through the Service',
      15_000,
      async () => (await curl('frontend', `http://${ip}:80/`)) === 0,
    );
    expect(await curl('client', `http://${ip}:80/`)).not.toBe(0);
  });

  it('errors: an unknown pod, a pod port that does not exist', async () => {
    const r = await podwire('explain-policy', 'nobody', 'web-1:8080');
    expect([r.exitCode, r.stderr.trim()]).toEqual([1, 'error: pods "nobody" not found in namespace "default"']);
    const p = await podwire('explain-policy', 'client', 'web-1:metrics');
    expect([p.exitCode, p.stderr.trim()]).toEqual([
      1,
      'error: pod default/web-1 has no container port named "metrics"',
    ]);
  });
});

describe('podwire describe netpol on a real lab', () => {
  it('kubectl’s text byte for byte, then the Explained part', async () => {
    const cp = state.plan.controlPlane;
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pex-kube-'));
    try {
      const real = await execa(
        'ip',
        [
          'netns',
          'exec',
          cp.ns,
          'kubectl',
          '--kubeconfig',
          adminKubeconfigPath(state.plan),
          '--cache-dir',
          cache,
          'describe',
          'networkpolicy',
          'allow-frontend',
        ],
        { reject: false },
      );
      expect(real.exitCode, real.stderr).toBe(0);
      const ours = await podwire('describe', 'netpol', 'allow-frontend');
      expect(ours.exitCode, ours.stderr).toBe(0);
      const [kubectlPart, explained] = ours.stdout.split('\n\nExplained:\n');
      expect(kubectlPart).toBe(real.stdout);
      expect(`Explained:\n${explained}`).toBe(`Explained:
  Selects: pods app=web in namespace default — 1 now: web-1
  Ingress: isolated — the selected pods accept only what one of these rules (or another policy selecting them) allows:
    ingress[0]: from pods tier=frontend in namespace default on TCP port named "http"
      pods it admits now: default/frontend
  Egress: not affected — policyTypes has no Egress: this policy neither isolates nor allows egress`);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
