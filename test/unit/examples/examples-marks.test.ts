import { describe, it, expect } from 'vitest';
import {
  marked,
  decideRun,
  decideDelete,
  namespaceBlockers,
  usersOf,
  usersPatch,
  expectations,
  EXAMPLE_LABEL,
  USERS_ANNOTATION,
} from '../../../src/examples/index.js';
import { resourceForKind } from '../../../src/control/api/index.js';

// How example runs mark what they make, share companions and leave other objects alone.

const deploy = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'backend', namespace: 'ex-a', labels: { app: 'backend' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'backend' } },
    template: { metadata: { labels: { app: 'backend' } }, spec: { containers: [] } },
  },
};

describe('example marks', () => {
  it('label the object and its pod template, annotate its one user, and leave the selector alone', () => {
    const m = marked(deploy, 'ex-one');
    expect(m.metadata.labels).toEqual({ app: 'backend', [EXAMPLE_LABEL]: 'ex-one' });
    expect(m.metadata.annotations).toEqual({ [USERS_ANNOTATION]: 'ex-one' });
    expect(m.spec.template.metadata.labels).toEqual({ app: 'backend', [EXAMPLE_LABEL]: 'ex-one' });
    expect(m.spec.selector).toEqual({ matchLabels: { app: 'backend' } });
    expect(deploy.metadata.labels).toEqual({ app: 'backend' }); // not mutated
    const svc = marked({ kind: 'Service', metadata: { name: 's' }, spec: { template: 'x' } }, 'e');
    expect(svc.spec).toEqual({ template: 'x' });
  });

  it('create what is missing, share what another run made, leave what was there before', () => {
    expect(decideRun(deploy, null, 'a')).toEqual({ action: 'create', obj: marked(deploy, 'a') });
    expect(decideRun(deploy, deploy, 'a')).toEqual({ action: 'foreign' });
    const byA = marked(deploy, 'a');
    expect(decideRun(deploy, byA, 'a')).toEqual({ action: 'unchanged' });
    expect(decideRun(deploy, byA, 'b')).toEqual({ action: 'share', users: ['a', 'b'] });
  });

  it('delete when the last user goes, release otherwise, never touch the unmarked', () => {
    const shared = {
      ...marked(deploy, 'a'),
      metadata: { ...marked(deploy, 'a').metadata, annotations: { [USERS_ANNOTATION]: 'a,b' } },
    };
    expect(usersOf(shared)).toEqual(['a', 'b']);
    expect(decideDelete(shared, 'a')).toEqual({ action: 'release', users: ['b'] });
    expect(decideDelete(shared, 'c')).toEqual({ action: 'none' });
    expect(decideDelete(marked(deploy, 'b'), 'b')).toEqual({ action: 'delete' });
    expect(decideDelete(deploy, 'a')).toEqual({ action: 'none' });
    expect(usersPatch(['b'])).toEqual({ metadata: { annotations: { [USERS_ANNOTATION]: 'b' } } });
    expect(usersPatch(['a', 'b'], '42')).toEqual({
      metadata: { annotations: { [USERS_ANNOTATION]: 'a,b' }, resourceVersion: '42' },
    });
  });

  it('keep a namespace that holds what nobody’s example made and no controller owns', () => {
    expect(
      namespaceBlockers([
        marked({ kind: 'Pod', metadata: { name: 'web' } }, 'a'),
        { kind: 'Pod', metadata: { name: 'backend-x', ownerReferences: [{ kind: 'ReplicaSet' }] } },
        { kind: 'Service', metadata: { name: 'cilium-gateway-main', ownerReferences: [{ kind: 'Gateway' }] } },
        { kind: 'Pod', metadata: { name: 'going', deletionTimestamp: '2026-01-01T00:00:00Z' } },
        { kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' } },
        { kind: 'Pod', metadata: { name: 'mine' } },
        { kind: 'NetworkPolicy', metadata: { name: 'allow' } },
      ]),
    ).toEqual(['networkpolicy/allow', 'pod/mine']);
    expect(namespaceBlockers([])).toEqual([]);
  });

  it('count the pods to wait for and the objects that get an address', () => {
    const doc = (obj: Record<string, any>) => ({
      source: 'x',
      index: 1,
      obj,
      r: resourceForKind(obj.apiVersion, obj.kind)!,
      namespace: 'ex-a',
    });
    const lb = doc({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb' }, spec: { type: 'LoadBalancer' } });
    const r = expectations([
      doc(deploy),
      doc({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' } }),
      doc({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: {} }),
      doc({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' }, spec: {} }),
      lb,
    ]);
    expect(r.pods).toBe(4);
    expect(r.addressed).toEqual([lb]);
  });
});
