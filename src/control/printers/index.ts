/**
 * kubectl 1.30's table columns for API objects, as pure functions of the
 * object: the API server's server-side printing (meta.k8s.io/v1 Table) and
 * the CLI's get/describe share them.
 */
export { PRINTERS, columnsFor, formatEndpoints, nodeStatus, EVENT_WIDE_COLUMNS, type Printer } from './printers.js';
export { podCells, conditionStatus, type PodCells } from './pod-status.js';
export { humanDuration, since, rfc1123z, goTimeString } from './duration.js';
export { formatLabels, selectorString, formatLabelSelector, selects } from './selectors.js';
