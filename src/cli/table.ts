// The table printer lives in text/table.ts (one printer, on the one tabwriter); this path stays until the CLI split's verbs import it from there.
export { table } from '../text/index.js';
