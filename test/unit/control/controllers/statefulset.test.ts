import { describe, it, expect } from 'vitest';
import { planStatefulSet, revisionOf } from '../../../../src/control/controllers/index.js';
import type { KubeObject } from '../../../../src/control/client/index.js';
import { setReady } from './fixtures.js';

function sts(
  o: { replicas?: number; image?: string; parallel?: boolean; partition?: number; status?: any } = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'sts-web', generation: 1 },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: { containers: [{ name: 'nginx', image: o.image ?? 'nginx:1.25' }] },
      },
      ...(o.parallel ? { podManagementPolicy: 'Parallel' } : {}),
      ...(o.partition !== undefined
        ? { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: o.partition } } }
        : {}),
    },
    ...(o.status ? { status: o.status } : {}),
  };
}

/** The planned pods as created and (un)ready. */
const made = (ps: KubeObject[], ready: boolean) =>
  ps.map((p) => setReady({ ...p, metadata: { ...p.metadata, uid: `pod-${p.metadata.name}` } }, ready));
const names = (ps: KubeObject[]) => ps.map((p) => p.metadata.name);

describe('StatefulSet controller', () => {
  it('creates web-0, web-1, web-2 in order, each only when the one before is Running and Ready', () => {
    const s = sts();
    const rev = revisionOf(s);
    let p = planStatefulSet(s, []);
    expect(names(p.create)).toEqual(['web-0']);
    expect(p.create[0]).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-0',
        namespace: 'default',
        labels: {
          app: 'nginx',
          'controller-revision-hash': rev,
          'statefulset.kubernetes.io/pod-name': 'web-0',
          'apps.kubernetes.io/pod-index': '0',
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: 'web',
            uid: 'sts-web',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }], hostname: 'web-0', subdomain: 'nginx' },
    });
    expect(p.events).toEqual([
      { type: 'Normal', reason: 'SuccessfulCreate', message: 'create Pod web-0 in StatefulSet web successful' },
    ]);

    const web0 = made(p.create, false);
    p = planStatefulSet(s, web0); // OrderedReady: web-0 is not ready, so nothing
    expect([p.create, p.delete]).toEqual([[], []]);

    p = planStatefulSet(s, made(web0, true));
    expect(names(p.create)).toEqual(['web-1']);
    const ready01 = [...made(web0, true), ...made(p.create, true)];
    p = planStatefulSet(s, ready01);
    expect(names(p.create)).toEqual(['web-2']);
    const all = [...ready01, ...made(p.create, true)];
    p = planStatefulSet(s, all);
    expect([p.create, p.delete]).toEqual([[], []]);
    expect(p.status).toEqual({
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
      currentRevision: rev,
      updateRevision: rev,
      collisionCount: 0,
    });
  });

  it('Parallel creates every pod at once', () => {
    expect(names(planStatefulSet(sts({ parallel: true }), []).create)).toEqual(['web-0', 'web-1', 'web-2']);
  });

  it('recreates a deleted pod under the same name', () => {
    const pods = made(planStatefulSet(sts({ parallel: true }), []).create, true);
    expect(names(planStatefulSet(sts(), [pods[0], pods[2]]).create)).toEqual(['web-1']);
  });

  it('scales down from the highest ordinal, one at a time, only when the rest are ready', () => {
    const s5 = sts({ replicas: 5, parallel: true });
    const pods = made(planStatefulSet(s5, []).create, true);
    const s2 = sts({ replicas: 2 });
    let p = planStatefulSet(s2, pods);
    expect([p.create, names(p.delete)]).toEqual([[], ['web-4']]);
    expect(p.events).toEqual([
      { type: 'Normal', reason: 'SuccessfulDelete', message: 'delete Pod web-4 in StatefulSet web successful' },
    ]);
    p = planStatefulSet(s2, pods.slice(0, 4));
    expect(names(p.delete)).toEqual(['web-3']);
    // web-1 not ready: OrderedReady waits before removing web-2
    p = planStatefulSet(s2, [pods[0], setReady(pods[1], false), pods[2]]);
    expect(p.delete).toEqual([]);
    // Parallel removes all surplus pods at once
    expect(names(planStatefulSet(sts({ replicas: 2, parallel: true }), pods).delete)).toEqual([
      'web-4',
      'web-3',
      'web-2',
    ]);
  });

  it('rolls out from the highest ordinal down, waiting for each replacement to be Ready', () => {
    const v1 = sts({ parallel: true });
    const old = made(planStatefulSet(v1, []).create, true);
    const r1 = revisionOf(v1);
    const v2 = sts({ image: 'nginx:1.26', status: { currentRevision: r1 } });
    const r2 = revisionOf(v2);
    expect(r2).not.toBe(r1);
    expect(r2.startsWith('web-')).toBe(true);

    let p = planStatefulSet(v2, old);
    expect([p.create, names(p.delete)]).toEqual([[], ['web-2']]);
    expect(p.status).toMatchObject({ currentRevision: r1, updateRevision: r2, currentReplicas: 3, updatedReplicas: 0 });

    p = planStatefulSet(v2, old.slice(0, 2)); // web-2 is gone: recreated from the new template
    expect(names(p.create)).toEqual(['web-2']);
    expect(p.create[0].metadata.labels?.['controller-revision-hash']).toBe(r2);
    const new2 = made(p.create, false);

    p = planStatefulSet(v2, [...old.slice(0, 2), ...new2]); // not ready yet: wait
    expect([p.create, p.delete]).toEqual([[], []]);
    const ready2 = made(new2, true);
    p = planStatefulSet(v2, [...old.slice(0, 2), ...ready2]);
    expect(names(p.delete)).toEqual(['web-1']);
    const new1 = made(planStatefulSet(v2, [old[0], ...ready2]).create, true);
    p = planStatefulSet(v2, [old[0], ...new1, ...ready2]);
    expect(names(p.delete)).toEqual(['web-0']);
    const new0 = made(planStatefulSet(v2, [...new1, ...ready2]).create, true);
    p = planStatefulSet(v2, [...new0, ...new1, ...ready2]);
    expect([p.create, p.delete]).toEqual([[], []]);
    expect(p.status).toMatchObject({
      currentRevision: r2,
      updateRevision: r2,
      currentReplicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
    });
  });

  it('does not update pods below the partition', () => {
    const v1 = sts({ parallel: true });
    const old = made(planStatefulSet(v1, []).create, true);
    const v2 = sts({ image: 'nginx:1.26', partition: 2 });
    expect(names(planStatefulSet(v2, old).delete)).toEqual(['web-2']);
    const new2 = made(planStatefulSet(v2, old.slice(0, 2)).create, true);
    expect(planStatefulSet(v2, [...old.slice(0, 2), ...new2]).delete).toEqual([]);
  });

  it('deletes a failed pod and creates it again', () => {
    const s = sts({ replicas: 1 });
    const [web0] = made(planStatefulSet(s, []).create, true);
    const failed = { ...web0, status: { ...web0.status, phase: 'Failed' } };
    const p = planStatefulSet(s, [failed]);
    expect([names(p.delete), names(p.create)]).toEqual([['web-0'], ['web-0']]);
  });
});
