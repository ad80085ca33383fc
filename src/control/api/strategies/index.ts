import type { Store } from '../../store/index.js';
import { gatewayClassStrategy } from './gateway-class.js';
import { namespaceStrategy } from './namespace.js';
import { makePodStrategy, type DefaultTolerationSeconds } from './pod.js';
import { ServiceStrategy } from './service.js';
import type { Strategy } from './strategy.js';
import { workloadStrategy } from './workload.js';
import { configDataUpdateCauses } from '../config-data.js';
import { roleRefUpdateCauses } from '../rbac-validation.js';
import { withServiceAccountAdmission } from './service-account-admission.js';

export type { Strategy } from './strategy.js';
export { SERVICE_ALLOC } from './service.js';
export { DEFAULT_TOLERATION_SECONDS, type DefaultTolerationSeconds } from './pod.js';

/** Kinds with nothing special get this one. */
const PLAIN: Strategy = {};

/** Secrets and ConfigMaps: a Secret's type, and data once `immutable`, stay as they are. */
const CONFIG_DATA: Strategy = { validateUpdate: configDataUpdateCauses };

/** RoleBindings and ClusterRoleBindings: roleRef is immutable. */
const BINDING: Strategy = { validateUpdate: roleRefUpdateCauses };

export interface StrategyOptions {
  /** the ServiceAccount admission plugin on pods (on where a ServiceAccount controller makes `default`) */
  serviceAccountAdmission?: boolean;
  /** the DefaultTolerationSeconds admission plugin's seconds (default 300 each) */
  defaultTolerationSeconds?: DefaultTolerationSeconds;
}

/**
 * One strategy per kind that needs one, made per API server (a Service
 * strategy holds the allocation index and the queue of Service writes).
 */
export function strategies(store: Store, opts: StrategyOptions = {}): (kind: string) => Strategy {
  const podStrategy = makePodStrategy(opts.defaultTolerationSeconds);
  const byKind = new Map<string, Strategy>([
    ['Pod', opts.serviceAccountAdmission ? withServiceAccountAdmission(podStrategy, store) : podStrategy],
    ['RoleBinding', BINDING],
    ['ClusterRoleBinding', BINDING],
    ['Service', new ServiceStrategy(store)],
    ['Namespace', namespaceStrategy(store)],
    ['Deployment', workloadStrategy],
    ['ReplicaSet', workloadStrategy],
    ['StatefulSet', workloadStrategy],
    ['GatewayClass', gatewayClassStrategy],
    ['Secret', CONFIG_DATA],
    ['ConfigMap', CONFIG_DATA],
  ]);
  return (kind) => byKind.get(kind) ?? PLAIN;
}
