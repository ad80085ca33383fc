import type { KubeObject } from './objects.js';

/**
 * The ServiceAccount controller's decision (pkg/controller/serviceaccount):
 * every namespace that is not terminating has a ServiceAccount named
 * `default`; pods that name no ServiceAccount run as it. Pure: the
 * namespaces that lack it, given the two caches.
 */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

export function namespacesMissingDefault(namespaces: KubeObject[], serviceAccounts: KubeObject[]): string[] {
  const have = new Set(
    serviceAccounts.filter((s) => s.metadata.name === DEFAULT_SERVICE_ACCOUNT).map((s) => s.metadata.namespace),
  );
  return namespaces
    .filter((n) => !n.metadata.deletionTimestamp && n.status?.phase !== 'Terminating')
    .map((n) => n.metadata.name)
    .filter((n) => !have.has(n))
    .sort();
}

export function defaultServiceAccountObject(namespace: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } };
}
