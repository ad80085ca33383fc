/**
 * NetworkPolicy: the model and evaluator (pure). compilePolicies() turns the
 * API objects into a PolicySet whose judge() gives a connection's verdict;
 * explain.ts says it in words. The dataplane stage is
 * src/dataplane/policy-stage.ts; the agent's watch src/agent/policy-watch.ts.
 */
export * from './types.js';
export { compilePolicies, parseV4Cidr, type CompileOptions } from './compile.js';
export {
  PolicySet,
  selectorIsEmpty,
  type CompiledPeer,
  type CompiledPort,
  type CompiledRule,
  type PodPolicies,
  type PolicyInfo,
} from './policy-set.js';
export {
  denyDetail,
  lintPolicy,
  peerText,
  portText,
  ruleSpecText,
  ruleText,
  selectorText,
  verdictText,
} from './explain.js';
export { policyNamespaceOf, policyOf, policyPodOf } from './from-objects.js';
