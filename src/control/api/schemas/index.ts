import type { z } from 'zod';
import { namespace, configMap, secret, event } from './core.js';
import { pod, service, endpoints, node } from './core-workloads.js';
import { deployment, replicaSet, statefulSet } from './apps.js';
import { NETWORKING_SCHEMAS } from './networking-index.js';
import { RBAC_SCHEMAS } from './rbac.js';

/** Kind -> complete strict schema. The API server serves exactly these kinds. */
export const SCHEMAS: Record<string, z.ZodType> = {
  Namespace: namespace,
  ConfigMap: configMap,
  Secret: secret,
  Event: event,
  Pod: pod,
  Service: service,
  Endpoints: endpoints,
  Node: node,
  Deployment: deployment,
  ReplicaSet: replicaSet,
  StatefulSet: statefulSet,
  ...NETWORKING_SCHEMAS,
  ...RBAC_SCHEMAS,
};
