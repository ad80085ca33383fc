// Moved to lab/observe-client.ts (bench uses it too); this path stays until the CLI split's verbs import lab/.
export { observe, type ObserveOptions } from '../lab/index.js';
