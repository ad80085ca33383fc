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
// the printers live below, in control/printers (the API server's Table printing uses them too)
export {
  PRINTERS,
  columnsFor,
  formatEndpoints,
  podCells,
  humanDuration,
  rfc1123z,
} from '../../control/printers/index.js';
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
export { tabbed, TabWriter, TABLE_WRITER, DESCRIBE_WRITER } from '../../text/index.js';
export { evalJsonPath, executeTemplate, parseCustomColumns, customColumnCells } from './jsonpath.js';
export { printTemplate } from './get.js';
export { errorLine, KubeError } from './errors.js';
export { describePod } from './describe-workloads.js';
export { describeService } from './describe-network.js';
