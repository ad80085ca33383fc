import { stringify } from 'yaml';
import { groupVersion, type ResourceType } from '../../control/api/index.js';
import { columnsFor, PRINTERS, formatLabels } from '../../control/printers/index.js';
import { TabWriter, TABLE_WRITER } from '../../text/index.js';
import { KubeError } from './errors.js';

/**
 * kubectl's output formats: the table (-o wide too; NAMESPACE first with
 * -A; `kind/name` when several types are printed), -o json and -o yaml as
 * kubectl prints unstructured objects (keys sorted, Go's JSON escaping,
 * go-yaml's layout), -o name, and `List` wrapping for several objects.
 */
type Obj = Record<string, any>;

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export function parseOutput(o: string | undefined): OutputFormat {
  if (o === undefined || o === '') return 'table';
  if (o === 'wide' || o === 'json' || o === 'yaml' || o === 'name') return o;
  throw new KubeError(
    `unable to match a printer suitable for the output format "${o}", allowed formats are: json,name,wide,yaml`,
  );
}

/** `pod`, `deployment.apps`, `networkpolicy.networking.k8s.io`: how kubectl names a kind. */
export const kindName = (r: ResourceType) => `${r.kind.toLowerCase()}${r.group ? `.${r.group}` : ''}`;
/** `pods`, `deployments.apps`: the resource as in kubectl's messages. */
export const resourceName = (r: ResourceType) => `${r.plural}${r.group ? `.${r.group}` : ''}`;

export const nameOf = (r: ResourceType, o: Obj) => `${kindName(r)}/${o.metadata.name}`;

/** The object with its apiVersion and kind (list items come without them). */
export function withType(r: ResourceType, o: Obj): Obj {
  return { ...o, apiVersion: o.apiVersion ?? groupVersion(r), kind: o.kind ?? r.kind };
}

/** What kubectl prints for several objects (or none): a v1 List. */
export function asList(items: Obj[]): Obj {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** encoding/json MarshalIndent(obj, "", "    "): sorted map keys, <>& and U+2028/9 escaped. */
export function toJSON(obj: unknown): string {
  return `${JSON.stringify(sortKeys(obj), null, 4)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')}\n`;
}

/** sigs.k8s.io/yaml: sorted keys, YAML 1.1 quoting ("True", timestamps, numbers-as-strings), sequences not indented. */
export function toYAML(obj: unknown): string {
  return stringify(sortKeys(obj), { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 80 });
}

export interface TableOptions {
  wide: boolean;
  allNamespaces: boolean;
  withKind: boolean;
  noHeaders?: boolean;
  /** --show-labels: a last LABELS column */
  showLabels?: boolean;
}

/** Header and cells of one object's row. */
export function tableRow(r: ResourceType, o: Obj, nowMs: number, opts: TableOptions): string[] {
  const cells = PRINTERS[r.kind].row(o, nowMs, opts.wide);
  if (opts.withKind) {
    const i = columnsFor(r.kind, opts.wide).indexOf('NAME');
    if (i >= 0) cells[i] = `${kindName(r)}/${cells[i]}`;
  }
  if (opts.showLabels) cells.push(formatLabels(o.metadata?.labels));
  return opts.allNamespaces && r.namespaced ? [o.metadata.namespace ?? '', ...cells] : cells;
}

export function tableHeader(r: ResourceType, opts: TableOptions): string[] {
  const cols = [...columnsFor(r.kind, opts.wide), ...(opts.showLabels ? ['LABELS'] : [])];
  return opts.allNamespaces && r.namespaced ? ['NAMESPACE', ...cols] : cols;
}

const line = (cells: string[]) => `${cells.join('\t')}\n`;

/**
 * kubectl get's tables: one per resource type that has objects, each
 * aligned on its own, a blank line between them. Empty types print nothing.
 */
export function renderTables(groups: { r: ResourceType; items: Obj[] }[], nowMs: number, opts: TableOptions): string {
  let out = '';
  for (const g of groups) {
    if (!g.items.length) continue;
    const w = new TabWriter(TABLE_WRITER);
    if (!opts.noHeaders) w.write(line(tableHeader(g.r, opts)));
    for (const o of g.items) w.write(line(tableRow(g.r, o, nowMs, opts)));
    out += (out ? '\n' : '') + w.flush();
  }
  return out;
}

/**
 * kubectl get -w: the first table, then one row per change, each aligned
 * with what was printed before (tabwriter.RememberWidths).
 */
export class WatchPrinter {
  private readonly w = new TabWriter({ ...TABLE_WRITER, remember: true });
  private headerDone = false;

  constructor(
    private readonly r: ResourceType,
    private readonly opts: TableOptions,
  ) {}

  initial(items: Obj[], nowMs: number): string {
    if (!items.length) return '';
    this.headerDone = true;
    this.w.write(line(tableHeader(this.r, this.opts)));
    for (const o of items) this.w.write(line(tableRow(this.r, o, nowMs, this.opts)));
    return this.w.flush();
  }

  row(o: Obj, nowMs: number): string {
    if (!this.headerDone) {
      this.headerDone = true;
      this.w.write(line(tableHeader(this.r, this.opts)));
    }
    this.w.write(line(tableRow(this.r, o, nowMs, this.opts)));
    return this.w.flush();
  }
}
