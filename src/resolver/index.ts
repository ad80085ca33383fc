export {
  parseResolverConf,
  describeResolverConf,
  MAXNS,
  RES_MAXNDOTS,
  type ResolverConfig,
  type LibcFlavor,
} from './resolv-conf.js';
export {
  searchPlan,
  resolveLikeLibc,
  queryStatus,
  finalOutcome,
  describeVia,
  countDots,
  MAX_NAME_CHARS,
  type Candidate,
  type SearchPlan,
  type Outcome,
  type Try,
  type Query,
  type QueryStatus,
  type Resolution,
  type Via,
} from './search.js';
export { lookupHosts, type HostsEntry } from './hosts.js';
export { askServers, udpQuery, tcpQuery, encodeQuery, type StubOptions } from './stub.js';
export { podResolve, type PodResolveOptions, type PodResolveReport } from './pod-resolve.js';
