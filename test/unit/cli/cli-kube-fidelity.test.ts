import { describe, it, expect } from 'vitest';
import { findResource } from '../../../src/control/api/index.js';
import { ALL, executeTemplate, printTemplate, parseCustomColumns, renderTables } from '../../../src/cli/kube/index.js';

// podwire get's kubectl fidelity: ReplicaSet tables, -o jsonpath,
// -o custom-columns, --show-labels, `all` — exact text, a fixed clock.
const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const r = (name: string) => findResource(name)!;
const lines = (...ls: string[]) => `${ls.join('\n')}\n`;

const rs = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: 'web-6d8f9c7b5',
    namespace: 'default',
    creationTimestamp: ago(300),
    labels: { app: 'web', 'pod-template-hash': '6d8f9c7b5' },
  },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web', 'pod-template-hash': '6d8f9c7b5' } },
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.25' },
          { name: 'log', image: 'busybox' },
        ],
      },
    },
  },
  status: { replicas: 3, readyReplicas: 2, availableReplicas: 2 },
};
const pods = ['web-6d8f9c7b5-2xk4m', 'web-6d8f9c7b5-9qz7r'].map((name, i) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', creationTimestamp: ago(60), labels: { app: 'web', tier: `t${i}` } },
  spec: { nodeName: `node${i + 1}`, containers: [{ name: 'web', image: 'nginx:1.25' }] },
  status: { phase: 'Running', podIP: `10.244.${i + 1}.5` },
}));

describe('ReplicaSet table', () => {
  it('NAME DESIRED CURRENT READY AGE, -o wide adds CONTAINERS IMAGES SELECTOR', () => {
    expect(
      renderTables([{ r: r('rs'), items: [rs] }], NOW, { wide: false, allNamespaces: false, withKind: false }),
    ).toBe(lines('NAME            DESIRED   CURRENT   READY   AGE', 'web-6d8f9c7b5   3         3         2       5m'));
    expect(
      renderTables([{ r: r('replicasets'), items: [rs] }], NOW, { wide: true, allNamespaces: false, withKind: false }),
    ).toBe(
      lines(
        'NAME            DESIRED   CURRENT   READY   AGE   CONTAINERS   IMAGES               SELECTOR',
        'web-6d8f9c7b5   3         3         2       5m    web,log      nginx:1.25,busybox   app=web,pod-template-hash=6d8f9c7b5',
      ),
    );
  });
  it('`all` is the all category: pods, services, deployments, replicasets, statefulsets', () => {
    expect(ALL).toEqual(['pods', 'services', 'deployments', 'replicasets', 'statefulsets']);
    expect(findResource('rs')?.kind).toBe('ReplicaSet');
  });
});

describe('--show-labels', () => {
  it('a last LABELS column, <none> when there are none', () => {
    const bare = { ...rs, metadata: { ...rs.metadata, labels: undefined } };
    expect(
      renderTables([{ r: r('rs'), items: [rs, bare] }], NOW, {
        wide: false,
        allNamespaces: false,
        withKind: false,
        showLabels: true,
      }),
    ).toBe(
      lines(
        'NAME            DESIRED   CURRENT   READY   AGE   LABELS',
        'web-6d8f9c7b5   3         3         2       5m    app=web,pod-template-hash=6d8f9c7b5',
        'web-6d8f9c7b5   3         3         2       5m    <none>',
      ),
    );
  });
});

describe('-o jsonpath', () => {
  it('over a List of the objects, values joined by a space', () => {
    expect(printTemplate(pods, { kind: 'jsonpath', template: '{.items[*].metadata.name}' }, false)).toBe(
      'web-6d8f9c7b5-2xk4m web-6d8f9c7b5-9qz7r',
    );
  });
  it('over the one object named, text kept, maps as JSON', () => {
    expect(
      printTemplate([pods[0]], { kind: 'jsonpath', template: 'ip={.status.podIP} labels={.metadata.labels}' }, true),
    ).toBe('ip=10.244.1.5 labels={"app":"web","tier":"t0"}');
  });
  it('range … end, literals with \\n and \\t, filters, missing keys print nothing', () => {
    const list = { kind: 'List', items: pods };
    expect(executeTemplate(list, '{range .items[*]}{.metadata.name}{"\\t"}{.spec.nodeName}{"\\n"}{end}')).toBe(
      'web-6d8f9c7b5-2xk4m\tnode1\nweb-6d8f9c7b5-9qz7r\tnode2\n',
    );
    expect(executeTemplate(list, '{.items[?(@.spec.nodeName=="node2")].status.podIP}')).toBe('10.244.2.5');
    expect(executeTemplate(list, '{.items[0].metadata.nope}|')).toBe('|');
    expect(() => executeTemplate(list, '{range .items[*]}{.x}')).toThrow(/unclosed range/);
  });
});

describe('-o custom-columns', () => {
  it('headers, paths with or without the dot and braces, lists joined with ",", <none>', () => {
    const cols = parseCustomColumns(
      'NAME:.metadata.name,NODE:spec.nodeName,IMAGES:{.spec.containers[*].image},OWNER:.metadata.ownerReferences[0].name',
    );
    expect(printTemplate(pods, { kind: 'custom-columns', cols }, false)).toBe(
      lines(
        'NAME                  NODE    IMAGES       OWNER',
        'web-6d8f9c7b5-2xk4m   node1   nginx:1.25   <none>',
        'web-6d8f9c7b5-9qz7r   node2   nginx:1.25   <none>',
      ),
    );
  });
  it('maps print as Go prints them; a column without a path is an error', () => {
    const cols = parseCustomColumns('L:.metadata.labels');
    expect(printTemplate([pods[0]], { kind: 'custom-columns', cols }, true)).toBe(lines('L', 'map[app:web tier:t0]'));
    expect(() => parseCustomColumns('NAME')).toThrow(/expected <header>:<json-path-expr>/);
  });
});

describe('describe: ReplicaSets, and a Deployment’s', () => {
  const ev = { events: [] as Record<string, any>[] };
  it('a ReplicaSet as kubectl describes it', async () => {
    const { DESCRIBERS } = await import('../../../src/cli/kube/index.js');
    process.env.TZ = 'UTC';
    const owned = {
      ...rs,
      metadata: {
        ...rs.metadata,
        annotations: { 'deployment.kubernetes.io/revision': '2' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true }],
      },
    };
    const text = DESCRIBERS.ReplicaSet(owned, { ...ev, pods }, NOW);
    expect(text.split('\n').slice(0, 10).join('\n')).toBe(
      [
        'Name:           web-6d8f9c7b5',
        'Namespace:      default',
        'Selector:       app=web,pod-template-hash=6d8f9c7b5',
        'Labels:         app=web',
        '                pod-template-hash=6d8f9c7b5',
        'Annotations:    deployment.kubernetes.io/revision: 2',
        'Controlled By:  Deployment/web',
        'Replicas:       3 current / 3 desired',
        'Pods Status:    2 Running / 0 Waiting / 0 Succeeded / 0 Failed',
        'Pod Template:',
      ].join('\n'),
    );
    expect(text).toMatch(/\nEvents:\s+<none>\n$/);
  });

  it('a Deployment names its old and new ReplicaSets (the new one has its template)', async () => {
    const { DESCRIBERS } = await import('../../../src/cli/kube/index.js');
    const template = {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] },
    };
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300) },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template },
      status: {
        replicas: 2,
        updatedReplicas: 2,
        availableReplicas: 2,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
        ],
      },
    };
    const mk = (name: string, image: string, replicas: number) => ({
      metadata: { name },
      spec: {
        replicas,
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'web', 'pod-template-hash': name.slice(4) } },
          spec: { containers: [{ name: 'web', image, resources: {} }] },
        },
      },
      status: { replicas },
    });
    const text = DESCRIBERS.Deployment(
      d,
      { ...ev, replicaSets: [mk('web-old1', 'nginx:1.25', 0), mk('web-new1', 'nginx:1.26', 2)] },
      NOW,
    );
    // as kubectl 1.30 prints it: one tabwriter block from the conditions' rows on
    expect(text).toContain(
      [
        'Conditions:',
        '  Type           Status  Reason',
        '  ----           ------  ------',
        '  Available      True    MinimumReplicasAvailable',
        '  Progressing    True    NewReplicaSetAvailable',
        'OldReplicaSets:  web-old1 (0/0 replicas created)',
        'NewReplicaSet:   web-new1 (2/2 replicas created)',
        'Events:          <none>',
      ].join('\n'),
    );
    expect(DESCRIBERS.Deployment(d, { ...ev, replicaSets: [] }, NOW)).toContain(
      '\nOldReplicaSets:  <none>\nNewReplicaSet:   <none>\n',
    );
    expect(DESCRIBERS.Deployment(d, ev, NOW)).not.toContain('OldReplicaSets'); // not listed: no lines
  });
});
