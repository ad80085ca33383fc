/**
 * kubectl's verbs for podwire (get, describe, delete, logs, wait) against
 * the API server, with kubectl 1.30's output and exit codes; the printers
 * and describers are exported for tests and other commands.
 */
export { registerKubeCommands } from './commands.js';
export type { KubeContext } from './context.js';
export { get, type GetFlags } from './get.js';
export { describe, DESCRIBERS } from './describe.js';
export { del, type DeleteFlags } from './delete.js';
export { logs, type LogsFlags } from './logs.js';
export { wait, parseFor, parseTimeoutMs, conditionMet, type WaitFlags } from './wait.js';
export { parseResourceArgs, ALL } from './args.js';
export { PRINTERS, columnsFor, formatEndpoints } from './printers.js';
export { podCells } from './pod-status.js';
export { humanDuration, rfc1123z } from './duration.js';
export {
  renderTables,
  WatchPrinter,
  toJSON,
  toYAML,
  asList,
  nameOf,
  withType,
  kindName,
  resourceName,
  parseOutput,
} from './output.js';
export { tabbed, TabWriter, TABLE_WRITER, DESCRIBE_WRITER } from './tabwriter.js';
export { evalJsonPath, executeTemplate, parseCustomColumns, customColumnCells } from './jsonpath.js';
export { printTemplate } from './get.js';
export { errorLine, KubeError } from './errors.js';
export { describePod } from './describe-workloads.js';
export { describeService } from './describe-network.js';
