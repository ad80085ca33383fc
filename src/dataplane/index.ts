export { Pipeline } from './pipeline.js';
export {
  PORT_PODS,
  PORT_UNDERLAY,
  type NodeIdentity,
  type TxPort,
  type PipelineOptions,
  type PipelineEvents,
} from './context.js';
export { FWD_LOCAL_POD, FWD_VXLAN, type PipelineTracer, type StageEvent } from './trace.js';
export { Counters } from './counters.js';
export {
  DROP,
  DROP_REASONS,
  DROP_REASON_COUNT,
  dropReasonName,
  dropReasonId,
  describeDropReason,
  type DropReason,
} from './drop-reasons.js';
export { NeighborTable, PeerTable, UnderlayNeighbors, PodTraffic, PeerTraffic, type Peer } from './tables.js';
// CIDR arithmetic lives in packet/cidr.ts; re-exported for the dataplane's users
export {
  cidrContains,
  cidrMask,
  parseCidr,
  formatCidr,
  cidrHost,
  cidrSize,
  CidrError,
  type Cidr,
} from '../packet/index.js';
export { TokenBucket } from './token-bucket.js';
export {
  LbState,
  serviceSnatIp,
  CT_DNAT,
  CT_SNAT,
  CT_MASQ,
  CT_FROM_UNDERLAY,
  CT_POLICY,
  type LbOptions,
} from './lb-state.js';
export { STAGES, FWD_UNDERLAY, type StageName, type NatEvent, type PolicyEvent } from './trace.js';
export {
  ProbeHolds,
  probeKey,
  HOLD_POD_RX,
  HOLD_DELIVER,
  HOLD_ENCAP,
  HOLD_POINT_NAMES,
  HOLD_TIMEOUT_MS,
  type HeldProbe,
  type HoldPoint,
} from './trace-hold.js';
