/**
 * `podwire trace`'s orchestration lives in src/lab/trace-run.ts, below
 * src/ui, so `podwire ui` runs the very same trace; this keeps the CLI's
 * (and the tests') import path.
 */
export { trace, type TraceOptions, type TraceOutcome, type ProbeFacts } from '../lab/index.js';
