/**
 * The controllers: kube-controller-manager and kube-scheduler in miniature.
 * `startControllers` runs them against an API server; the pure decision
 * modules are exported for tests and for tools that want to explain a
 * decision (why is this pod unschedulable, which subsets will this Service get).
 */
export { startControllers, type ControllerOptions } from './manager.js';
export { planPodCidrs, conflictConditions, type IpamConfig, type IpamPlan, type PodCidrConflict } from './ipam.js';
export {
  observeHeartbeat,
  staleNodeConditions,
  podsToMarkNotReady,
  isNodeReady,
  type HeartbeatSeen,
} from './node-lifecycle.js';
export {
  conditionTaints,
  evictionDecision,
  evictionSinceMs,
  toleratesTaint,
  tolerates,
  taintsOf,
  taintString,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_OUT_OF_SERVICE,
  DEFAULT_TOLERATION_SECONDS,
  type Taint,
  type Toleration,
  type EvictionDecision,
} from './taints.js';
export {
  schedulePods,
  countSiblings,
  spreadGroup,
  nodeFitFailure,
  needsScheduling,
  unschedulableMessage,
  countPodsPerNode,
  DEFAULT_SCHEDULER,
  type Placement,
} from './scheduler.js';
export {
  planDeployment,
  deploymentHash,
  templateKey,
  rsRevision,
  REVISION,
  ANNOTATIONS_TO_SKIP,
  type DeploymentPlan,
} from './deployment.js';
export { planReplicaSet, podFromTemplate, pickVictims, type ReplicaSetPlan } from './replicaset.js';
export { planStatefulSet, statefulSetPod, revisionOf, type StatefulSetPlan } from './statefulset.js';
export {
  desiredEndpoints,
  endpointSubsets,
  findPort,
  type EndpointSubset,
  type EndpointAddress,
  type EndpointPort,
} from './endpoints.js';
export { planEndpointSlices, desiredSliceContents, type SlicePlan } from './endpoint-slices.js';
export { orphans } from './gc.js';
export { recordEvent, EventRecorder, type EventType } from './events.js';
export { templateHash, safeEncodeString, fnv32a, SAFE_ALPHABET } from './hash.js';
export { WorkQueue } from './work-queue.js';
export { KUBERNETES_SERVICE_IP } from './kubernetes-service.js';
