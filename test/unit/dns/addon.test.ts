import { describe, expect, it } from 'vitest';
import { corednsAddon, CLUSTER_DNS_IP } from '../../../src/dns/addon.js';
import { resourceForKind, validateObject } from '../../../src/control/api/index.js';

describe('the cluster DNS add-on', () => {
  it('is the ServiceAccount, RBAC, ConfigMap, Deployment and Service a kubeadm cluster has, and the API server accepts each', () => {
    const objs = corednsAddon();
    expect(objs.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`)).toEqual([
      'ServiceAccount/coredns',
      'ClusterRole/system:coredns',
      'ClusterRoleBinding/system:coredns',
      'Role/coredns',
      'RoleBinding/coredns',
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
    ]);
    // CoreDNS's upstream rules: list and watch what the kubernetes plugin serves, nothing else
    expect((objs[1] as { rules: unknown }).rules).toEqual([
      { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]);
    expect((objs[6] as any).spec.template.spec.serviceAccountName).toBe('coredns');
    const svc = objs[7] as { spec: { clusterIP: string; ports: { name: string; protocol: string }[] } };
    expect(svc.spec.clusterIP).toBe(CLUSTER_DNS_IP);
    expect(svc.spec.ports.map((p) => `${p.name}/${p.protocol}`)).toEqual(['dns/UDP', 'dns-tcp/TCP', 'metrics/TCP']);
    for (const o of objs)
      expect(() => validateObject(resourceForKind(String(o.apiVersion), String(o.kind))!, o)).not.toThrow();
  });
});
