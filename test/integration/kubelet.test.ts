import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import { labUp, waitFor } from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { agentSocketPath, callAgent } from '../../src/agent/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// The agent's kubelet on a real one-node lab: restarts and CrashLoopBackOff,
// logs of the previous run, exec/http probes (readiness and liveness), the
// downward API in env, and a pod that completes under restartPolicy Never.
const prefix = testPrefix('kl');
// the container's own /tmp (containers are sandboxes): the test writes it through /proc/<pid>/root
const readyFile = '/tmp/ready';
let client: ApiClient;
let agentSock = '';

const ready = (p: KubeObject | null) =>
  p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
const get = (name: string) => client.get('pods', 'default', name);
const pod = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec,
});
const logs = (name: string, extra = '') => client.text(`/api/v1/namespaces/default/pods/${name}/log${extra}`);

beforeAll(async () => {
  requireRoot();
  const state = await labUp({ prefix, nodes: 1, stateRoot: STATE_ROOT, controlPlane: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  agentSock = agentSocketPath(state.plan.nodes[0].stateDir);
}, 120_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
});

describe('kubelet in the agent', () => {
  it('restarts a failing container with back-off (CrashLoopBackOff) and keeps the previous run’s log', async () => {
    await client.create(
      pod('crasher', {
        containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo "run on $(hostname)"; exit 3'] }],
      }),
    );
    await waitFor('a restart and CrashLoopBackOff', 30_000, async () => {
      const s = (await get('crasher')).status?.containerStatuses?.[0];
      return s?.restartCount >= 1 && s?.state?.waiting?.reason === 'CrashLoopBackOff';
    });
    const s = (await get('crasher')).status.containerStatuses[0];
    expect(s.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect((await get('crasher')).status.phase).toBe('Running');
    expect(await logs('crasher', '?previous=true')).toBe('run on crasher\n');
  });

  it('runs a pod to completion under restartPolicy Never, with the downward API in its env', async () => {
    await client.create(
      pod('once', {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sh', '-c', 'echo "ip=$MY_IP node=$MY_NODE ns=$MY_NS"'],
            env: [
              { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            ],
          },
        ],
      }),
    );
    await waitFor('Succeeded', 30_000, async () => (await get('once')).status?.phase === 'Succeeded');
    const p = await get('once');
    expect(p.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await logs('once')).toBe(`ip=${p.status.podIP} node=node1 ns=default\n`);
  });

  it('an exec readiness probe gates Ready; a failing http liveness probe restarts the container', async () => {
    await client.create(
      pod('probed', {
        containers: [
          {
            name: 'web',
            image: 'nginx',
            ports: [{ containerPort: 80, name: 'http' }],
            readinessProbe: { exec: { command: ['test', '-e', readyFile] }, periodSeconds: 1 },
          },
          {
            name: 'side',
            image: 'busybox',
            command: ['sleep', '3600'],
            livenessProbe: { httpGet: { port: 8099, path: '/' }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
      }),
    );
    await waitFor(
      'probed running, web not ready',
      30_000,
      async () => (await get('probed')).status?.containerStatuses?.[0]?.state?.running !== undefined,
    );
    expect(ready(await get('probed'))).toBe(false);
    const web = await callAgent(agentSock, 'GET', '/pods/probed/exec?container=web');
    fs.writeFileSync(`/proc/${(web.body as { pid: number }).pid}/root${readyFile}`, '');
    await waitFor(
      'web ready once the probe passes',
      15_000,
      async () => (await get('probed')).status?.containerStatuses?.[0]?.ready === true,
    );
    await waitFor(
      'side restarted by its liveness probe',
      20_000,
      async () => (await get('probed')).status?.containerStatuses?.[1]?.restartCount >= 1,
    );
    const events = (
      await client.list('events', { namespace: 'default', fieldSelector: 'involvedObject.name=probed' })
    ).items.map((e) => `${e.reason}: ${e.message}`);
    expect(events.some((e) => e.startsWith('Unhealthy: Liveness probe failed'))).toBe(true);
    expect(events.some((e) => e.startsWith('Killing: Container side failed liveness probe'))).toBe(true);
  });

  it('an unknown image without a command gets the generic listener and an event saying so', async () => {
    await client.create(
      pod('mystery', {
        containers: [{ name: 'm', image: 'example.com/acme/widget:3', ports: [{ containerPort: 7000 }] }],
      }),
    );
    await waitFor('mystery Ready', 30_000, async () => ready(await get('mystery')));
    const events = (await client.list('events', { namespace: 'default', fieldSelector: 'involvedObject.name=mystery' }))
      .items;
    expect(events.find((e) => e.reason === 'NoBuiltInImage')?.message).toContain('example.com/acme/widget:3');
  });
});
