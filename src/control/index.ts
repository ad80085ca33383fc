/**
 * The control folder's top-level pure modules (labels and selectors, time, canonical JSON).
 * The API server, client, controllers, store and printers each have their own index.ts:
 * control/api, control/client, control/controllers, control/store, control/printers.
 */
export {
  LabelError,
  labelKeyError,
  labelValueError,
  parseSelector,
  selectorRequirements,
  matches,
  type Labels,
  type Requirement,
  type LabelSelector,
} from './labels.js';
export { isoTime } from './time.js';
export { canonicalJson } from './canonical-json.js';
