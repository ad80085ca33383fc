import { describe, it, expect } from 'vitest';
import { toTable, includeObjectParam } from '../../../../src/control/api/table.js';

// Server-side printing as kubectl get and get -w receive it.
const NOW = Date.parse('2024-05-01T12:00:00Z');
const rs = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: 'web-6d8f9',
    namespace: 'default',
    creationTimestamp: '2024-05-01T11:59:00Z',
    labels: { app: 'web' },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
  status: { replicas: 2, readyReplicas: 1 },
};

describe('Table', () => {
  it('rows carry PartialObjectMetadata by default, the object or nothing when asked', () => {
    const t = toTable('ReplicaSet', [rs], '42', NOW, { includeObject: includeObjectParam(null) }) as any;
    expect(t.columnDefinitions.map((c: any) => [c.name, c.priority])).toEqual([
      ['NAME', 0],
      ['DESIRED', 0],
      ['CURRENT', 0],
      ['READY', 0],
      ['AGE', 0],
      ['CONTAINERS', 1],
      ['IMAGES', 1],
      ['SELECTOR', 1],
    ]);
    expect(t.rows).toEqual([
      {
        cells: ['web-6d8f9', '2', '2', '1', '60s', 'web', 'nginx', 'app=web'],
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: rs.metadata },
      },
    ]);
    expect((toTable('ReplicaSet', [rs], '42', NOW, { includeObject: 'Object' }) as any).rows[0].object).toBe(rs);
    expect((toTable('ReplicaSet', [rs], '42', NOW, { includeObject: 'None' }) as any).rows[0]).not.toHaveProperty(
      'object',
    );
    expect(() => includeObjectParam('All')).toThrow('includeObject must be None, Metadata or Object');
  });

  it('a watch event after the first: one row, no column definitions (kubectl keeps the last ones)', () => {
    const t = toTable('ReplicaSet', [rs], '43', NOW, { noHeaders: true }) as any;
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions).toEqual([]);
    expect(t.rows).toHaveLength(1);
    expect(t.metadata).toEqual({ resourceVersion: '43' });
  });
});
