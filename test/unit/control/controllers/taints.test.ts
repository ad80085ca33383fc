import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import {
  conditionTaints,
  evictionDecision,
  evictionSinceMs,
  toleratesTaint,
  tolerates,
  type Taint,
} from '../../../../src/control/controllers/index.js';
import { podGcCandidates } from '../../../../src/control/controllers/podgc.js';
import { nodeFitFailure } from '../../../../src/control/controllers/scheduler.js';
import { defaultTolerations } from '../../../../src/control/api/strategies/pod.js';
import { ApiServer } from '../../../../src/control/api/index.js';
import { FileStore } from '../../../../src/control/store/index.js';
import { T0, iso, node, pod } from './fixtures.js';

const UNREACHABLE = 'node.kubernetes.io/unreachable';
const NOT_READY = 'node.kubernetes.io/not-ready';
const NOW = iso(T0 + 60_000);

const withReady = (status: 'True' | 'False' | 'Unknown' | 'none', taints?: Taint[]) => {
  const n = node('node1', { ready: status === 'none' ? 'none' : status === 'True', taints });
  if (status === 'Unknown') n.status.conditions[0].status = 'Unknown';
  return n;
};
const withTolerations = (tolerations: any[], o: { created?: number; terminating?: boolean } = {}) => {
  const p = pod('p', { node: 'node1', created: o.created });
  p.spec.tolerations = tolerations;
  if (o.terminating) p.metadata.deletionTimestamp = iso(T0);
  return p;
};

describe('toleratesTaint (v1.Toleration.ToleratesTaint)', () => {
  const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
  it.each([
    [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute' }, true],
    [{ key: 'k', value: 'v' }, true], // operator defaults to Equal, effect empty = all effects
    [{ key: 'k', operator: 'Equal', value: 'w' }, false],
    [{ key: 'k', operator: 'Equal' }, false], // value "" ≠ "v"
    [{ key: 'k', operator: 'Exists' }, true],
    [{ key: 'other', operator: 'Exists' }, false],
    [{ operator: 'Exists' }, true], // no key, Exists: every taint
    [{ operator: 'Exists', effect: 'NoSchedule' }, false],
    [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }, true],
    [{ key: 'k', operator: 'Lt', value: 'v' }, false], // an operator it does not know tolerates nothing
  ])('%j → %s', (t, want) => expect(toleratesTaint(t, taint)).toBe(want));

  it('tolerates: any of them', () => {
    expect(
      tolerates(
        [
          { key: 'x', operator: 'Exists' },
          { key: 'k', operator: 'Exists' },
        ],
        taint,
      ),
    ).toBe(true);
    expect(tolerates(undefined, taint)).toBe(false);
  });
});

describe('conditionTaints (the node lifecycle controller)', () => {
  it('Ready=Unknown: unreachable NoSchedule and NoExecute, with timeAdded', () => {
    expect(conditionTaints(withReady('Unknown'), NOW)).toEqual([
      { key: UNREACHABLE, effect: 'NoSchedule', timeAdded: NOW },
      { key: UNREACHABLE, effect: 'NoExecute', timeAdded: NOW },
    ]);
  });

  it('Ready=False: not-ready; an unreachable taint is swapped for it; other taints stay', () => {
    const mine = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const had = [mine, { key: UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0) }];
    expect(conditionTaints(withReady('False', had), NOW)).toEqual([
      mine,
      { key: NOT_READY, effect: 'NoSchedule', timeAdded: NOW },
      { key: NOT_READY, effect: 'NoExecute', timeAdded: NOW },
    ]);
  });

  it('keeps timeAdded of a taint already there, and writes nothing when all are', () => {
    const had = [
      { key: UNREACHABLE, effect: 'NoSchedule', timeAdded: iso(T0) },
      { key: UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0) },
    ];
    expect(conditionTaints(withReady('Unknown', had), NOW)).toBeNull();
    expect(conditionTaints(withReady('Unknown', had.slice(1)), NOW)).toEqual([
      had[1],
      { key: UNREACHABLE, effect: 'NoSchedule', timeAdded: NOW },
    ]);
  });

  it('Ready=True again: its taints go, an operator’s stay; no Ready condition yet: nothing', () => {
    const oos = { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' };
    expect(conditionTaints(withReady('True', [{ key: UNREACHABLE, effect: 'NoExecute' }, oos]), NOW)).toEqual([oos]);
    expect(conditionTaints(withReady('True', [{ key: UNREACHABLE, effect: 'NoExecute' }]), NOW)).toEqual([]);
    expect(conditionTaints(withReady('True'), NOW)).toBeNull();
    expect(conditionTaints(withReady('none'), NOW)).toBeNull();
  });

  it('the scheduler keeps new pods off a tainted node unless they tolerate it', () => {
    const n = node('node1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    expect(nodeFitFailure(pod('p'), n)).toBe('node(s) had untolerated taint {dedicated: gpu}');
    const tolerant = pod('p');
    tolerant.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }];
    expect(nodeFitFailure(tolerant, n)).toBeNull();
  });
});

describe('evictionDecision (the taint eviction controller)', () => {
  const unreachable: Taint[] = [{ key: UNREACHABLE, effect: 'NoExecute', timeAdded: iso(T0) }];
  const since = T0;

  it('a NoExecute taint not tolerated: now', () => {
    expect(evictionDecision(withTolerations([]), unreachable, since)).toEqual({ evict: 'now', taint: unreachable[0] });
    const otherKey = withTolerations([
      { key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    expect(evictionDecision(otherKey, unreachable, since).evict).toBe('now');
  });

  it('tolerated for tolerationSeconds: at since + seconds (300 s, the admission default)', () => {
    const p = withTolerations(defaultTolerations(undefined));
    expect(evictionDecision(p, unreachable, since)).toEqual({ evict: 'at', atMs: T0 + 300_000, taint: unreachable[0] });
  });

  it('tolerated for ever (no tolerationSeconds), e.g. operator Exists with no key: never', () => {
    expect(evictionDecision(withTolerations([{ operator: 'Exists' }]), unreachable, since)).toEqual({ evict: 'never' });
  });

  it('tolerationSeconds 0 or less: now; several taints: the smallest seconds of the tolerations used', () => {
    const zero = withTolerations([{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 0 }]);
    expect(evictionDecision(zero, unreachable, since).evict).toBe('now');
    const two: Taint[] = [...unreachable, { key: 'maintenance', value: 'x', effect: 'NoExecute' }];
    const p = withTolerations([
      { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
      { key: 'maintenance', operator: 'Equal', value: 'x', tolerationSeconds: 60 },
    ]);
    expect(evictionDecision(p, two, since)).toEqual({ evict: 'at', atMs: T0 + 5_000, taint: unreachable[0] });
    // one of them not tolerated: now, whatever the other's seconds
    const p2 = withTolerations([{ key: UNREACHABLE, operator: 'Exists', tolerationSeconds: 5 }]);
    expect(evictionDecision(p2, two, since)).toEqual({ evict: 'now', taint: two[1] });
  });

  it('the first toleration that tolerates a taint is the one used (GetMatchingTolerations)', () => {
    const forever = { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute' };
    const fiveS = { ...forever, tolerationSeconds: 5 };
    expect(evictionDecision(withTolerations([forever, fiveS]), unreachable, since).evict).toBe('never');
    expect(evictionDecision(withTolerations([fiveS, forever]), unreachable, since).evict).toBe('at');
  });

  it('NoSchedule taints evict nobody; Terminating pods are left alone', () => {
    expect(evictionDecision(withTolerations([]), [{ key: UNREACHABLE, effect: 'NoSchedule' }], since).evict).toBe(
      'never',
    );
    expect(evictionDecision(withTolerations([], { terminating: true }), unreachable, since).evict).toBe('never');
  });

  it('the clock starts at the taint’s timeAdded, or when the pod was scheduled there if later', () => {
    const early = withTolerations([], { created: T0 - 60_000 });
    expect(evictionSinceMs(early, unreachable, T0 + 999_000)).toBe(T0);
    const late = withTolerations([], { created: T0 + 10_000 });
    expect(evictionSinceMs(late, unreachable, T0 + 999_000)).toBe(T0 + 10_000);
    const scheduled = withTolerations([], { created: T0 - 60_000 });
    scheduled.status.conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(T0 + 20_000) });
    expect(evictionSinceMs(scheduled, unreachable, T0)).toBe(T0 + 20_000);
    // a taint without timeAdded: when the controller first saw it
    expect(evictionSinceMs(early, [{ key: 'k', effect: 'NoExecute' }], T0 + 30_000)).toBe(T0 + 30_000);
  });
});

describe('defaultTolerations (the DefaultTolerationSeconds admission plugin)', () => {
  const dflt = (key: string) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });

  it('adds not-ready and unreachable NoExecute for 300 s to a pod without them', () => {
    expect(defaultTolerations(undefined)).toEqual([dflt(NOT_READY), dflt(UNREACHABLE)]);
    const mine = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };
    expect(defaultTolerations([mine])).toEqual([mine, dflt(NOT_READY), dflt(UNREACHABLE)]);
  });

  it('adds only what the pod does not already tolerate: its own seconds win', () => {
    const own = { key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 };
    expect(defaultTolerations([own])).toEqual([own, dflt(NOT_READY)]);
    const noEffect = { key: NOT_READY, operator: 'Exists' };
    expect(defaultTolerations([noEffect])).toEqual([noEffect, dflt(UNREACHABLE)]);
    const all = [{ operator: 'Exists' }]; // no key, no effect: tolerates everything
    expect(defaultTolerations(all)).toBe(all);
    const noSchedule = { key: UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }; // not NoExecute: does not count
    expect(defaultTolerations([noSchedule])).toHaveLength(3);
  });

  it('--default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds set each one’s seconds', () => {
    expect(defaultTolerations(undefined, { notReady: 7, unreachable: 5 })).toEqual([
      { ...dflt(NOT_READY), tolerationSeconds: 7 },
      { ...dflt(UNREACHABLE), tolerationSeconds: 5 },
    ]);
    expect(defaultTolerations(undefined, { notReady: 0, unreachable: 0 })[1].tolerationSeconds).toBe(0);
  });

  it('the API server admits pods with its flags’ seconds (lab up --eviction-seconds 5), on create and on update', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwt-tolerations-'));
    const store = FileStore.open(path.join(dir, 'store'));
    const api = new ApiServer(store, { defaultTolerationSeconds: { notReady: 5, unreachable: 5 } });
    await api.bootstrap();
    const { url } = await api.listen(0);
    try {
      const post = await fetch(`${url}/api/v1/namespaces/default/pods`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p' },
          spec: { containers: [{ name: 'c', image: 'x' }] },
        }),
      });
      const made = (await post.json()) as any;
      expect(post.status).toBe(201);
      expect(made.spec.tolerations).toEqual([
        { ...dflt(NOT_READY), tolerationSeconds: 5 },
        { ...dflt(UNREACHABLE), tolerationSeconds: 5 },
      ]);
      // an update that drops them gets them back (the plugin runs on update too)
      const put = await fetch(`${url}/api/v1/namespaces/default/pods/p`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...made, spec: { ...made.spec, tolerations: [] } }),
      });
      expect(((await put.json()) as any).spec.tolerations.map((t: any) => t.tolerationSeconds)).toEqual([5, 5]);
    } finally {
      await api.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('podGcCandidates (PodGC)', () => {
  const oos = { key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' };
  const terminating = (name: string, nodeName: string) => {
    const p = pod(name, { node: nodeName });
    p.metadata.deletionTimestamp = iso(T0);
    return p;
  };

  it('pods bound to a Node that is gone: orphaned; unbound pods: not its business', () => {
    const nodes = new Map([['node1', node('node1')]]);
    const out = podGcCandidates([pod('a', { node: 'node1' }), pod('b', { node: 'node9' }), pod('c')], nodes);
    expect(out.map((c) => [c.pod.metadata.name, c.reason])).toEqual([['b', 'orphaned']]);
  });

  it('Terminating on a NotReady node with the out-of-service taint; not without the taint, not when Ready', () => {
    const down = node('node1', { ready: false, taints: [oos] });
    const downNoTaint = node('node2', { ready: false });
    const upWithTaint = node('node3', { taints: [oos] });
    const nodes = new Map([down, downNoTaint, upWithTaint].map((n) => [n.metadata.name, n]));
    const pods = [
      terminating('a', 'node1'),
      pod('b', { node: 'node1' }),
      terminating('c', 'node2'),
      terminating('d', 'node3'),
    ];
    expect(podGcCandidates(pods, nodes).map((c) => [c.pod.metadata.name, c.reason])).toEqual([['a', 'out-of-service']]);
  });
});
