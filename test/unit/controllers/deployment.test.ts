import { describe, it, expect } from 'vitest';
import { planDeployment, deploymentHash, type DeploymentPlan } from '../../../src/control/controllers/index.js';
import type { KubeObject } from '../../../src/control/client/index.js';
import { realize, setReady, pod, T0 } from './fixtures.js';

function deployment(o: { replicas?: number; image?: string; strategy?: any; generation?: number } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'dep-web', generation: o.generation ?? 1 },
    spec: {
      replicas: o.replicas ?? 4,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: o.image ?? 'nginx:1.25' }] },
      },
      ...(o.strategy ? { strategy: o.strategy } : {}),
    },
  };
}

const suffixes = () => {
  let n = 0;
  return () => `x${String(++n).padStart(4, '0')}`;
};
const names = (ps: KubeObject[]) => ps.map((p) => p.metadata.name);
const plan = (d: KubeObject, pods: KubeObject[], suffix = suffixes()): DeploymentPlan =>
  planDeployment(d, pods, { nowMs: T0 + 60_000, suffix });

describe('Deployment controller', () => {
  it('creates pods from the template with the hash label, owner and kubectl-style names', () => {
    const d = deployment({ replicas: 2 });
    const h = deploymentHash(d);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    const p = plan(d, []);
    expect(names(p.create)).toEqual([`web-${h}-x0001`, `web-${h}-x0002`]);
    expect(p.create[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `web-${h}-x0001`,
        namespace: 'default',
        labels: { app: 'web', 'pod-template-hash': h },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'web',
            uid: 'dep-web',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
    });
    expect(p.events).toEqual([
      {
        type: 'Normal',
        reason: 'SuccessfulCreate',
        message: `Scaled up web-${h} to 2: created pod web-${h}-x0001, web-${h}-x0002`,
      },
    ]);
    expect(p.status).toMatchObject({
      observedGeneration: 1,
      replicas: 0,
      updatedReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      unavailableReplicas: 2,
    });
    expect(p.status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'False', 'MinimumReplicasUnavailable'],
      ['Progressing', 'True', 'ReplicaSetUpdated'],
    ]);
  });

  it('hashes the template, not its key order', () => {
    const a = deployment();
    const b = deployment();
    b.spec.template = { spec: b.spec.template.spec, metadata: b.spec.template.metadata };
    expect(deploymentHash(a)).toBe(deploymentHash(b));
    expect(deploymentHash(deployment({ image: 'nginx:1.26' }))).not.toBe(deploymentHash(a));
  });

  it('reports a finished rollout with upstream’s reasons', () => {
    const d = deployment({ replicas: 2 });
    const pods = realize(plan(d, []).create, { ready: true });
    const p = plan(d, pods);
    expect(p.create).toEqual([]);
    expect(p.delete).toEqual([]);
    expect(p.status).toEqual({
      observedGeneration: 1,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      unavailableReplicas: 0,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
          lastUpdateTime: '2024-05-01T10:01:00Z',
          lastTransitionTime: '2024-05-01T10:01:00Z',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `Pods of template web-${deploymentHash(d)} have successfully progressed.`,
          lastUpdateTime: '2024-05-01T10:01:00Z',
          lastTransitionTime: '2024-05-01T10:01:00Z',
        },
      ],
    });
    // The same world again: the same status, so nothing would be written.
    expect(plan({ ...d, status: p.status }, pods).status).toEqual(p.status);
  });

  it('rolls out step by step within maxSurge 1 / maxUnavailable 1 (25% of 4)', () => {
    const v1 = deployment();
    const old = realize(plan(v1, []).create, { ready: true }); // 4 ready, created T0, T0+1s, ...
    const v2 = deployment({ image: 'nginx:1.26', generation: 2 });
    const h2 = deploymentHash(v2);
    const sfx = suffixes();
    const step = (pods: KubeObject[]) => planDeployment(v2, pods, { nowMs: T0 + 60_000, suffix: sfx });

    let p = step(old); // 1. surge: one new pod
    expect([names(p.create), names(p.delete)]).toEqual([[`web-${h2}-x0001`], []]);
    const n1 = realize(p.create, { created: T0 + 10_000 });

    p = step([...old, ...n1]); // 2. at 5 pods: one old ready pod goes (the newest)
    expect([names(p.create), names(p.delete)]).toEqual([[], [old[3].metadata.name]]);
    expect(p.events[0].message).toBe(`Scaled down web-${deploymentHash(v1)} to 3: deleted pod ${old[3].metadata.name}`);

    p = step([...old.slice(0, 3), ...n1]); // 3. room for another new pod
    expect([names(p.create), names(p.delete)]).toEqual([[`web-${h2}-x0002`], []]);
    const n2 = realize(p.create, { created: T0 + 20_000 });

    p = step([...old.slice(0, 3), ...n1, ...n2]); // 4. new pods not ready: wait
    expect([p.create, p.delete]).toEqual([[], []]);
    expect(p.status).toMatchObject({
      replicas: 5,
      updatedReplicas: 2,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 2,
    });
    expect(p.status.conditions[0]).toMatchObject({ type: 'Available', status: 'True' });

    const ready12 = [...n1, ...n2].map((x) => setReady(x));
    p = step([...old.slice(0, 3), ...ready12]); // 5. both ready: two old go
    expect([names(p.create), names(p.delete)]).toEqual([[], [old[2].metadata.name, old[1].metadata.name]]);

    p = step([old[0], ...ready12]); // 6. two more new
    expect([names(p.create), names(p.delete)]).toEqual([[`web-${h2}-x0003`, `web-${h2}-x0004`], []]);
    const n34 = realize(p.create, { created: T0 + 30_000 });

    p = step([old[0], ...ready12, ...n34]); // 7. wait for them
    expect([p.create, p.delete]).toEqual([[], []]);

    const allNew = [...ready12, ...n34.map((x) => setReady(x))];
    p = step([old[0], ...allNew]); // 8. the last old pod goes
    expect([names(p.create), names(p.delete)]).toEqual([[], [old[0].metadata.name]]);

    p = step(allNew); // 9. done
    expect([p.create, p.delete]).toEqual([[], []]);
    expect(p.status).toMatchObject({
      observedGeneration: 2,
      replicas: 4,
      updatedReplicas: 4,
      readyReplicas: 4,
      availableReplicas: 4,
      unavailableReplicas: 0,
    });
    expect(p.status.conditions[1]).toMatchObject({ type: 'Progressing', reason: 'NewReplicaSetAvailable' });
  });

  it('removes unready old pods first during a rollout', () => {
    const v1 = deployment();
    const old = realize(plan(v1, []).create, { ready: true });
    old[0] = setReady(old[0], false);
    const v2 = deployment({ image: 'nginx:1.26', generation: 2 });
    const n1 = realize(plan(v2, old).create, { created: T0 + 10_000 });
    // maxScaledDown = 5 - 3 - 1 = 1: the unready old pod is cleaned up, no ready one.
    const p = plan(v2, [...old, ...n1]);
    expect(names(p.delete)).toEqual([old[0].metadata.name]);
  });

  it('Recreate deletes every old pod before creating new ones', () => {
    const v1 = deployment({ replicas: 3, strategy: { type: 'Recreate' } });
    const old = realize(plan(v1, []).create, { ready: true });
    const v2 = deployment({ replicas: 3, image: 'nginx:1.26', strategy: { type: 'Recreate' }, generation: 2 });
    let p = plan(v2, old);
    expect([names(p.create), names(p.delete)]).toEqual([[], names(old)]);
    p = plan(v2, []);
    expect(p.create).toHaveLength(3);
    expect(p.status.conditions[0]).toMatchObject({ type: 'Available', status: 'False' });
  });

  it('scales down unscheduled, then not ready, then the newest pods', () => {
    const d = deployment({ replicas: 5 });
    const h = deploymentHash(d);
    const mine = (name: string, o: Parameters<typeof pod>[1]) =>
      pod(name, { owner: d, labels: { app: 'web', 'pod-template-hash': h }, ...o });
    const pods = [
      mine('ready-old', { node: 'node1', ip: '10.244.1.2', ready: true, created: T0 }),
      mine('ready-new', { node: 'node1', ip: '10.244.1.3', ready: true, created: T0 + 5000 }),
      mine('ready-mid', { node: 'node2', ip: '10.244.2.2', ready: true, created: T0 + 2000 }),
      mine('not-ready', { node: 'node2', ip: '10.244.2.3', ready: false, created: T0 }),
      mine('unscheduled', { created: T0 }),
      pod('stranger', { labels: { app: 'web', 'pod-template-hash': h }, node: 'node1', ip: '10.244.1.9', ready: true }),
    ];
    expect(names(plan({ ...d, spec: { ...d.spec, replicas: 2 } }, pods).delete)).toEqual([
      'unscheduled',
      'not-ready',
      'ready-new',
    ]);
    expect(plan({ ...d, spec: { ...d.spec, replicas: 5 } }, pods).create).toEqual([]); // the stranger is not counted, nor taken
    expect(plan({ ...d, spec: { ...d.spec, replicas: 6 } }, pods).create).toHaveLength(1);
  });

  it('treats maxSurge 0 and maxUnavailable 0 as maxUnavailable 1, and ints as ints', () => {
    const v1 = deployment({
      replicas: 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } },
    });
    const old = realize(plan(v1, []).create, { ready: true });
    const v2 = { ...v1, spec: { ...v1.spec, template: deployment({ image: 'x' }).spec.template } };
    const p = plan(v2, old);
    expect([p.create.length, names(p.delete)]).toEqual([0, [old[1].metadata.name]]);
  });
});
