import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { labUp, waitFor, type LabState, observe } from '../../src/lab/index.js';
import { applyDemo } from '../../src/lab/demo.js';
import { applyClusterDns } from '../../src/lab/cluster-dns.js';
import { ApiClient } from '../../src/control/client/index.js';
import { callAgent } from '../../src/agent/control-server.js';
import { agentSocketPath } from '../../src/agent/agent.js';
import { trace } from '../../src/cli/trace.js';
import type { FlowEvent } from '../../src/observe/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// "DNS first, then endpoints, then connectivity, then policy" as one
// command: a 2-node lab with its control plane, kube-dns and the demo app.
// trace resolves a name in the pod as the pod would (its resolv.conf, the
// search list, ndots:5), shows each query, then follows the address; a name
// that exists nowhere ends on the NXDOMAIN ladder; with CoreDNS scaled to 0
// the trace follows the way to 10.96.0.10 and names no-endpoints. observe
// shows the same queries with their search expansions.
const prefix = testPrefix('dnt');
let state: LabState;
let client: ApiClient;
let vip: string;

const node1 = () => state.plan.nodes.find((n) => n.name === 'node1')!;

/** Usable backends of kube-system/kube-dns on node1's agent (where client's queries are balanced). */
async function kubeDnsBackends(): Promise<number> {
  const r = await callAgent(agentSocketPath(node1().stateDir), 'GET', '/lb/service?name=kube-system%2Fkube-dns');
  const svc = (r.body?.services ?? []).find((s: { service: string }) => s.service === 'kube-system/kube-dns');
  const fe = svc?.frontends?.find((f: { frontend: string }) => f.frontend.endsWith(':53/UDP'));
  return fe ? fe.backends.filter((b: { usable: boolean }) => b.usable).length : -1;
}

async function scaleCoredns(replicas: number): Promise<void> {
  await client.patch('deployments', 'kube-system', 'coredns', { spec: { replicas } }); // as `kubectl scale` (no 409 from a status write)
}

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: true }); // as `podwire lab up`: the outside's DNS is CoreDNS's upstream
  await applyClusterDns(state, { ready: true }); // as `podwire lab up` does
  await applyDemo(state, () => {});
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  vip = (await client.get('services', 'default', 'backend')).spec.clusterIP;
  await waitFor('kube-dns to have 2 usable endpoints on node1', 60_000, async () => (await kubeDnsBackends()) === 2);
}, 180_000);

afterAll(async () => {
  client?.close();
  if (state) await stopLab(prefix);
});

describe('trace resolves the name first, as the pod does', () => {
  it('client -> backend:8080: the DNS layer (one query, search domain 1), then the Service, then DELIVERED', async () => {
    const { result, text } = await trace(state, 'client', 'backend:8080', {});
    expect(result.verdict, text).toBe('DELIVERED');
    expect(text.split('\n')[0]).toMatch(
      new RegExp(
        `^trace client \\(\\S+, node\\d\\) -> backend:8080 = Service default/backend \\(${vip.replaceAll('.', '\\.')}:8080/tcp\\)$`,
      ),
    );
    const dns = result.layers.filter((l) => /^(resolv\.conf|dns):/.test(l.what)).map((l) => l.what);
    expect(dns[0]).toBe(
      'resolv.conf: nameserver 10.96.0.10; search default.svc.cluster.local svc.cluster.local cluster.local; ndots:5 timeout:5 attempts:2',
    );
    expect(dns[1]).toBe('dns: "backend": 0 dots < ndots:5: the 3 search domains first, then as it is (glibc)');
    expect(dns[2]).toMatch(
      new RegExp(
        `^dns: A backend\\.default\\.svc\\.cluster\\.local\\. @10\\.96\\.0\\.10 -> NOERROR ${vip.replaceAll('.', '\\.')} \\(ttl \\d+\\) in [\\d.]+ ms \\[search 1/3 \\(default\\.svc\\.cluster\\.local\\)\\]$`,
      ),
    );
    expect(dns[3]).toMatch(
      /^dns: answered by search 1\/3 \(default\.svc\.cluster\.local\): backend\.default\.svc\.cluster\.local\. is .* after 1 query/,
    );
    // the DNS layer comes first, the Service and the path after it
    const kinds = result.layers.map((l) => l.what.split(':')[0]);
    expect(kinds.slice(0, 6)).toEqual(['resolv.conf', 'dns', 'dns', 'dns', 'route', 'gateway ARP']);
    expect(kinds).toContain('service');
    expect(result.layers.at(-1)!.what).toMatch(/^eth0: the probe arrived/);
  });

  it('a name that exists nowhere: the NXDOMAIN ladder, and observe shows the same queries with their expansions', async () => {
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const seen = observe(state, { dns: true, pod: 'client', durationS: 8, onReady: () => ready(), print: () => {} });
    await started;
    const { result, text } = await trace(state, 'client', 'nosuch-svc:80', {});
    expect(result).toMatchObject({ verdict: 'DNS-FAILED', reason: 'nxdomain' });
    const asked = result.layers
      .filter((l) => l.what.startsWith('dns: A '))
      .map((l) => /^dns: A (\S+) @10\.96\.0\.10 -> (\S+)/.exec(l.what)?.slice(1));
    expect(asked, text).toEqual([
      ['nosuch-svc.default.svc.cluster.local.', 'NXDOMAIN'],
      ['nosuch-svc.svc.cluster.local.', 'NXDOMAIN'],
      ['nosuch-svc.cluster.local.', 'NXDOMAIN'],
      ['nosuch-svc.', 'NXDOMAIN'],
    ]);
    expect(text.split('\n').at(-1)).toMatch(
      /^DNS-FAILED: "nosuch-svc" does not exist: NXDOMAIN for all 4 names the search list made, from 10\.96\.0\.10/,
    );
    const events: FlowEvent[] = await seen;
    const answers = events.filter((e) => e.kind === 'dns-response' && e.dns!.name.startsWith('nosuch-svc.'));
    expect(answers.map((e) => [e.dns!.name, e.dns!.rcode, e.dns!.expansion])).toEqual([
      ['nosuch-svc.default.svc.cluster.local.', 'NXDOMAIN', 'search 1/3 of "nosuch-svc"'],
      ['nosuch-svc.svc.cluster.local.', 'NXDOMAIN', 'search 2/3 of "nosuch-svc"'],
      ['nosuch-svc.cluster.local.', 'NXDOMAIN', 'search 3/3 of "nosuch-svc"'],
      ['nosuch-svc.', 'NXDOMAIN', 'as it is, after 3 search domains'],
    ]);
    expect(answers.every((e) => typeof e.dns!.latencyMs === 'number' && e.src === '10.96.0.10')).toBe(true);
  });

  it('an outside name under ndots:5: three NXDOMAIN expansions, answered as it is by the outside DNS, the fix named; then the path out', async () => {
    const { result, text } = await trace(state, 'client', 'api.example.com:80', {});
    expect(result.verdict, text).toBe('DELIVERED');
    const asked = result.layers
      .filter((l) => l.what.startsWith('dns: A '))
      .map((l) => /^dns: A (\S+) @10\.96\.0\.10 -> (\S+)/.exec(l.what)?.slice(1));
    expect(asked, text).toEqual([
      ['api.example.com.default.svc.cluster.local.', 'NXDOMAIN'],
      ['api.example.com.svc.cluster.local.', 'NXDOMAIN'],
      ['api.example.com.cluster.local.', 'NXDOMAIN'],
      ['api.example.com.', 'NOERROR'],
    ]);
    expect(text).toContain(
      '3 queries before it (3 NXDOMAIN) — "api.example.com." with a trailing dot, or options ndots:2, asks it first',
    );
    expect(text.split('\n')[0]).toMatch(/-> api\.example\.com:80 = 172\.28\.0\.200:80\/tcp$/);
    // with the trailing dot: one query
    const abs = await trace(state, 'client', 'api.example.com.:80', {});
    expect(
      abs.result.layers.filter((l) => l.what.startsWith('dns: A ')),
      abs.text,
    ).toHaveLength(1);
  });

  it('CoreDNS scaled to 0: DNS fails, and the trace names no-endpoints (kube-system/kube-dns) on the way to 10.96.0.10', async () => {
    await scaleCoredns(0);
    try {
      await waitFor('kube-dns without endpoints on node1', 60_000, async () => (await kubeDnsBackends()) <= 0);
      const { result, text } = await trace(state, 'client', 'backend:8080', {});
      expect(result, text).toMatchObject({ verdict: 'DNS-FAILED', reason: 'no-endpoints' });
      expect(result.summary).toContain('10.96.0.10');
      expect(result.summary).toContain('no-endpoints (kube-system/kube-dns)');
      expect(text).toContain('dns: the path to the nameserver, Service kube-system/kube-dns (10.96.0.10:53/udp):');
    } finally {
      await scaleCoredns(2);
    }
  });
});
