// Moved to control/client/apply.ts (examples use it too); this path stays until the CLI split's verbs import control/client.
export { apply, readManifests, parseManifests, unchangedBy, ApplyError, type Doc } from '../control/client/index.js';
