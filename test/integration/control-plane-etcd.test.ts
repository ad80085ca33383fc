import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { labUp, restartApiServer, waitFor, readLabState } from '../../src/lab/index.js';
import { ApiClient, type ApiClientError, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// The same control plane on a real etcd (Debian's etcd-server, started by the
// lab inside its control-plane namespace): objects survive an API server
// kill -9 and the agent reconverges; with etcd unreachable it answers 503 and
// /readyz fails (as kube-apiserver's), and it recovers by itself.
const prefix = testPrefix('cpe');
let client: ApiClient;
const ready = (p: KubeObject | null) =>
  p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] },
});

beforeAll(async () => {
  requireRoot();
  const state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, store: 'etcd' });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
}, 120_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
});

describe('control plane on etcd', () => {
  it('stores in etcd, survives an API server kill -9, and the agents reconverge', async () => {
    const st = readLabState(prefix, STATE_ROOT)!;
    expect(st.store).toBe('etcd');
    expect(st.etcd).toBeGreaterThan(0);
    await client.create(pod('before'));
    await waitFor('pod before Ready', 30_000, async () => ready(await client.tryGet('pods', 'default', 'before')));
    const ip = (await client.get('pods', 'default', 'before')).status.podIP;
    await restartApiServer({ prefix, stateRoot: STATE_ROOT, crash: true });
    const again = await client.get('pods', 'default', 'before');
    expect(again.status.podIP).toBe(ip);
    expect((await client.list('nodes')).items.map((n) => n.spec.podCIDR).sort()).toEqual([
      '10.244.1.0/24',
      '10.244.2.0/24',
    ]);
    await client.create(pod('after'));
    await waitFor('pod after Ready (informers listed again)', 30_000, async () =>
      ready(await client.tryGet('pods', 'default', 'after')),
    );
    await waitFor('nodes still Ready (heartbeats resumed)', 10_000, async () =>
      (await client.list('nodes')).items.every(ready),
    );
  });

  it('etcd unreachable: 503s and /readyz failing, /livez ok; back by itself; SIGTERM still ends the API server', async () => {
    const st = readLabState(prefix, STATE_ROOT)!;
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: ApiClientError) => e,
      );
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(await client.text('/readyz')).toBe('ok');
    // a hung etcd (stopped): each call meets its deadline, then 503
    process.kill(st.etcd!, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const e = await failure(client.list('pods'));
      expect([e?.status, e?.reason]).toEqual([503, 'ServiceUnavailable']);
      expect(Date.now() - t0).toBeLessThan(10_000);
      // a watch too: refused before its 200, not an empty stream
      const w = await failure(client.request('GET', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=1'));
      expect(w?.status).toBe(503);
      const rz = await failure(client.text('/readyz'));
      expect(rz?.status).toBe(500);
      expect(rz?.message).toContain('[-]etcd failed: reason withheld');
      expect(rz?.message).toContain('readyz check failed');
      expect(await client.text('/livez')).toBe('ok');
    } finally {
      process.kill(st.etcd!, 'SIGCONT');
    }
    await waitFor(
      'the API server to answer again by itself',
      20_000,
      async () => !(await failure(client.list('pods'))),
    );
    expect(await client.text('/readyz')).toBe('ok');
    // etcd gone (killed): 503 at once, and SIGTERM ends the API server (it used to hang)
    process.kill(st.etcd!, 'SIGKILL');
    await waitFor('503 with etcd gone', 10_000, async () => (await failure(client.list('pods')))?.status === 503);
    process.kill(st.apiserver!, 'SIGTERM');
    await waitFor('the API server to exit on SIGTERM', 8_000, () => !alive(st.apiserver!));
  }, 60_000);
});
