import { PRINTERS, columnsFor } from '../../cli/kube/printers.js';

/**
 * Server-side printing (meta.k8s.io/v1 Table), which the real kubectl asks
 * for on every `get` (Accept: application/json;as=Table;…) and without
 * which it prints only NAME and AGE. The cells come from the same pure
 * printers `podwire get` uses (kubectl 1.30's columns); -o wide columns are
 * sent with priority 1, which kubectl shows only with -o wide.
 */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /application\/json;[^,]*as=Table/.test(accept.replace(/\s+/g, ''));
}

export function toTable(
  kind: string,
  items: Record<string, any>[],
  resourceVersion: string,
  nowMs = Date.now(),
): Record<string, unknown> | null {
  const p = PRINTERS[kind];
  if (!p) return null;
  const col = (name: string, priority: number) => ({
    name,
    type: 'string',
    format: name === 'NAME' ? 'name' : '',
    description: '',
    priority,
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    // the cells of a wide row, in columnsFor's order (Events reorder their wide columns)
    columnDefinitions: columnsFor(kind, true).map((c) => col(c, p.columns.includes(c) ? 0 : 1)),
    rows: items.map((o) => ({ cells: p.row(o, nowMs, true), object: o })),
  };
}
