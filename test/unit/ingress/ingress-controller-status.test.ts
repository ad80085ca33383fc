import { describe, it, expect } from 'vitest';
import { leaderOf, isLeader, fellowSelector } from '../../../src/ingress/controller/leader.js';
import {
  planStatusWrites,
  settleConditions,
  serviceAddresses,
  type StatusInputs,
} from '../../../src/ingress/controller/status-plan.js';
import {
  gatewayServiceName,
  planGatewayServices,
  ourGateways,
  gatewayAddresses,
  desiredGatewayService,
  MANAGED_BY,
} from '../../../src/ingress/controller/gateway-services.js';
import { eventKey } from '../../../src/ingress/controller/writes.js';
import type { KubeObject } from '../../../src/control/client/index.js';

// The leader's decisions, pure: who writes, which statuses change and how,
// and the Gateways' LoadBalancer Services with their EndpointSlices.
const pod = (name: string, ready: boolean, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'ingress-nginx', uid: `uid-${name}`, ...extra },
  spec: { nodeName: `node-${name}` },
  status: {
    podIP: `10.244.1.${name.length}`,
    hostIP: '172.28.0.11',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

describe('leader: the Ready controller pod whose name sorts first', () => {
  it('chooses among Ready pods only, not those being deleted', () => {
    const pods = [
      pod('ctl-b', true),
      pod('ctl-a', false),
      pod('ctl-c', true),
      pod('ctl-0', true, { deletionTimestamp: '2025-01-01T00:00:00Z' }),
    ];
    expect(leaderOf(pods)).toBe('ctl-b');
    expect(isLeader('ctl-b', pods)).toBe(true);
    expect(isLeader('ctl-c', pods)).toBe(false);
    expect(isLeader('ctl-a', pods)).toBe(false);
    expect(leaderOf([pod('x', false)])).toBeNull();
    // outside a pod (no POD_NAME) the process leads alone
    expect(isLeader(undefined, [])).toBe(true);
  });
  it('finds its fellows by the Deployment’s labels, not the ReplicaSet’s hash', () => {
    expect(
      fellowSelector({
        'pod-template-hash': '7f9c',
        'app.kubernetes.io/name': 'ingress-nginx',
        'app.kubernetes.io/component': 'controller',
      }),
    ).toBe('app.kubernetes.io/component=controller,app.kubernetes.io/name=ingress-nginx');
  });
});

const NOW = '2025-01-01T00:05:00Z';
const BEFORE = '2025-01-01T00:00:00Z';
const cond = (type: string, status: string, reason: string, extra: Record<string, unknown> = {}) => ({
  type,
  status,
  reason,
  message: '',
  ...extra,
});

const inputs = (over: Partial<StatusInputs>): StatusInputs => ({
  args: { gatewayController: 'io.cilium/gateway-controller' },
  ingresses: [],
  gateways: [],
  httpRoutes: [],
  gatewayClasses: [],
  compiled: [],
  ingressAddresses: [],
  gatewayAddresses: new Map(),
  nowIso: NOW,
  ...over,
});

describe('planStatusWrites', () => {
  const ing = (status?: unknown): KubeObject => ({
    metadata: { name: 'app', namespace: 'default', generation: 1 },
    spec: {},
    ...(status ? { status } : {}),
  });

  it('Ingress: the publish Service’s EXTERNAL-IP as status.loadBalancer.ingress, written only when it differs', () => {
    const addr = serviceAddresses({
      metadata: { name: 's' },
      status: { loadBalancer: { ingress: [{ ip: '172.28.0.240', ipMode: 'VIP' }] } },
    });
    expect(addr).toEqual([{ ip: '172.28.0.240' }]);
    expect(planStatusWrites(inputs({ ingresses: [ing()], ingressAddresses: addr }))).toEqual([
      {
        resource: 'ingresses',
        namespace: 'default',
        name: 'app',
        status: { loadBalancer: { ingress: [{ ip: '172.28.0.240' }] } },
      },
    ]);
    expect(
      planStatusWrites(
        inputs({ ingresses: [ing({ loadBalancer: { ingress: [{ ip: '172.28.0.240' }] } })], ingressAddresses: addr }),
      ),
    ).toEqual([]);
    // no address known yet (Service pending): the status is left alone
    expect(planStatusWrites(inputs({ ingresses: [ing()], ingressAddresses: [] }))).toEqual([]);
  });

  it('conditions keep their lastTransitionTime while their status holds, and carry the generation', () => {
    const prev = [cond('Accepted', 'True', 'Accepted', { lastTransitionTime: BEFORE, observedGeneration: 1 })];
    expect(settleConditions([cond('Accepted', 'True', 'Accepted', { lastTransitionTime: NOW })], prev, 2, NOW)).toEqual(
      [cond('Accepted', 'True', 'Accepted', { lastTransitionTime: BEFORE, observedGeneration: 2 })],
    );
    expect(settleConditions([cond('Accepted', 'False', 'Invalid')], prev, 2, NOW)).toEqual([
      cond('Accepted', 'False', 'Invalid', { lastTransitionTime: NOW, observedGeneration: 2 }),
    ]);
  });

  it('Gateway: the compiler’s conditions, its Service’s EXTERNAL-IP in addresses; Programmed False until there is one', () => {
    const gw: KubeObject = { metadata: { name: 'main-gateway', namespace: 'infra', generation: 3 }, spec: {} };
    const compiled = [
      {
        resource: 'gateways',
        namespace: 'infra',
        name: 'main-gateway',
        status: {
          conditions: [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'True', 'Programmed')],
          listeners: [{ name: 'https', attachedRoutes: 1, conditions: [cond('Programmed', 'True', 'Programmed')] }],
        },
      },
    ];
    const [pending] = planStatusWrites(inputs({ gateways: [gw], compiled }));
    expect(pending.status.addresses).toBeUndefined();
    expect(pending.status.conditions[1]).toMatchObject({
      type: 'Programmed',
      status: 'False',
      reason: 'AddressNotAssigned',
      observedGeneration: 3,
      lastTransitionTime: NOW,
    });
    const [done] = planStatusWrites(
      inputs({ gateways: [gw], compiled, gatewayAddresses: new Map([['infra/main-gateway', ['172.28.0.241']]]) }),
    );
    expect(done.status.addresses).toEqual([{ type: 'IPAddress', value: '172.28.0.241' }]);
    expect(done.status.conditions[1]).toMatchObject({ type: 'Programmed', status: 'True', observedGeneration: 3 });
    expect(done.status.listeners[0].conditions[0]).toMatchObject({ type: 'Programmed', observedGeneration: 3 });
    // stored as written: nothing to do
    expect(
      planStatusWrites(
        inputs({
          gateways: [{ ...gw, status: done.status }],
          compiled,
          gatewayAddresses: new Map([['infra/main-gateway', ['172.28.0.241']]]),
        }),
      ),
    ).toEqual([]);
  });

  it('HTTPRoute: our parents’ entries replaced, another controller’s kept', () => {
    const theirs = {
      parentRef: { name: 'other' },
      controllerName: 'example.com/gw',
      conditions: [cond('Accepted', 'True', 'Accepted', { lastTransitionTime: BEFORE })],
    };
    const route: KubeObject = {
      metadata: { name: 'api-route', namespace: 'app-team', generation: 1 },
      spec: {},
      status: { parents: [theirs] },
    };
    const ours = {
      parentRef: { name: 'main-gateway', namespace: 'infra' },
      controllerName: 'io.cilium/gateway-controller',
      conditions: [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'False', 'BackendNotFound')],
    };
    const [w] = planStatusWrites(
      inputs({
        httpRoutes: [route],
        compiled: [{ resource: 'httproutes', namespace: 'app-team', name: 'api-route', status: { parents: [ours] } }],
      }),
    );
    expect(w.status.parents.map((p: { controllerName: string }) => p.controllerName)).toEqual([
      'example.com/gw',
      'io.cilium/gateway-controller',
    ]);
    expect(w.status.parents[1].conditions[1]).toMatchObject({
      type: 'ResolvedRefs',
      status: 'False',
      reason: 'BackendNotFound',
      observedGeneration: 1,
    });
  });

  it('GatewayClass: the compiler’s Accepted condition', () => {
    const gc: KubeObject = { metadata: { name: 'cilium', generation: 1 }, spec: {} };
    const [w] = planStatusWrites(
      inputs({
        gatewayClasses: [gc],
        compiled: [
          {
            resource: 'gatewayclasses',
            name: 'cilium',
            status: { conditions: [cond('Accepted', 'True', 'Accepted')] },
          },
        ],
      }),
    );
    expect(w).toMatchObject({
      resource: 'gatewayclasses',
      name: 'cilium',
      status: { conditions: [{ type: 'Accepted', status: 'True', observedGeneration: 1 }] },
    });
    expect(w.namespace).toBeUndefined();
  });
});

describe('Gateway Services (cilium-gateway-<name>)', () => {
  const gw: KubeObject = {
    metadata: { name: 'main-gateway', namespace: 'infra', uid: 'gw-1' },
    spec: {
      gatewayClassName: 'cilium',
      listeners: [
        { name: 'https', port: 443, protocol: 'HTTPS' },
        { name: 'https-b', port: 443, protocol: 'HTTPS', hostname: 'b.example.com' },
        { name: 'http', port: 80, protocol: 'HTTP' },
      ],
    },
  };
  const classes: KubeObject[] = [
    { metadata: { name: 'cilium' }, spec: { controllerName: 'io.cilium/gateway-controller' } },
    { metadata: { name: 'other' }, spec: { controllerName: 'example.com/gw' } },
  ];

  it('names it as Cilium does, shortened with a hash past 63 characters', () => {
    expect(gatewayServiceName('main-gateway')).toBe('cilium-gateway-main-gateway');
    const long = gatewayServiceName('g'.repeat(100));
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^cilium-gateway-g+-[0-9a-f]{8}$/);
    expect(gatewayServiceName('g'.repeat(100))).toBe(long);
  });

  it('only Gateways of a class with our controllerName', () => {
    expect(
      ourGateways(
        [gw, { ...gw, metadata: { name: 'x', namespace: 'infra' }, spec: { gatewayClassName: 'other' } }],
        classes,
        'io.cilium/gateway-controller',
      ).map((g) => g.metadata.name),
    ).toEqual(['main-gateway']);
  });

  it('a selector-less LoadBalancer Service, one port per listener port, owned by the Gateway', () => {
    expect(desiredGatewayService(gw)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'cilium-gateway-main-gateway',
        namespace: 'infra',
        labels: {
          'io.cilium.gateway/owning-gateway': 'main-gateway',
          'gateway.networking.k8s.io/gateway-name': 'main-gateway',
          'app.kubernetes.io/managed-by': MANAGED_BY,
        },
        ownerReferences: [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'Gateway',
            name: 'main-gateway',
            uid: 'gw-1',
            controller: true,
          },
        ],
      },
      spec: {
        type: 'LoadBalancer',
        ports: [
          { name: 'port-80', port: 80, protocol: 'TCP', targetPort: 80 },
          { name: 'port-443', port: 443, protocol: 'TCP', targetPort: 443 },
        ],
      },
    });
  });

  it('plans the Service first, then its EndpointSlice of the controller pods (Ready or not, said in conditions), then nothing', () => {
    const pods = [pod('ctl-b', true), pod('ctl-a', false)];
    const first = planGatewayServices([gw], [], [], pods);
    expect(first.services.map((s) => s.metadata.name)).toEqual(['cilium-gateway-main-gateway']);
    expect(first.slices).toEqual([]);
    const stored = {
      ...first.services[0],
      metadata: { ...first.services[0].metadata, uid: 'svc-1' },
      spec: {
        ...first.services[0].spec,
        clusterIP: '10.96.5.5',
        ports: first.services[0].spec.ports.map((p: object, i: number) => ({ ...p, nodePort: 30001 + i })),
      },
    };
    const second = planGatewayServices([gw], [stored], [], pods);
    expect(second.services).toEqual([]);
    expect(second.slices).toHaveLength(1);
    const slice = second.slices[0];
    expect(slice.metadata).toMatchObject({
      name: 'cilium-gateway-main-gateway',
      namespace: 'infra',
      labels: {
        'kubernetes.io/service-name': 'cilium-gateway-main-gateway',
        'endpointslice.kubernetes.io/managed-by': MANAGED_BY,
      },
    });
    expect(slice.metadata.ownerReferences[0]).toMatchObject({ kind: 'Service', uid: 'svc-1' });
    expect(
      slice.endpoints.map((e: { addresses: string[]; conditions: { ready: boolean }; targetRef: { name: string } }) => [
        e.targetRef.name,
        e.conditions.ready,
      ]),
    ).toEqual([
      ['ctl-a', false],
      ['ctl-b', true],
    ]);
    expect(slice.ports).toEqual([
      { name: 'port-80', port: 80, protocol: 'TCP' },
      { name: 'port-443', port: 443, protocol: 'TCP' },
    ]);
    expect(planGatewayServices([gw], [stored], [slice], pods)).toEqual({
      services: [],
      slices: [],
      deleteServices: [],
    });
    // a pod turned Ready: the slice changes
    expect(planGatewayServices([gw], [stored], [slice], [pod('ctl-b', true), pod('ctl-a', true)]).slices).toHaveLength(
      1,
    );
    // the Gateway is gone: its Service goes (ours only: a learner's Service is never touched)
    const learners = { metadata: { name: 'cilium-gateway-x', namespace: 'infra' }, spec: {} };
    expect(
      planGatewayServices([], [stored, learners], [slice], pods).deleteServices.map((s) => s.metadata.name),
    ).toEqual(['cilium-gateway-main-gateway']);
  });

  it('reads each Gateway’s EXTERNAL-IP from its own Service', () => {
    const svc = {
      metadata: { name: 'cilium-gateway-main-gateway', namespace: 'infra' },
      status: { loadBalancer: { ingress: [{ ip: '172.28.0.241', ipMode: 'VIP' }] } },
    };
    expect(gatewayAddresses([gw], [svc])).toEqual(new Map([['infra/main-gateway', ['172.28.0.241']]]));
    expect(gatewayAddresses([gw], [])).toEqual(new Map([['infra/main-gateway', []]]));
  });
});

describe('events', () => {
  it('one key per object, type, reason and message: the same warning recompiled is not recorded again', () => {
    const e = {
      kind: 'Ingress',
      namespace: 'default',
      name: 'app',
      type: 'Warning' as const,
      reason: 'BackendNotFound',
      message: 'Service "default/api-service" not found',
    };
    expect(eventKey(e)).toBe(eventKey({ ...e }));
    expect(eventKey(e)).not.toBe(eventKey({ ...e, message: 'other' }));
  });
});
