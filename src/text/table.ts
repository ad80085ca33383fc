import { TabWriter } from './tabwriter.js';

/** podwire's own tables (lb, conntrack, probe, lab outside): kubectl's layout, columns padded to the widest cell plus three spaces. */
const PLAIN_TABLE = { minwidth: 0, padding: 3 };

/**
 * A table from a head and rows, through the one tabwriter (text/tabwriter.ts):
 * every cell but the last padded to its column's widest plus three spaces,
 * no trailing blanks.
 */
export function table(head: string[], rows: string[][]): string {
  const w = new TabWriter(PLAIN_TABLE);
  for (const r of [head, ...rows]) w.write(head.map((_, i) => r[i] ?? '').join('\t') + '\n');
  return w
    .flush()
    .slice(0, -1)
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}
