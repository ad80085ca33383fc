/**
 * `podwire probe`: a reachability matrix of pods × ports × protocols,
 * expected (the policy model, src/policy) beside observed (real traffic
 * from inside each source pod), as cyclonus prints it.
 */
export * from './wire.js';
export {
  planProbes,
  serviceFor,
  podKey,
  cellId,
  TARGET_MODES,
  type PlanInput,
  type PlannedTable,
  type ProbePlan,
  type ProbeProtocol,
  type ServiceLite,
  type Target,
  type TargetMode,
  type TargetOrNone,
} from './plan.js';
export { expectConnection, type Expectation } from './expect.js';
export {
  assembleMatrix,
  markOf,
  matrixFailed,
  type Cell,
  type Mark,
  type MatrixSummary,
  type MatrixTable,
  type ProbeMatrix,
  type SourceOutcome,
} from './matrix.js';
export { formatMatrix, matrixJson, summaryLine, LEGEND } from './print.js';
export { probe, PROBER, ProbeError, type ProbeDeps, type ProbeOptions } from './run.js';
export {
  probeTopology,
  probeTopologyYaml,
  parseTopologySpec,
  AGNHOST_IMAGE,
  type TopologyOptions,
} from './topology.js';
