import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execa } from 'execa';
import { labUp, breakLab, fixLab, brokenNow, CLI_ENTRY, type LabState } from '../../src/lab/index.js';
import { applyDemo } from '../../src/lab/demo.js';
import { applyClusterDns } from '../../src/lab/cluster-dns.js';
import { ApiClient } from '../../src/control/client/index.js';
import { trace } from '../../src/cli/trace.js';
import type { FlowEvent } from '../../src/observe/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, dropsDuring as dropsDuringIn } from './helpers.js';

// The NetworkPolicy faults of `podwire lab break`, each found the way a
// learner would find it: the symptom from a pod (nslookup or curl), then the
// cause named by observe / trace / explain-policy / describe netpol — the
// policy and the drop reason — then `lab fix` (or the right policy) and the
// traffic works again. A 2-node lab with its control plane, kube-dns and the
// demo app (client, frontend ×3 tier=frontend, backend ×2 on 8080 with an
// unnamed port, database).
const prefix = testPrefix('pft');
let state: LabState;
let client: ApiClient;

/** the podwire CLI against this lab, as a learner types it */
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], {
    reject: false,
    timeout: 60_000,
    all: true,
    env: { PODWIRE_STATE_ROOT: STATE_ROOT },
  });
const curl = (pod: string, url: string) => podwire('exec', pod, '--', 'curl', '-s', '-m', '2', url);

/** Drops seen by every agent while `during` runs. */
const dropsDuring = (during: () => Promise<unknown>): Promise<FlowEvent[]> => dropsDuringIn(state, during);

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
  await applyClusterDns(state, { ready: true });
  await applyDemo(state, () => {});
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
}, 240_000);

// a failed case leaves nothing broken for the next
afterEach(async () => {
  if (state) await fixLab(state);
});
afterAll(async () => {
  client?.close();
  if (state) await stopLab(prefix);
});

describe('lab break: NetworkPolicy faults, found and fixed', () => {
  it('default-deny-dns: nslookup times out; observe and trace name policy-denied-egress by default/default-deny-all; fixed, names resolve', async () => {
    expect((await podwire('exec', 'client', '--', 'nslookup', 'backend')).exitCode).toBe(0);
    await breakLab(state, 'default-deny-dns', 'default');
    expect(brokenNow(state)).toEqual([{ scenario: 'default-deny-dns', target: 'default' }]);

    let lookup!: Awaited<ReturnType<typeof podwire>>;
    const drops = await dropsDuring(
      async () => (lookup = await podwire('exec', 'client', '--', 'nslookup', '-timeout=1', '-retry=1', 'backend')),
    );
    expect(lookup.exitCode, String(lookup.all)).toBe(1);
    expect(String(lookup.all)).toContain('no servers could be reached');
    const dns = drops.find((e) => e.reason === 'policy-denied-egress' && e.dstPort === 53);
    expect(dns, JSON.stringify(drops)).toBeDefined();
    expect(dns!.detail).toContain('isolated by default/default-deny-all; no rule allowed it');

    const { result, text } = await trace(state, 'client', 'backend:8080', { dnsTimeoutMs: 1000 });
    expect(result, text).toMatchObject({ verdict: 'DNS-FAILED', reason: 'policy-denied-egress' });
    expect(text).toMatch(
      /policy: egress from default\/client \(\S+\) to kube-system\/coredns-\S+ \(\S+\) UDP\/53 denied: isolated by default\/default-deny-all; no rule allowed it/,
    );

    expect(await fixLab(state)).toEqual([{ scenario: 'default-deny-dns', target: 'default' }]);
    expect(await client.tryGet('networkpolicies', 'default', 'default-deny-all')).toBeNull();
    const again = await podwire('exec', 'client', '--', 'nslookup', 'backend');
    expect(again.exitCode, String(again.all)).toBe(0);
    expect((await curl('client', 'backend:8080')).stdout).toMatch(/^nginx on pod default\/backend-/);
  });

  it('named-port-missing: curl times out; trace, observe and explain-policy name default/allow-http-to-backend and the port name; fixed, answered', async () => {
    await breakLab(state, 'named-port-missing', 'backend');
    const drops = await dropsDuring(async () => expect((await curl('client', 'backend:8080')).exitCode).toBe(28));
    const denied = drops.find((e) => e.reason === 'policy-denied-ingress' && e.dstPort === 8080);
    expect(denied, JSON.stringify(drops)).toBeDefined();
    expect(denied!.detail).toContain('isolated by default/allow-http-to-backend; no rule allowed it');

    const { result, text } = await trace(state, 'client', 'svc/backend', {});
    expect(result, text).toMatchObject({ verdict: 'DROPPED', reason: 'policy-denied-ingress' });
    expect(result.summary).toContain('default/allow-http-to-backend');

    const why = await podwire('explain-policy', 'client', 'svc/backend');
    expect(why.exitCode, String(why.all)).toBe(1);
    expect(why.stdout).toMatch(
      /ingress at default\/backend-\S+: denied — isolated by default\/allow-http-to-backend; no rule allowed it/,
    );
    expect(why.stdout).toContain('on TCP port named "http" — the peer matches, the port does not');
    const described = await podwire('describe', 'netpol', 'allow-http-to-backend');
    expect(described.stdout).toContain('no pod it selects has a TCP port named "http"');

    await fixLab(state, 'named-port-missing');
    expect((await curl('client', 'backend:8080')).stdout).toMatch(/^nginx on pod default\/backend-/);
  });

  it('or-not-and: the client gets in though only frontends should; explain-policy and describe show the OR; one peer (AND) shuts it out with a named drop; fixed, open again', async () => {
    const frontend = (await client.list('pods', { namespace: 'default', labelSelector: 'tier=frontend' })).items[0]
      .metadata.name;
    await breakLab(state, 'or-not-and', 'backend');
    // the symptom: a pod that is no frontend is answered
    expect((await curl('client', 'backend:8080')).stdout).toMatch(/^nginx on pod default\/backend-/);
    const why = await podwire('explain-policy', 'client', 'svc/backend');
    expect(why.exitCode, String(why.all)).toBe(0);
    expect(why.stdout).toContain(
      'allowed by default/allow-frontend-to-backend ingress[0]: from (every pod in namespaces kubernetes.io/metadata.name=default) OR (pods tier=frontend in namespace default)',
    );
    expect((await podwire('describe', 'netpol', 'allow-frontend-to-backend')).stdout).toContain(
      'lists a namespaceSelector and a podSelector as two peers: they are ORed',
    );

    // what was meant: one peer with both selectors, as a learner would apply it
    const np = await client.get('networkpolicies', 'default', 'allow-frontend-to-backend');
    const [nsPeer, podPeer] = np.spec.ingress[0].from;
    await client.update({ ...np, spec: { ...np.spec, ingress: [{ from: [{ ...nsPeer, ...podPeer }] }] } });
    const drops = await dropsDuring(async () => {
      // the agents apply it within a second: the client is shut out from then on
      const deadline = Date.now() + 5000;
      while ((await curl('client', 'backend:8080')).exitCode === 0 && Date.now() < deadline);
    });
    const denied = drops.find((e) => e.reason === 'policy-denied-ingress' && e.dstPort === 8080);
    expect(denied, JSON.stringify(drops)).toBeDefined();
    expect(denied!.detail).toContain('isolated by default/allow-frontend-to-backend; no rule allowed it');
    expect((await podwire('exec', frontend, '--', 'curl', '-s', '-m', '2', 'backend:8080')).stdout).toMatch(
      /^nginx on pod default\/backend-/,
    );

    await fixLab(state, 'or-not-and');
    expect(await client.tryGet('networkpolicies', 'default', 'allow-frontend-to-backend')).toBeNull();
    expect((await curl('client', 'backend:8080')).stdout).toMatch(/^nginx on pod default\/backend-/);
  });
});
