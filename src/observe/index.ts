export { FlowLog, describeFrame, tcpFlagNames, type FlowEvent } from './flow-log.js';
export { formatFlow, matchFlow, serviceMatches, type FlowFilter, type Namer } from './format.js';
export { agentMetrics, type MetricsSource } from './metrics.js';
