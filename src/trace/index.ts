export { buildProbe, parseTarget, parseServiceTarget, type ProbeSpec, type ProbeProto } from './probe.js';
export {
  explainTrace,
  formatTrace,
  type TraceInput,
  type TraceResult,
  type InjectReport,
  type AgentEvent,
  type Layer,
} from './report.js';
export { injectProbe, catchProbe } from './inject.js';
export { explainDns, describeOutcome, tryLine, type DnsLayer } from './dns-report.js';
export { composeHttpTrace, parseHttpTarget, Frontend, HttpTraceResult, PacketLeg } from './http-ladder.js';
export { certificateWords, explainRoute } from './http-route.js';
