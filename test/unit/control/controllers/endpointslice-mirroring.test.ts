import { describe, expect, it } from 'vitest';
import { MIRROR_CONTROLLER, planMirror } from '../../../../src/control/controllers/endpointslice-mirroring.js';

const svc = (selector?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'default', name: 'ext-db' },
  spec: { ports: [{ name: 'pg', port: 5432 }], ...(selector ? { selector } : {}) },
});
const ep = (ips: string[], labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { namespace: 'default', name: 'ext-db', uid: 'u1', ...(labels ? { labels } : {}) },
  subsets: [
    {
      addresses: ips.map((ip) => ({ ip })),
      notReadyAddresses: [{ ip: '172.28.0.201' }, { ip: 'fe80::1' }],
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    },
  ],
});

describe('EndpointSlice mirroring (hand-written Endpoints of a Service without a selector)', () => {
  it('mirrors each subset into a slice kube-proxy (and the agents) read: ready and not-ready addresses, ports, labels, owner', () => {
    const plan = planMirror(svc() as never, ep(['172.28.0.200']) as never, []);
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.create).toHaveLength(1);
    const s = plan.create[0];
    expect(s.metadata.name).toBe('ext-db-mirror-0');
    expect(s.metadata.labels).toEqual({
      'kubernetes.io/service-name': 'ext-db',
      'endpointslice.kubernetes.io/managed-by': MIRROR_CONTROLLER,
    });
    expect(s.metadata.ownerReferences[0]).toMatchObject({ kind: 'Endpoints', name: 'ext-db', uid: 'u1' });
    expect(s.endpoints).toEqual([
      { addresses: ['172.28.0.200'], conditions: { ready: true, serving: true, terminating: false } },
      { addresses: ['172.28.0.201'], conditions: { ready: false, serving: false, terminating: false } },
    ]);
    expect(s.ports).toEqual([{ name: 'pg', port: 5432, protocol: 'TCP' }]);
  });

  it('leaves Services with a selector, skip-mirror Endpoints and ExternalName alone, and deletes what it made when that changes', () => {
    const made = planMirror(svc() as never, ep(['172.28.0.200']) as never, []).create;
    expect(planMirror(svc({ app: 'db' }) as never, ep(['172.28.0.200']) as never, []).create).toEqual([]);
    expect(
      planMirror(
        svc() as never,
        ep(['172.28.0.200'], { 'endpointslice.kubernetes.io/skip-mirror': 'true' }) as never,
        [],
      ).create,
    ).toEqual([]);
    expect(
      planMirror(svc({ app: 'db' }) as never, ep(['172.28.0.200']) as never, made).delete.map((s) => s.metadata.name),
    ).toEqual(['ext-db-mirror-0']);
    expect(planMirror(svc() as never, null, made).delete).toHaveLength(1);
  });

  it('updates a slice only when its addresses or ports differ', () => {
    const made = planMirror(svc() as never, ep(['172.28.0.200']) as never, []).create;
    expect(planMirror(svc() as never, ep(['172.28.0.200']) as never, made)).toEqual({
      create: [],
      update: [],
      delete: [],
    });
    const upd = planMirror(svc() as never, ep(['172.28.0.202']) as never, made).update;
    expect(upd.map((s) => s.endpoints[0].addresses[0])).toEqual(['172.28.0.202']);
  });
});
