import { describe, it, expect } from 'vitest';
import { planReplicaSet } from '../../../../src/control/controllers/index.js';
import type { KubeObject } from '../../../../src/control/client/index.js';
import { realize, setReady, pod, T0, iso } from './fixtures.js';

const rs = (replicas: number, minReadySeconds?: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-6d8f9', namespace: 'default', uid: 'rs-web', generation: 2 },
  spec: {
    replicas,
    ...(minReadySeconds ? { minReadySeconds } : {}),
    selector: { matchLabels: { app: 'web', 'pod-template-hash': '6d8f9' } },
    template: {
      metadata: { labels: { app: 'web', 'pod-template-hash': '6d8f9' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
    },
  },
});
const suffixes = () => {
  let n = 0;
  return () => `x${String(++n).padStart(4, '0')}`;
};
const names = (ps: KubeObject[]) => ps.map((p) => p.metadata.name);
const plan = (r: KubeObject, pods: KubeObject[], nowMs = T0 + 60_000) =>
  planReplicaSet(r, pods, { nowMs, suffix: suffixes() });

describe('ReplicaSet controller', () => {
  it('creates pods `<replicaset>-<5 chars>` from its template, owned by it', () => {
    const p = plan(rs(2), []);
    expect(names(p.create)).toEqual(['web-6d8f9-x0001', 'web-6d8f9-x0002']);
    expect(p.create[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-6d8f9-x0001',
        namespace: 'default',
        labels: { app: 'web', 'pod-template-hash': '6d8f9' },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'web-6d8f9',
            uid: 'rs-web',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
    });
    expect(p.events).toEqual([
      { type: 'Normal', reason: 'SuccessfulCreate', message: 'Created pod: web-6d8f9-x0001' },
      { type: 'Normal', reason: 'SuccessfulCreate', message: 'Created pod: web-6d8f9-x0002' },
    ]);
    expect(p.status).toEqual({
      replicas: 0,
      fullyLabeledReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      observedGeneration: 2,
    });
  });

  it('counts its pods: replicas, ready, available after minReadySeconds', () => {
    const r = rs(3, 30);
    const pods = realize(plan(r, []).create, { ready: true }); // Ready since T0
    pods[2] = setReady(pods[2], false);
    let p = plan(r, pods, T0 + 10_000);
    expect(p.status).toMatchObject({ replicas: 3, readyReplicas: 2, availableReplicas: 0 });
    expect(p.requeueAfterMs).toBe(20_000);
    p = plan(r, pods, T0 + 30_000);
    expect(p.status).toMatchObject({ replicas: 3, readyReplicas: 2, availableReplicas: 2 });
    expect([p.create, p.delete]).toEqual([[], []]);
  });

  it('scales down unscheduled, then not ready, then the newest pods; strangers are not counted', () => {
    const r = rs(5);
    const mine = (name: string, o: Parameters<typeof pod>[1]) =>
      pod(name, { owner: r, labels: { app: 'web', 'pod-template-hash': '6d8f9' }, ...o });
    const pods = [
      mine('ready-old', { node: 'node1', ip: '10.244.1.2', ready: true, created: T0 }),
      mine('ready-new', { node: 'node1', ip: '10.244.1.3', ready: true, created: T0 + 5000 }),
      mine('ready-mid', { node: 'node2', ip: '10.244.2.2', ready: true, created: T0 + 2000 }),
      mine('not-ready', { node: 'node2', ip: '10.244.2.3', ready: false, created: T0 }),
      mine('unscheduled', { created: T0 }),
      pod('stranger', { labels: { app: 'web', 'pod-template-hash': '6d8f9' }, node: 'node1', ready: true }),
    ];
    const p = plan({ ...r, spec: { ...r.spec, replicas: 2 } }, pods);
    expect(names(p.delete)).toEqual(['unscheduled', 'not-ready', 'ready-new']);
    expect(p.events.map((e) => e.message)).toEqual([
      'Deleted pod: unscheduled',
      'Deleted pod: not-ready',
      'Deleted pod: ready-new',
    ]);
    expect(plan(r, pods).create).toEqual([]);
    expect(plan({ ...r, spec: { ...r.spec, replicas: 6 } }, pods).create).toHaveLength(1);
  });

  it('does not count terminating or finished pods', () => {
    const r = rs(1);
    const [a] = realize(plan(r, []).create, { ready: true });
    const gone = { ...a, metadata: { ...a.metadata, deletionTimestamp: iso(T0) } };
    expect(names(plan(r, [gone]).create)).toEqual(['web-6d8f9-x0001']);
    const done = { ...a, status: { ...a.status, phase: 'Succeeded' } };
    expect(plan(r, [done]).create).toHaveLength(1);
  });
});
