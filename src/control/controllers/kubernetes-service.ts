import type { ApiClient } from '../client/index.js';

/**
 * The `kubernetes` Service every cluster has (default/kubernetes,
 * 10.96.0.1:443), pointing at the API server itself, as kube-apiserver's
 * endpoint reconciler keeps it: a Service without a selector, and the
 * Endpoints and EndpointSlice that name the API server's advertised
 * address and port. Pods reach the API server through it
 * (https://kubernetes.default.svc in a real cluster).
 */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
const MANAGED_BY = 'podwire-apiserver';

export function kubernetesServiceObjects(advertiseIp: string, port: number) {
  const labels = { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': MANAGED_BY };
  return {
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        namespace: 'default',
        name: 'kubernetes',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: KUBERNETES_SERVICE_IP,
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }],
        sessionAffinity: 'None',
      },
    },
    endpoints: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        namespace: 'default',
        name: 'kubernetes',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
      },
      subsets: [{ addresses: [{ ip: advertiseIp }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
    },
    slice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'default', name: 'kubernetes', labels },
      addressType: 'IPv4',
      endpoints: [{ addresses: [advertiseIp], conditions: { ready: true, serving: true, terminating: false } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    },
  };
}

/** Create or correct the three objects (idempotent; run at every API server start). */
export async function ensureKubernetesService(client: ApiClient, advertiseIp: string, port: number): Promise<void> {
  const want = kubernetesServiceObjects(advertiseIp, port);
  for (const [resource, obj] of [
    ['services', want.service],
    ['endpoints', want.endpoints],
    ['endpointslices', want.slice],
  ] as const) {
    const cur = await client.tryGet(resource, 'default', 'kubernetes');
    if (cur === null) {
      await client.create(obj);
      continue;
    }
    if (resource === 'services') continue; // its clusterIP and ports are the user's to keep, as upstream
    const same =
      JSON.stringify((cur as Record<string, unknown>)[resource === 'endpoints' ? 'subsets' : 'endpoints']) ===
      JSON.stringify((obj as Record<string, unknown>)[resource === 'endpoints' ? 'subsets' : 'endpoints']);
    if (!same) await client.update({ ...cur, ...obj, metadata: { ...cur.metadata, labels: obj.metadata.labels } });
  }
}
