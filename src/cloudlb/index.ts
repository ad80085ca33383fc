export { runCloudLb, EXCLUDE_LABEL, type CloudLb, type CloudLbConfig } from './cloud-lb.js';
export {
  parsePool,
  planAssignments,
  formatPool,
  inPool,
  poolSize,
  type IpRange,
  type LbServiceView,
  type Assignment,
  type AssignmentProblem,
} from './pool.js';
export {
  observeProbe,
  initialHealth,
  healthCheckTarget,
  UNHEALTHY_THRESHOLD,
  HEALTHY_THRESHOLD,
  CHECK_INTERVAL_MS,
  CHECK_TIMEOUT_MS,
  KUBE_PROXY_HEALTHZ_PORT,
  type Health,
  type HealthState,
  type HealthCheckTarget,
} from './health.js';
export { HealthChecker, httpProbe, type Probe, type CheckedNode } from './health-checker.js';
export { pickNode, rendezvousScore } from './pick.js';
export { FlowTable } from './flow-table.js';
export {
  Balancer,
  portKey,
  LB_DROP_REASONS,
  type LbDecision,
  type LbDropReason,
  type LbFrontend,
  type LbNode,
  type Candidates,
} from './balancer.js';
export { Forwarder, poolFilter } from './forwarder.js';
export { serveStatus, fetchCloudLbStatus, cloudLbRows, type CloudLbStatus, type ServiceStatus } from './status.js';
export { CloudLbError, type CloudLbErrorCode } from './errors.js';
