import { describe, it, expect } from 'vitest';
import { openapiDoc, openapiIndex } from '../../../../src/control/api/openapi.js';

// What kubectl explain reads: per group-version, the kinds' schemas tagged
// with x-kubernetes-group-version-kind, the shared types by reference.
describe('OpenAPI v3 for kubectl explain', () => {
  it('every group-version document carries each served kind, found by its GVK', () => {
    const paths = Object.keys((openapiIndex() as any).paths);
    expect(paths).toContain('api/v1');
    expect(paths).toContain('apis/apps/v1');
    for (const gv of paths) {
      const doc = openapiDoc(gv) as any;
      const kinds = Object.values(doc.components.schemas)
        .flatMap((s: any) => s['x-kubernetes-group-version-kind'] ?? [])
        .map((g: any) => g.kind);
      const patched = Object.values(doc.paths).map((p: any) => p.patch['x-kubernetes-group-version-kind'].kind);
      expect(kinds.sort()).toEqual(patched.sort());
    }
  });

  it('Pod: description, spec → PodSpec → containers as []Container with their fields', () => {
    const s = (openapiDoc('api/v1') as any).components.schemas;
    const pod = s['io.k8s.api.core.v1.Pod'];
    expect(pod['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    expect(pod.description).toMatch(/^Pod is a collection of containers/);
    expect(pod.properties.spec.allOf).toEqual([{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }]);
    const containers = s['io.k8s.api.core.v1.PodSpec'].properties.containers;
    expect(containers.items).toEqual({ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' });
    expect(containers.description).toMatch(/^List of containers belonging to the pod/);
    const c = s['io.k8s.api.core.v1.Container'];
    expect(c.required).toEqual(['name']);
    expect(c.properties.image.description).toMatch(/^Container image name/);
  });

  it('apps/v1: ReplicaSet and Deployment', () => {
    const s = (openapiDoc('apis/apps/v1') as any).components.schemas;
    expect(s['io.k8s.api.apps.v1.ReplicaSet']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'apps', kind: 'ReplicaSet', version: 'v1' },
    ]);
    expect(Object.keys(s['io.k8s.api.apps.v1.Deployment'].properties.spec.properties)).toContain('strategy');
  });
});
