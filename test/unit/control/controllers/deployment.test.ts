import { describe, it, expect } from 'vitest';
import {
  planDeployment,
  deploymentHash,
  templateKey,
  type DeploymentPlan,
} from '../../../../src/control/controllers/index.js';
import type { KubeObject } from '../../../../src/control/client/index.js';
import { pod, T0, iso } from './fixtures.js';

function deployment(
  o: { replicas?: number; image?: string; strategy?: any; generation?: number; extra?: any } = {},
): KubeObject {
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
      ...(o.extra ?? {}),
    },
  };
}

/**
 * A tiny world: ReplicaSets as the API server holds them after a plan is
 * written, with the status their controller would report (`available` of
 * each, by name; by default none of a new ReplicaSet's pods is available).
 */
let created = 0;
function apply(plan: DeploymentPlan, rss: KubeObject[]): KubeObject[] {
  const out = rss.map((rs) => plan.update.find((u) => u.metadata.name === rs.metadata.name) ?? rs);
  for (const rs of plan.create)
    out.push({
      ...rs,
      metadata: { ...rs.metadata, uid: `rs-${rs.metadata.name}`, creationTimestamp: iso(T0 + ++created * 1000) },
    });
  return out.filter((rs) => !plan.delete.some((d) => d.metadata.name === rs.metadata.name));
}
function withStatus(rss: KubeObject[], available: Record<string, number> = {}): KubeObject[] {
  return rss.map((rs) => {
    const n = rs.spec.replicas;
    const a = Math.min(available[rs.metadata.name] ?? 0, n);
    return { ...rs, status: { replicas: n, readyReplicas: a, availableReplicas: a, observedGeneration: 1 } };
  });
}
const plan = (d: KubeObject, replicaSets: KubeObject[], pods: KubeObject[] = []) =>
  planDeployment(d, { replicaSets, pods, nowMs: T0 + 60_000 });
const scales = (rss: KubeObject[]) => Object.fromEntries(rss.map((rs) => [rs.metadata.name, rs.spec.replicas]));

describe('Deployment controller (through ReplicaSets)', () => {
  it('creates a ReplicaSet per template: name, hash label, selector, revision, owner', () => {
    const d = deployment({ replicas: 2 });
    const h = deploymentHash(d);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    const p = plan(d, []);
    expect(p.update).toEqual([]);
    expect(p.create).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `web-${h}`,
          namespace: 'default',
          labels: { app: 'web', 'pod-template-hash': h },
          annotations: {
            'deployment.kubernetes.io/revision': '1',
            'deployment.kubernetes.io/desired-replicas': '2',
            'deployment.kubernetes.io/max-replicas': '3',
          },
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
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web', 'pod-template-hash': h } },
          template: {
            metadata: { labels: { app: 'web', 'pod-template-hash': h } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
          },
        },
      },
    ]);
    expect(p.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
    expect(p.events).toEqual([
      { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled up replica set web-${h} from 0 to 2` },
    ]);
    expect(p.status).toMatchObject({ replicas: 0, updatedReplicas: 0, availableReplicas: 0, unavailableReplicas: 2 });
    expect(p.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'],
      ['Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "web-${h}" is progressing.`],
    ]);
  });

  it('hashes the template without its hash label, key order, or the null/{} Go prints', () => {
    const a = deployment();
    const b = deployment();
    b.spec.template = {
      spec: { containers: [{ image: 'nginx:1.25', name: 'web', resources: {} }] },
      metadata: { creationTimestamp: null, labels: { app: 'web', 'pod-template-hash': 'zzz' } },
    };
    expect(templateKey(b.spec.template)).toEqual(templateKey(a.spec.template));
    expect(deploymentHash(a)).toBe(deploymentHash(b));
    expect(deploymentHash(deployment({ image: 'nginx:1.26' }))).not.toBe(deploymentHash(a));
  });

  it('reports a finished rollout with upstream’s reasons, and stays quiet then', () => {
    const d = deployment({ replicas: 2 });
    const rss = withStatus(apply(plan(d, []), []), { [`web-${deploymentHash(d)}`]: 2 });
    const d2 = { ...d, metadata: { ...d.metadata, annotations: { 'deployment.kubernetes.io/revision': '1' } } };
    const p = plan(d2, rss);
    expect([p.create, p.update, p.delete, p.annotations]).toEqual([[], [], [], undefined]);
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
          message: `ReplicaSet "web-${deploymentHash(d)}" has successfully progressed.`,
          lastUpdateTime: '2024-05-01T10:01:00Z',
          lastTransitionTime: '2024-05-01T10:01:00Z',
        },
      ],
    });
    expect(plan({ ...d2, status: p.status }, rss).status).toEqual(p.status);
  });

  it('rolls out by scaling ReplicaSets within maxSurge 1 / maxUnavailable 1 (25% of 4)', () => {
    const v1 = deployment();
    const h1 = `web-${deploymentHash(v1)}`;
    let rss = withStatus(apply(plan(v1, []), []), { [h1]: 4 });
    const v2 = deployment({ image: 'nginx:1.26', generation: 2 });
    const h2 = `web-${deploymentHash(v2)}`;
    // each step: the ReplicaSets' availability as their controller reports it, then one sync
    const step = (avail: Record<string, number>) => {
      rss = withStatus(rss, avail);
      const p = plan(v2, rss);
      rss = apply(p, rss);
      return p;
    };
    // 1. the new ReplicaSet at 1 (surge), and one old replica may go (4 + 1 − 3 − 1 unavailable)
    let p = step({ [h1]: 4 });
    expect(p.create.map((rs) => [rs.metadata.name, rs.spec.replicas, rs.metadata.annotations])).toEqual([
      [
        h2,
        1,
        {
          'deployment.kubernetes.io/revision': '2',
          'deployment.kubernetes.io/desired-replicas': '4',
          'deployment.kubernetes.io/max-replicas': '5',
        },
      ],
    ]);
    expect(p.events.map((e) => e.message)).toEqual([
      `Scaled up replica set ${h2} from 0 to 1`,
      `Scaled down replica set ${h1} to 3 from 4`,
    ]);
    expect(p.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
    expect(scales(rss)).toEqual({ [h1]: 3, [h2]: 1 });
    p = step({ [h1]: 3 }); // 2. room for one more new replica
    expect(scales(rss)).toEqual({ [h1]: 3, [h2]: 2 });
    p = step({ [h1]: 3 }); // 3. the new ones are not available: wait
    expect([p.create, p.update]).toEqual([[], []]);
    expect(p.status).toMatchObject({ replicas: 5, updatedReplicas: 2, availableReplicas: 3, unavailableReplicas: 2 });
    p = step({ [h1]: 3, [h2]: 2 }); // 4. both available: two old go
    expect(scales(rss)).toEqual({ [h1]: 1, [h2]: 2 });
    p = step({ [h1]: 1, [h2]: 2 }); // 5. two more new
    expect(scales(rss)).toEqual({ [h1]: 1, [h2]: 4 });
    p = step({ [h1]: 1, [h2]: 4 }); // 6. the last old one goes
    expect(p.events.map((e) => e.message)).toEqual([`Scaled down replica set ${h1} to 0 from 1`]);
    expect(scales(rss)).toEqual({ [h1]: 0, [h2]: 4 });
    p = step({ [h2]: 4 }); // 7. done: the old ReplicaSet is kept (revisionHistoryLimit 10)
    expect([p.create, p.update, p.delete]).toEqual([[], [], []]);
    expect(p.status).toMatchObject({ observedGeneration: 2, replicas: 4, updatedReplicas: 4, availableReplicas: 4 });
    expect(p.status.conditions[1]).toMatchObject({ reason: 'NewReplicaSetAvailable' });
  });

  it('rollout undo (the old template back, as Go prints it) makes the old ReplicaSet new under the next revision', () => {
    const v1 = deployment({ replicas: 2 });
    const h1 = `web-${deploymentHash(v1)}`;
    let rss = withStatus(apply(plan(v1, []), []), { [h1]: 2 });
    const v2 = deployment({ replicas: 2, image: 'nginx:1.26', generation: 2 });
    for (let i = 0; i < 6; i++)
      rss = withStatus(apply(plan(v2, rss), rss), Object.fromEntries(rss.map((r) => [r.metadata.name, 9])));
    const h2 = `web-${deploymentHash(v2)}`;
    expect(scales(rss)).toEqual({ [h1]: 0, [h2]: 2 });
    const undone = deployment({ replicas: 2, generation: 3 });
    undone.spec.template.metadata.creationTimestamp = null;
    undone.spec.template.spec.containers[0].resources = {};
    undone.metadata.annotations = { 'deployment.kubernetes.io/revision': '2' };
    const p = plan(undone, rss);
    expect(p.create).toEqual([]);
    expect(p.annotations).toEqual({ 'deployment.kubernetes.io/revision': '3' });
    const back = p.update.find((rs) => rs.metadata.name === h1)!;
    expect(back.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
    });
    expect(back.spec.replicas).toBe(1);
  });

  it('copies the change-cause to the ReplicaSet, not the revision bookkeeping', () => {
    const d = deployment({ replicas: 1 });
    d.metadata.annotations = {
      'kubernetes.io/change-cause': 'kubectl set image deploy/web web=nginx:1.25',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'deployment.kubernetes.io/revision': '7',
    };
    expect(plan(d, []).create[0].metadata.annotations).toEqual({
      'kubernetes.io/change-cause': 'kubectl set image deploy/web web=nginx:1.25',
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '1',
      'deployment.kubernetes.io/max-replicas': '2',
    });
  });

  it('scales unavailable old replicas down first', () => {
    const v1 = deployment();
    const h1 = `web-${deploymentHash(v1)}`;
    const rss = withStatus(apply(plan(v1, []), []), { [h1]: 3 }); // one of four not available
    const p = plan(deployment({ image: 'nginx:1.26', generation: 2 }), rss);
    // maxScaledDown = 5 − 3 − 1 = 1, taken by the unavailable replica; then 3 available − 3 = 0 more
    expect(p.update.map((rs) => [rs.metadata.name, rs.spec.replicas])).toEqual([[h1, 3]]);
  });

  it('Recreate: old ReplicaSets to 0, the new one up once their pods are gone', () => {
    const strategy = { type: 'Recreate' };
    const v1 = deployment({ replicas: 3, strategy });
    const h1 = `web-${deploymentHash(v1)}`;
    let rss = withStatus(apply(plan(v1, []), []), { [h1]: 0 });
    rss = withStatus(apply(plan(v1, rss), rss), { [h1]: 3 });
    expect(scales(rss)).toEqual({ [h1]: 3 });
    const v2 = deployment({ replicas: 3, image: 'nginx:1.26', strategy, generation: 2 });
    const h2 = `web-${deploymentHash(v2)}`;
    let p = plan(v2, rss);
    expect(p.create.map((rs) => [rs.metadata.name, rs.spec.replicas])).toEqual([[h2, 0]]);
    rss = apply(p, rss);
    expect(scales(rss)).toEqual({ [h1]: 0, [h2]: 0 });
    const oldPod = pod(`${h1}-abcde`, { owner: rss[0], ready: true, node: 'node1', ip: '10.244.1.2' });
    rss = withStatus(rss);
    expect(plan(v2, rss, [oldPod]).update).toEqual([]); // an old pod is still there
    p = plan(v2, rss, []);
    expect(p.update.map((rs) => [rs.metadata.name, rs.spec.replicas])).toEqual([[h2, 3]]);
  });

  it('a paused Deployment starts no rollout', () => {
    const v1 = deployment({ replicas: 2 });
    const rss = withStatus(apply(plan(v1, []), []), { [`web-${deploymentHash(v1)}`]: 2 });
    const p = plan(deployment({ replicas: 2, image: 'x', extra: { paused: true } }), rss);
    expect([p.create, p.update]).toEqual([[], []]);
    expect(p.status.conditions[1]).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
  });

  it('deletes idle old ReplicaSets beyond revisionHistoryLimit, oldest revision first', () => {
    let rss: KubeObject[] = [];
    const images = ['a', 'b', 'c', 'd'];
    for (const [i, image] of images.entries()) {
      const d = deployment({ replicas: 1, image, generation: i + 1, extra: { revisionHistoryLimit: 1 } });
      for (let k = 0; k < 4; k++) {
        const p = plan(d, rss);
        rss = apply(p, rss);
        rss = withStatus(rss, Object.fromEntries(rss.map((r) => [r.metadata.name, 1])));
      }
    }
    const revs = rss.map((rs) => rs.metadata.annotations['deployment.kubernetes.io/revision']).sort();
    expect(revs).toEqual(['3', '4']);
  });

  it('treats maxSurge 0 and maxUnavailable 0 as maxUnavailable 1', () => {
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } };
    const v1 = deployment({ replicas: 2, strategy });
    const h1 = `web-${deploymentHash(v1)}`;
    const rss = withStatus(apply(plan(v1, []), []), { [h1]: 2 });
    const p = plan(deployment({ replicas: 2, strategy, image: 'x' }), rss);
    expect(p.create.map((rs) => rs.spec.replicas)).toEqual([0]);
    expect(p.update.map((rs) => [rs.metadata.name, rs.spec.replicas])).toEqual([[h1, 1]]);
  });
});
