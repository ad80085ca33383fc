export { analyze, type Analysis, type Conversation, type DnsExchange, type VxlanMapping } from './analyze.js';
export { decodeFrame, innermost, type Decoded } from './decode.js';
export { formatAnalysis } from './report.js';
