import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { applyDefaults } from '../../../src/control/api/defaults.js';
import { validateObject } from '../../../src/control/api/validate.js';
import { resourceForKind } from '../../../src/control/api/resources.js';

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const manifests = [
  ...readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort(),
  'demo/three-tier.yaml',
].flatMap((file) =>
  parseAllDocuments(readFileSync(join(examplesDir, file), 'utf8'))
    .map((d) => d.toJS() as Record<string, any> | null)
    .filter((o): o is Record<string, any> => o !== null && typeof o === 'object')
    .map((obj) => ({ name: `${file}: ${obj.kind}/${obj.metadata?.name}`, obj })),
);

const deepFreeze = <T>(o: T): T => {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
};

const validate = (o: Record<string, any>) => validateObject(resourceForKind(o.apiVersion, o.kind)!, o);

/** Every value the client sent is still there, unchanged (a null may have been filled: it means "not set"). */
function keeps(out: unknown, sent: unknown, at = ''): string[] {
  if (sent === null) return [];
  if (Array.isArray(sent)) {
    if (!Array.isArray(out) || out.length !== sent.length) return [`${at}: array changed`];
    return sent.flatMap((s, i) => keeps(out[i], s, `${at}[${i}]`));
  }
  if (typeof sent === 'object') {
    if (!out || typeof out !== 'object') return [`${at}: object replaced`];
    return Object.entries(sent as object).flatMap(([k, v]) =>
      keeps((out as Record<string, unknown>)[k], v, `${at}.${k}`),
    );
  }
  return out === sent ? [] : [`${at}: ${JSON.stringify(sent)} became ${JSON.stringify(out)}`];
}

const container = (over: Record<string, any>) => ({
  imagePullPolicy: 'IfNotPresent',
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  resources: {},
  ...over,
});

const podSpecDefaults = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

const pullPolicy = (image: string) =>
  applyDefaults('Pod', { spec: { containers: [{ name: 'c', image }] } }).spec.containers[0].imagePullPolicy;

describe('applyDefaults: Pod', () => {
  it('fills pod, container, port and probe defaults as Kubernetes v1.30 does', () => {
    const pod = deepFreeze({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx',
            ports: [{ containerPort: 80 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }],
            readinessProbe: { httpGet: { port: 80 } },
            livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
            resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m' } },
          },
          {
            name: 'sidecar',
            image: 'nginx:1.27',
            env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
            startupProbe: { grpc: { port: 9000 }, failureThreshold: 30 },
            lifecycle: { preStop: { httpGet: { port: 80, path: '/quit' } } },
          },
        ],
      },
    });
    expect(applyDefaults('Pod', pod)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        ...podSpecDefaults,
        enableServiceLinks: true,
        containers: [
          container({
            name: 'web',
            image: 'nginx',
            imagePullPolicy: 'Always',
            ports: [
              { containerPort: 80, protocol: 'TCP' },
              { name: 'dns', containerPort: 53, protocol: 'UDP' },
            ],
            readinessProbe: {
              httpGet: { port: 80, path: '/', scheme: 'HTTP' },
              timeoutSeconds: 1,
              periodSeconds: 10,
              successThreshold: 1,
              failureThreshold: 3,
            },
            livenessProbe: {
              tcpSocket: { port: 80 },
              timeoutSeconds: 1,
              periodSeconds: 5,
              successThreshold: 1,
              failureThreshold: 3,
            },
            // Requests default to limits, resource by resource.
            resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
          }),
          container({
            name: 'sidecar',
            image: 'nginx:1.27',
            env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName', apiVersion: 'v1' } } }],
            startupProbe: {
              grpc: { port: 9000, service: '' },
              timeoutSeconds: 1,
              periodSeconds: 10,
              successThreshold: 1,
              failureThreshold: 30,
            },
            lifecycle: { preStop: { httpGet: { port: 80, path: '/quit', scheme: 'HTTP' } } },
          }),
        ],
      },
    });
  });

  it('pulls Always only for :latest or an image with neither tag nor digest', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(pullPolicy('nginx')).toBe('Always');
    expect(pullPolicy('nginx:1.27')).toBe('IfNotPresent');
    expect(pullPolicy('busybox:latest')).toBe('Always');
    expect(pullPolicy(`nginx@${digest}`)).toBe('IfNotPresent');
    expect(pullPolicy(`nginx:latest@${digest}`)).toBe('Always');
    expect(pullPolicy('localhost:5000/app')).toBe('Always');
    expect(pullPolicy('registry.example.com:5000/team/app:v2')).toBe('IfNotPresent');
    expect(pullPolicy('registry.k8s.io/e2e-test-images/agnhost:2.47')).toBe('IfNotPresent');
    expect(pullPolicy('nicolaka/netshoot')).toBe('Always');
    // Not a reference Kubernetes can parse (upper case): no tag, so IfNotPresent.
    expect(pullPolicy('Nginx')).toBe('IfNotPresent');
    expect(
      applyDefaults('Pod', { spec: { containers: [{ name: 'c', image: 'nginx', imagePullPolicy: 'Never' }] } }).spec
        .containers[0].imagePullPolicy,
    ).toBe('Never');
  });

  it('keeps what the client set, and fills volumes, init containers and host ports', () => {
    const pod = deepFreeze({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'host' },
      spec: {
        hostNetwork: true,
        dnsPolicy: 'ClusterFirstWithHostNet',
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        enableServiceLinks: false,
        securityContext: { runAsUser: 1000 },
        initContainers: [{ name: 'init', image: 'busybox:1.36', ports: [{ containerPort: 8081, hostPort: 8081 }] }],
        containers: [
          {
            name: 'agent',
            image: 'agent:v1',
            ports: [{ containerPort: 9100 }],
            terminationMessagePolicy: 'FallbackToLogsOnError',
          },
        ],
        volumes: [
          { name: 'scratch' },
          { name: 'conf', configMap: { name: 'conf' } },
          { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
          { name: 'host', hostPath: { path: '/var/run' } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
        ],
      },
    });
    const out = applyDefaults('Pod', pod);
    expect(keeps(out, pod)).toEqual([]);
    expect(out.spec).toMatchObject({
      dnsPolicy: 'ClusterFirstWithHostNet',
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      enableServiceLinks: false,
      securityContext: { runAsUser: 1000 },
      schedulerName: 'default-scheduler',
    });
    expect(out.spec.initContainers[0]).toEqual(
      container({
        name: 'init',
        image: 'busybox:1.36',
        ports: [{ containerPort: 8081, hostPort: 8081, protocol: 'TCP' }],
      }),
    );
    expect(out.spec.containers[0]).toEqual(
      container({
        name: 'agent',
        image: 'agent:v1',
        ports: [{ containerPort: 9100, hostPort: 9100, protocol: 'TCP' }],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      }),
    );
    expect(out.spec.volumes).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 'conf', configMap: { name: 'conf', defaultMode: 420 } },
      { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
      { name: 'host', hostPath: { path: '/var/run', type: '' } },
      {
        name: 'info',
        downwardAPI: {
          defaultMode: 420,
          items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels', apiVersion: 'v1' } }],
        },
      },
      {
        name: 'token',
        projected: { defaultMode: 420, sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] },
      },
    ]);
    expect(() => validate(out)).not.toThrow();
  });

  it('treats a zero probe timing as unset, as Go does', () => {
    const out = applyDefaults('Pod', {
      spec: {
        containers: [
          {
            name: 'c',
            image: 'x:1',
            readinessProbe: { exec: { command: ['true'] }, timeoutSeconds: 0, initialDelaySeconds: 0 },
          },
        ],
      },
    });
    expect(out.spec.containers[0].readinessProbe).toEqual({
      exec: { command: ['true'] },
      timeoutSeconds: 1,
      initialDelaySeconds: 0,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });
});

const deployment = (spec: Record<string, any> = {}) =>
  deepFreeze({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
      },
      ...spec,
    },
  });

describe('applyDefaults: Deployment', () => {
  it('without a strategy: RollingUpdate 25%/25%, and pod template defaults (but not the Pod-only ones)', () => {
    expect(applyDefaults('Deployment', deployment())).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            ...podSpecDefaults,
            containers: [
              container({ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }] }),
            ],
          },
        },
      },
    });
  });

  it('with a strategy: Recreate gets no rollingUpdate; a partial rollingUpdate is completed', () => {
    const recreate = applyDefaults('Deployment', deployment({ replicas: 0, strategy: { type: 'Recreate' } }));
    expect(recreate.spec.strategy).toEqual({ type: 'Recreate' });
    expect(recreate.spec.replicas).toBe(0);
    const partial = applyDefaults(
      'Deployment',
      deployment({ strategy: { rollingUpdate: { maxSurge: 1 } }, revisionHistoryLimit: 0 }),
    );
    expect(partial.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' },
    });
    expect(partial.spec.revisionHistoryLimit).toBe(0);
  });
});

const statefulSet = (spec: Record<string, any> = {}) =>
  deepFreeze({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'pg', image: 'postgres:16' }] } },
      ...spec,
    },
  });

describe('applyDefaults: StatefulSet', () => {
  it('fills replicas, OrderedReady, RollingUpdate partition 0, history and the PVC retention policy', () => {
    const claim = {
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    };
    expect(applyDefaults('StatefulSet', statefulSet({ volumeClaimTemplates: [claim] }))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        replicas: 1,
        selector: { matchLabels: { app: 'db' } },
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        revisionHistoryLimit: 10,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { ...podSpecDefaults, containers: [container({ name: 'pg', image: 'postgres:16' })] },
        },
        volumeClaimTemplates: [
          { ...claim, spec: { ...claim.spec, volumeMode: 'Filesystem' }, status: { phase: 'Pending' } },
        ],
      },
    });
  });

  it('an explicit update strategy is kept as sent', () => {
    expect(
      applyDefaults('StatefulSet', statefulSet({ updateStrategy: { type: 'RollingUpdate' } })).spec.updateStrategy,
    ).toEqual({ type: 'RollingUpdate' });
    expect(
      applyDefaults('StatefulSet', statefulSet({ updateStrategy: { type: 'OnDelete' } })).spec.updateStrategy,
    ).toEqual({ type: 'OnDelete' });
    expect(
      applyDefaults('StatefulSet', statefulSet({ updateStrategy: { rollingUpdate: { partition: 2 } } })).spec
        .updateStrategy,
    ).toEqual({ type: 'RollingUpdate', rollingUpdate: { partition: 2 } });
    const retention = applyDefaults(
      'StatefulSet',
      statefulSet({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } }),
    ).spec.persistentVolumeClaimRetentionPolicy;
    expect(retention).toEqual({ whenDeleted: 'Delete', whenScaled: 'Retain' });
  });
});

const netpol = (spec: Record<string, any> | undefined) =>
  deepFreeze({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p' },
    ...(spec === undefined ? {} : { spec }),
  });
const policyTypes = (spec: Record<string, any> | undefined) =>
  applyDefaults('NetworkPolicy', netpol(spec)).spec.policyTypes;

describe('applyDefaults: NetworkPolicy', () => {
  it('policyTypes: Ingress always, Egress when there are egress rules, a list the client gave is kept', () => {
    expect(policyTypes({ podSelector: {} })).toEqual(['Ingress']);
    expect(policyTypes({ podSelector: {}, ingress: [{}] })).toEqual(['Ingress']);
    expect(policyTypes({ podSelector: {}, egress: [{ to: [{ podSelector: {} }] }] })).toEqual(['Ingress', 'Egress']);
    expect(policyTypes({ podSelector: {}, egress: [] })).toEqual(['Ingress']);
    expect(policyTypes({ podSelector: {}, egress: null })).toEqual(['Ingress']);
    expect(policyTypes({ podSelector: {}, policyTypes: [] })).toEqual(['Ingress']);
    expect(policyTypes({ podSelector: {}, policyTypes: ['Egress'] })).toEqual(['Egress']);
    expect(policyTypes({ podSelector: {}, policyTypes: ['Egress'], ingress: [{}] })).toEqual(['Egress']);
  });

  it('port protocols default to TCP; the pod selector to empty', () => {
    const out = applyDefaults(
      'NetworkPolicy',
      netpol({
        ingress: [{ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }],
        egress: [{ to: null, ports: [{ protocol: null, port: 443 }] }],
      }),
    );
    expect(out.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          ports: [
            { port: 80, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        },
      ],
      egress: [{ to: null, ports: [{ protocol: 'TCP', port: 443 }] }],
    });
    expect(applyDefaults('NetworkPolicy', netpol(undefined)).spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
    });
  });
});

/** Objects of the other kinds that get defaults (not among the examples). */
const others: Record<string, any>[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { k: 'v' } },
  {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'web' },
    subsets: [{ addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }],
  },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.5'] }],
    ports: [{ port: 80 }],
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'nginx' },
    spec: { controller: 'k8s.io/ingress-nginx', parameters: { kind: 'Params', name: 'p' } },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'sticky' },
    spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: '172.18.0.10' }, { hostname: 'lb.example' }] } },
  },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' }, status: { capacity: { cpu: '4', pods: '110' } } },
];

describe('applyDefaults: other kinds', () => {
  const out = (kind: string) => applyDefaults(kind, deepFreeze(structuredClone(others.find((o) => o.kind === kind)!)));

  it('fills what upstream fills', () => {
    expect(out('Namespace')).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    expect(out('Secret').type).toBe('Opaque');
    expect(out('Endpoints').subsets[0].ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ]);
    expect(out('EndpointSlice').ports).toEqual([{ name: '', port: 80, protocol: 'TCP' }]);
    expect(out('IngressClass').spec.parameters).toEqual({ kind: 'Params', name: 'p', scope: 'Cluster' });
    const svc = out('Service');
    expect(svc.spec).toEqual({
      type: 'LoadBalancer',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      ports: [{ port: 80 }],
    });
    expect(svc.status.loadBalancer.ingress).toEqual([{ ip: '172.18.0.10', ipMode: 'VIP' }, { hostname: 'lb.example' }]);
    expect(out('Node').status).toEqual({ capacity: { cpu: '4', pods: '110' }, allocatable: { cpu: '4', pods: '110' } });
  });

  it('unknown kinds and kinds without defaults come back unchanged, as a copy', () => {
    const cm = deepFreeze({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
    expect(applyDefaults('ConfigMap', cm)).toEqual(cm);
    expect(applyDefaults('ConfigMap', cm)).not.toBe(cm);
    const widget = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { containers: [{ name: 'c' }] },
    };
    expect(applyDefaults('Widget', widget)).toEqual(widget);
  });
});

describe('applyDefaults over the example manifests', () => {
  const cases = [...manifests, ...others.map((obj) => ({ name: `${obj.kind}/${obj.metadata.name}`, obj }))];

  it('covers every kind that has defaults', () => {
    const kinds = new Set(cases.map((c) => c.obj.kind));
    for (const k of [
      'Pod',
      'Deployment',
      'StatefulSet',
      'NetworkPolicy',
      'Service',
      'Namespace',
      'Secret',
      'Endpoints',
      'EndpointSlice',
      'IngressClass',
      'Node',
    ])
      expect(kinds).toContain(k);
  });

  it.each(cases)('$name: validates, keeps every client value, and is idempotent', ({ obj }) => {
    expect(() => validate(obj)).not.toThrow();
    const once = applyDefaults(obj.kind, deepFreeze(obj));
    expect(() => validate(once)).not.toThrow();
    expect(keeps(once, obj)).toEqual([]);
    expect(applyDefaults(obj.kind, once)).toEqual(once);
  });
});
