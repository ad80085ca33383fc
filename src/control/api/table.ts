import { PRINTERS, columnsFor } from '../printers/index.js';
import { errors } from './status.js';

/**
 * Server-side printing (meta.k8s.io/v1 Table), which the real kubectl asks
 * for on every `get` (Accept: application/json;as=Table;…) and without
 * which it prints only NAME and AGE. The cells come from the same pure
 * printers `podwire get` uses (kubectl 1.30's columns); -o wide columns are
 * sent with priority 1, which kubectl shows only with -o wide. Watches
 * too (kubectl get -w): each event's object a Table of one row, column
 * definitions in the first event only, as kube-apiserver sends them.
 */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /application\/json;[^,]*as=Table/.test(accept.replace(/\s+/g, ''));
}

/**
 * What a row carries of its object (?includeObject=): kubectl asks for the
 * default, Metadata — a PartialObjectMetadata (what --show-labels and -A
 * read) — or Object when it sorts; None for nothing.
 */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function includeObjectParam(v: string | null): IncludeObject {
  if (v === null || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw errors.badRequest(`includeObject must be None, Metadata or Object (got "${v}")`);
}

function rowObject(o: Record<string, any>, include: IncludeObject): unknown {
  if (include === 'Object') return o;
  if (include === 'None') return undefined;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export interface TableOptions {
  includeObject?: IncludeObject;
  /** no columnDefinitions: watch events after the first (kubectl keeps the last ones it saw) */
  noHeaders?: boolean;
}

export function toTable(
  kind: string,
  items: Record<string, any>[],
  resourceVersion: string,
  nowMs = Date.now(),
  opts: TableOptions = {},
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
    columnDefinitions: opts.noHeaders ? [] : columnsFor(kind, true).map((c) => col(c, p.columns.includes(c) ? 0 : 1)),
    rows: items.map((o) => {
      const object = rowObject(o, opts.includeObject ?? 'Object');
      return object === undefined ? { cells: p.row(o, nowMs, true) } : { cells: p.row(o, nowMs, true), object };
    }),
  };
}
