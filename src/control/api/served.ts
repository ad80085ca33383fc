import { RESOURCE_TYPES } from './resources.js';
import { SCHEMAS } from './validate.js';

/**
 * The kinds the API server serves: only those whose whole schema it
 * validates (see validate.ts); discovery lists exactly these.
 */
export const SERVED = RESOURCE_TYPES.filter((r) => SCHEMAS[r.kind]);
