// Moved to lab/capture-client.ts (bench uses it too); this path stays until the CLI split's verbs import lab/.
export { captureDrops, captureNat, captureInNamespace } from '../lab/index.js';
