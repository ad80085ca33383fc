import { RESOURCE_TYPES, storageKey } from '../resources.js';
import { proxyPodLog } from '../pod-log.js';
import type { Subresource } from './subresource.js';

/** pods/log (GET): passed on to the agent of the pod's node, as the API server passes it to the kubelet. */
export const log: Subresource = {
  name: 'log',
  serves: (r, method) => r.kind === 'Pod' && method === 'GET',
  async handle({ registry, target: t, url, res }) {
    const pod = await registry.get(t);
    const nodeName: string | undefined = pod.spec?.nodeName;
    const node = nodeName
      ? await registry.store.get(
          storageKey(
            RESOURCE_TYPES.find((r) => r.kind === 'Node')!,
            undefined,
            nodeName,
          ),
        )
      : null;
    return proxyPodLog(pod, node ? JSON.parse(node.value) : null, url.searchParams, res);
  },
};
