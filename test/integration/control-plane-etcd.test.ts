import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { labUp, restartApiServer, waitFor, readLabState } from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// The same control plane on a real etcd (Debian's etcd-server, started by the
// lab inside its control-plane namespace): objects survive an API server
// kill -9 and the agent reconverges.
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
});
