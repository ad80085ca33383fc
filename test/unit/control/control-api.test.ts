import { describe, it, expect } from 'vitest';
import {
  errors,
  fromStoreError,
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  findResource,
  resourceForKind,
  storageKey,
  apiResourceList,
  apiGroupList,
  apiVersions,
} from '../../../src/control/api/index.js';
import { StoreError } from '../../../src/control/store/index.js';

describe('Status errors, as Kubernetes writes them', () => {
  it('NotFound, Conflict and Invalid have the shapes, codes and messages kubectl prints', () => {
    expect(errors.notFound('pods', 'web').toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "web" not found',
      reason: 'NotFound',
      details: { name: 'web', kind: 'pods' },
      code: 404,
    });
    expect(errors.notFound('deployments.apps', 'api', 'apps').message).toBe('deployments.apps "api" not found');
    const c = errors.conflict('pods', 'web');
    expect([c.code, c.reason]).toEqual([409, 'Conflict']);
    expect(c.message).toBe(
      'Operation cannot be fulfilled on pods "web": the object has been modified; please apply your changes to the latest version and try again',
    );
    const inv = errors.invalid('Pod', 'Web', [
      { field: 'metadata.name', message: 'Invalid value: "Web": bad', reason: 'FieldValueInvalid' },
    ]);
    expect(inv.code).toBe(422);
    expect(inv.message).toBe('Pod "Web" is invalid: metadata.name: Invalid value: "Web": bad');
    expect(inv.toStatus().details).toMatchObject({
      kind: 'Pod',
      causes: [{ field: 'metadata.name', reason: 'FieldValueInvalid' }],
    });
  });

  it('maps store failures: compacted history is 410 Expired (the client lists again)', () => {
    expect(fromStoreError(new StoreError('Compacted', 'gone'), 'pods', 'x').toStatus()).toMatchObject({
      code: 410,
      reason: 'Expired',
    });
    expect(fromStoreError(new StoreError('Conflict', 'c'), 'pods', 'x').code).toBe(409);
    expect(fromStoreError(new StoreError('AlreadyExists', 'a'), 'pods', 'x').reason).toBe('AlreadyExists');
    expect(fromStoreError(new StoreError('Unavailable', 'etcd down'), 'pods', 'x').code).toBe(503);
  });
});

describe('names', () => {
  it('follows DNS-1123 labels and subdomains', () => {
    expect(dns1123LabelErrors('web-1')).toEqual([]);
    expect(dns1123LabelErrors('Web')).toHaveLength(1);
    expect(dns1123LabelErrors('a.b')).toHaveLength(1);
    expect(dns1123LabelErrors('x'.repeat(64))[0]).toBe('must be no more than 63 characters');
    expect(dns1123SubdomainErrors('my.pod-1')).toEqual([]);
    expect(dns1123SubdomainErrors('-bad')).toHaveLength(1);
  });
});

describe('resources and discovery', () => {
  it('finds resources the ways kubectl names them', () => {
    expect(findResource('po')?.kind).toBe('Pod');
    expect(findResource('svc')?.kind).toBe('Service');
    expect(findResource('deployments.apps')?.kind).toBe('Deployment');
    expect(findResource('netpol')?.group).toBe('networking.k8s.io');
    expect(findResource('deployments.networking.k8s.io')).toBeUndefined();
    expect(resourceForKind('networking.k8s.io/v1', 'NetworkPolicy')?.plural).toBe('networkpolicies');
    expect(resourceForKind('v1', 'Deployment')).toBeUndefined();
  });

  it('keys objects by group, resource, namespace and name', () => {
    expect(storageKey(findResource('pods')!, 'default', 'web')).toBe('core/pods/default/web');
    expect(storageKey(findResource('ns')!, undefined, 'default')).toBe('core/namespaces/default');
    expect(storageKey(findResource('deploy')!, 'shop', 'api')).toBe('apps/deployments/shop/api');
  });

  it('serves discovery documents with every resource of every group', () => {
    expect(apiVersions()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (apiGroupList() as { groups: { name: string; preferredVersion: { groupVersion: string } }[] })
      .groups;
    expect(groups.map((g) => g.name).sort()).toEqual([
      'apps',
      'authentication.k8s.io',
      'authorization.k8s.io',
      'discovery.k8s.io',
      'gateway.networking.k8s.io',
      'networking.k8s.io',
      'rbac.authorization.k8s.io',
    ]);
    const core = apiResourceList('v1') as {
      resources: { name: string; namespaced: boolean; shortNames?: string[]; verbs: string[] }[];
    };
    expect(core.resources.find((r) => r.name === 'pods')).toMatchObject({ namespaced: true, shortNames: ['po'] });
    expect(core.resources.find((r) => r.name === 'pods')!.verbs).toContain('watch');
    expect(core.resources.some((r) => r.name === 'pods/status')).toBe(true);
    expect(core.resources.find((r) => r.name === 'namespaces')!.namespaced).toBe(false);
    expect(apiResourceList('nosuch/v1')).toBeNull();
    // the reviews are create-only
    const authz = apiResourceList('authorization.k8s.io/v1') as { resources: { name: string; verbs: string[] }[] };
    expect(authz.resources.map((r) => [r.name, r.verbs])).toEqual([
      ['selfsubjectaccessreviews', ['create']],
      ['selfsubjectrulesreviews', ['create']],
    ]);
  });
});
