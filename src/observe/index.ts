export { FlowLog, describeFrame, tcpFlagNames, type FlowEvent } from './flow-log.js';
export { DnsWatch, decodeDns, expansionsOf, DNS_ANSWER_WAIT_MS, type DnsInfo, type DnsFrame } from './dns-watch.js';
export { formatFlow, matchFlow, serviceMatches, type FlowFilter, type Namer } from './format.js';
export { agentMetrics, type MetricsSource } from './metrics.js';
export {
  l7Verdict,
  requestUrl,
  latencyText,
  formatHttpEvent,
  matchHttp,
  type L7Verdict,
  type L7Record,
  type ControllerRef,
} from './l7-format.js';
export { relayL7Events, type RelayOptions } from './l7-relay.js';
