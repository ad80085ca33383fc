import { describe, it, expect } from 'vitest';
import { desiredEndpoints, planEndpointSlices } from '../../../../src/control/controllers/index.js';
import type { KubeObject } from '../../../../src/control/client/index.js';
import { pod } from './fixtures.js';

function service(
  o: {
    ports?: any[];
    selector?: Record<string, string> | null;
    clusterIP?: string;
    publish?: boolean;
    type?: string;
    name?: string;
  } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name ?? 'web', namespace: 'default', uid: 'svc-web', labels: { team: 'a' } },
    spec: {
      ...(o.selector === null ? {} : { selector: o.selector ?? { app: 'web' } }),
      ports: o.ports ?? [{ name: 'http', port: 80, targetPort: 'http' }],
      clusterIP: o.clusterIP ?? '10.96.0.50',
      ...(o.publish ? { publishNotReadyAddresses: true } : {}),
      ...(o.type ? { type: o.type } : {}),
    },
  };
}

const web = (name: string, ip: string, port: number | null, ready: boolean, node = 'node1') =>
  pod(name, {
    labels: { app: 'web' },
    node,
    ip,
    ready,
    ports: port === null ? [] : [{ name: 'http', containerPort: port }],
  });
const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name, uid: `pod-${name}` });

const pods = () => [
  web('a', '10.244.1.5', 8080, true),
  web('b', '10.244.2.5', 9090, true, 'node2'),
  web('c', '10.244.1.6', 8080, false),
  web('d', '10.244.1.7', null, true), // no port named http
  pod('e', { labels: { app: 'web' }, node: 'node1', ready: true, ports: [{ name: 'http', containerPort: 8080 }] }), // no IP yet
  pod('f', {
    ns: 'other',
    labels: { app: 'web' },
    node: 'node1',
    ip: '10.244.1.8',
    ready: true,
    ports: [{ name: 'http', containerPort: 8080 }],
  }),
  pod('g', { labels: { app: 'db' }, node: 'node1', ip: '10.244.1.9', ready: true }),
];

describe('Endpoints controller', () => {
  it('puts pods that number a named port differently in separate subsets; unready ones in notReadyAddresses', () => {
    expect(desiredEndpoints(service(), pods())).toEqual({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'default', labels: { team: 'a' } },
      subsets: [
        {
          addresses: [{ ip: '10.244.1.5', nodeName: 'node1', targetRef: ref('a') }],
          notReadyAddresses: [{ ip: '10.244.1.6', nodeName: 'node1', targetRef: ref('c') }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
        {
          addresses: [{ ip: '10.244.2.5', nodeName: 'node2', targetRef: ref('b') }],
          ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
        },
      ],
    });
  });

  it('publishNotReadyAddresses lists every pod as ready', () => {
    const ep = desiredEndpoints(service({ publish: true }), pods())!;
    expect(ep.subsets[0].addresses.map((a: any) => a.ip)).toEqual(['10.244.1.5', '10.244.1.6']);
    expect(ep.subsets[0].notReadyAddresses).toBeUndefined();
  });

  it('numbers and missing targetPorts, several ports in one subset', () => {
    const svc = service({
      ports: [
        { name: 'http', port: 80, targetPort: 8080 },
        { name: 'metrics', port: 9100, protocol: 'TCP' },
      ],
    });
    expect(
      desiredEndpoints(svc, [web('a', '10.244.1.5', null, true), web('d', '10.244.1.4', null, true)])!.subsets,
    ).toEqual([
      {
        addresses: [
          { ip: '10.244.1.4', nodeName: 'node1', targetRef: ref('d') },
          { ip: '10.244.1.5', nodeName: 'node1', targetRef: ref('a') },
        ],
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'metrics', port: 9100, protocol: 'TCP' },
        ],
      },
    ]);
  });

  it('gives StatefulSet pods a hostname behind their headless Service', () => {
    const svc = service({ name: 'nginx', clusterIP: 'None', ports: [{ name: 'web', port: 80 }] });
    const p = pod('web-0', {
      labels: { app: 'web' },
      node: 'node1',
      ip: '10.244.1.20',
      ready: true,
      hostname: 'web-0',
      subdomain: 'nginx',
    });
    const other = pod('web-x', {
      labels: { app: 'web' },
      node: 'node1',
      ip: '10.244.1.21',
      ready: true,
      hostname: 'web-x',
      subdomain: 'elsewhere',
    });
    const ep = desiredEndpoints(svc, [p, other])!;
    expect(ep.metadata.labels).toEqual({ team: 'a', 'service.kubernetes.io/headless': '' });
    expect(ep.subsets[0].addresses).toEqual([
      { ip: '10.244.1.20', hostname: 'web-0', nodeName: 'node1', targetRef: ref('web-0') },
      { ip: '10.244.1.21', nodeName: 'node1', targetRef: ref('web-x') },
    ]);
  });

  it('leaves Services without a selector and ExternalName Services alone; no pods → no subsets', () => {
    expect(desiredEndpoints(service({ selector: null }), pods())).toBeNull();
    expect(desiredEndpoints(service({ type: 'ExternalName' }), pods())).toBeNull();
    expect(desiredEndpoints(service({ selector: { app: 'none' } }), pods())).toEqual({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'default', labels: { team: 'a' } },
    });
  });

  it('skips finished pods that will not run again', () => {
    const done = web('z', '10.244.1.30', 8080, false);
    done.spec.restartPolicy = 'Never';
    done.status.phase = 'Succeeded';
    expect(desiredEndpoints(service(), [done])!.subsets).toBeUndefined();
  });
});

describe('EndpointSlice controller', () => {
  const suffix = () => {
    let n = 0;
    return () => `s000${++n}`;
  };

  it('makes one slice per port mapping, labelled and owned like upstream', () => {
    const plan = planEndpointSlices(service(), pods(), [], suffix());
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([]);
    const meta = (name: string) => ({
      name,
      generateName: 'web-',
      namespace: 'default',
      labels: {
        team: 'a',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-web', controller: true, blockOwnerDeletion: true },
      ],
    });
    const ep = (name: string, ip: string, ready: boolean, node = 'node1') => ({
      addresses: [ip],
      conditions: { ready, serving: ready, terminating: false },
      nodeName: node,
      targetRef: ref(name),
    });
    expect(plan.create).toEqual([
      // d has no port named http: upstream puts it in a slice without ports
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta('web-s0001'),
        addressType: 'IPv4',
        endpoints: [ep('d', '10.244.1.7', true)],
        ports: [],
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta('web-s0002'),
        addressType: 'IPv4',
        endpoints: [ep('a', '10.244.1.5', true), ep('c', '10.244.1.6', false)],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta('web-s0003'),
        addressType: 'IPv4',
        endpoints: [ep('b', '10.244.2.5', true, 'node2')],
        ports: [{ name: 'http', port: 9090, protocol: 'TCP' }],
      },
    ]);
  });

  it('updates slices in place and only when their content changes', () => {
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    const created = planEndpointSlices(svc, pods(), [], suffix()).create.map((s) => ({
      ...s,
      metadata: { ...s.metadata, resourceVersion: '7' },
    }));
    expect(created).toHaveLength(1);
    expect(planEndpointSlices(svc, pods(), created, suffix())).toEqual({ create: [], update: [], delete: [] });
    const changed = planEndpointSlices(svc, pods().slice(0, 2), created, suffix());
    expect(changed.create).toEqual([]);
    expect(
      changed.update.map((s) => [
        s.metadata.name,
        s.metadata.resourceVersion,
        s.endpoints.map((e: any) => e.targetRef.name),
      ]),
    ).toEqual([['web-s0001', '7', ['a', 'b']]]);
  });

  it('keeps a placeholder slice for a Service without endpoints, and deletes every slice of a deleted Service', () => {
    const plan = planEndpointSlices(service({ selector: { app: 'none' } }), pods(), [], suffix());
    expect(plan.create.map((s) => [s.metadata.name, s.endpoints, s.ports])).toEqual([['web-s0001', null, null]]);
    const existing = plan.create;
    expect(planEndpointSlices(null, [], existing, suffix())).toEqual({ create: [], update: [], delete: existing });
    expect(planEndpointSlices(service({ selector: null }), [], existing, suffix()).delete).toEqual(existing);
  });

  it('marks ready, serving and terminating like upstream (publishNotReadyAddresses → ready)', () => {
    const going = web('t', '10.244.1.40', 8080, true);
    going.metadata.deletionTimestamp = '2024-05-01T10:00:00Z';
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    const [slice] = planEndpointSlices(svc, [going, web('c', '10.244.1.6', 8080, false)], [], suffix()).create;
    expect(slice.endpoints.map((e: any) => [e.targetRef.name, e.conditions])).toEqual([
      ['c', { ready: false, serving: false, terminating: false }],
      ['t', { ready: false, serving: true, terminating: true }],
    ]);
    const [pub] = planEndpointSlices(
      { ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } },
      [web('c', '10.244.1.6', 8080, false)],
      [],
      suffix(),
    ).create;
    expect(pub.endpoints[0].conditions).toEqual({ ready: true, serving: false, terminating: false });
  });
});
