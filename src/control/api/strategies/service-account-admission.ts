import type { Store } from '../../store/index.js';
import { ApiError } from '../status.js';
import { RESOURCE_TYPES, storageKey } from '../resources.js';
import type { KubeObject } from '../object.js';
import type { Strategy } from './strategy.js';

/**
 * The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount),
 * on a pod's create: `spec.serviceAccountName` defaults to `default` (and
 * the deprecated `serviceAccount` mirrors it), and a pod whose
 * ServiceAccount does not exist is refused (403). The `default` one is made
 * by the ServiceAccount controller just after its namespace, so a pod
 * created at once waits for it a little, as upstream retries it.
 * The token itself is not mounted here: the kubelet projects it
 * (the contract of #15: no kube-api-access volume is added to the spec).
 */
const DEFAULT_SA = 'default';
/** upstream: 10 tries 100–200 ms apart for `default` */
const DEFAULT_SA_TRIES = 10;

export function defaultServiceAccount(spec: Record<string, any>): Record<string, any> {
  const name = spec.serviceAccountName || spec.serviceAccount || DEFAULT_SA;
  return { ...spec, serviceAccountName: name, serviceAccount: name };
}

export function withServiceAccountAdmission(pod: Strategy, store: Store, sleep = defaultSleep): Strategy {
  const saType = RESOURCE_TYPES.find((r) => r.kind === 'ServiceAccount')!;
  return {
    ...pod,
    async beforeWrite(t, o, cur) {
      let next: KubeObject = o;
      if (!cur && o.spec && typeof o.spec === 'object') {
        next = { ...o, spec: defaultServiceAccount(o.spec) };
        const ns = t.namespace!;
        const name: string = next.spec!.serviceAccountName;
        const tries = name === DEFAULT_SA ? DEFAULT_SA_TRIES : 1;
        let found = false;
        for (let i = 0; i < tries && !found; i++) {
          if (i) await sleep(100 + Math.floor(Math.random() * 100));
          found = !!(await store.get(storageKey(saType, ns, name)));
        }
        if (!found)
          throw new ApiError(
            'Forbidden',
            `pods "${o.metadata.name}" is forbidden: error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`,
            { name: o.metadata.name, kind: 'pods' },
          );
      }
      return pod.beforeWrite ? pod.beforeWrite(t, next, cur) : next;
    },
  };
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
