import { describe, expect, it } from 'vitest';
import { corednsAddon, CLUSTER_DNS_IP } from '../../../src/dns/addon.js';
import { resourceForKind, validateObject } from '../../../src/control/api/index.js';

describe('the cluster DNS add-on', () => {
  it('is the ConfigMap, Deployment and Service a kubeadm cluster has, and the API server accepts each', () => {
    const objs = corednsAddon();
    expect(objs.map((o) => `${o.kind}/${(o.metadata as { name: string }).name}`)).toEqual([
      'ConfigMap/coredns',
      'Deployment/coredns',
      'Service/kube-dns',
    ]);
    const svc = objs[2] as { spec: { clusterIP: string; ports: { name: string; protocol: string }[] } };
    expect(svc.spec.clusterIP).toBe(CLUSTER_DNS_IP);
    expect(svc.spec.ports.map((p) => `${p.name}/${p.protocol}`)).toEqual(['dns/UDP', 'dns-tcp/TCP', 'metrics/TCP']);
    for (const o of objs)
      expect(() => validateObject(resourceForKind(String(o.apiVersion), String(o.kind))!, o)).not.toThrow();
  });
});
