import type { ResourceType } from '../../control/api/index.js';
import { parseResourceArgs, type ResourceRequest } from './args.js';
import type { KubeContext, NamespaceFlags } from './context.js';
import { errorLine, KubeError } from './errors.js';
import { customColumnCells, executeTemplate, JsonPathError, parseCustomColumns, parseTemplate } from './jsonpath.js';
import { TabWriter, TABLE_WRITER } from '../../text/index.js';
import {
  asList,
  nameOf,
  parseOutput,
  renderTables,
  toJSON,
  toYAML,
  WatchPrinter,
  withType,
  type OutputFormat,
} from './output.js';

/**
 * `get TYPE[,TYPE…] [NAME…]`: the objects as kubectl prints them. A missing
 * named object is an `Error from server (NotFound)` line and exit 1 (the
 * others still print); nothing at all is `No resources found…` on stderr
 * and exit 0. With -w, after the table, one row per change until Ctrl-C.
 */
type Obj = Record<string, any>;

export interface GetFlags extends NamespaceFlags {
  selector?: string;
  fieldSelector?: string;
  output?: string;
  watch?: boolean;
  watchOnly?: boolean;
  ignoreNotFound?: boolean;
  showLabels?: boolean;
}

/**
 * -o jsonpath=TEMPLATE and -o custom-columns=SPEC (kubectl's printers of the
 * same names; jsonpath.ts): parsed up front, so a bad one is an error
 * before anything is fetched.
 */
type Template =
  { kind: 'jsonpath'; template: string } | { kind: 'custom-columns'; cols: ReturnType<typeof parseCustomColumns> };

function parseTemplateOutput(o: string | undefined): Template | null {
  const m = /^(jsonpath|custom-columns)=(.*)$/s.exec(o ?? '');
  if (!m) {
    if (o === 'jsonpath' || o === 'custom-columns')
      throw new KubeError(
        `${o} format specified but no ${o === 'jsonpath' ? 'jsonpath template' : 'custom columns'} given`,
      );
    return null;
  }
  try {
    if (m[1] === 'jsonpath') {
      parseTemplate(m[2]);
      return { kind: 'jsonpath', template: m[2] };
    }
    return { kind: 'custom-columns', cols: parseCustomColumns(m[2]) };
  } catch (e) {
    if (e instanceof JsonPathError) throw new KubeError(`error parsing ${m[1]} ${m[2]}, ${e.message}`);
    throw e;
  }
}

/** The text of objects through a template: jsonpath over the object (or a List of them), custom-columns as a table. */
export function printTemplate(objs: Obj[], t: Template, single: boolean, header = true): string {
  if (t.kind === 'jsonpath') return executeTemplate(single && objs.length === 1 ? objs[0] : asList(objs), t.template);
  const w = new TabWriter(TABLE_WRITER);
  if (header) w.write(`${t.cols.map((c) => c.header).join('\t')}\n`);
  for (const o of objs) w.write(`${customColumnCells(o, t.cols).join('\t')}\n`);
  return w.flush();
}

export async function fetchObjects(
  ctx: KubeContext,
  reqs: ResourceRequest[],
  f: GetFlags,
): Promise<{ groups: { r: ResourceType; items: Obj[] }[]; errors: unknown[] }> {
  const groups: { r: ResourceType; items: Obj[] }[] = [];
  const errors: unknown[] = [];
  for (const { r, names } of reqs) {
    const ns = r.namespaced && !f.allNamespaces ? f.namespace : undefined;
    const items: Obj[] = [];
    if (names.length) {
      for (const n of names) {
        try {
          items.push(await ctx.client.get(r, ns, n));
        } catch (e) {
          if (!(f.ignoreNotFound && (e as { status?: number }).status === 404)) errors.push(e);
        }
      }
    } else {
      items.push(
        ...(
          await ctx.client.list(r, {
            namespace: ns,
            labelSelector: f.selector || undefined,
            fieldSelector: f.fieldSelector || undefined,
          })
        ).items,
      );
    }
    groups.push({ r, items: items.map((o) => withType(r, o)) });
  }
  return { groups, errors };
}

export function printObjects(
  ctx: KubeContext,
  groups: { r: ResourceType; items: Obj[] }[],
  format: OutputFormat,
  singleItemImplied: boolean,
  f: GetFlags,
): boolean {
  const all = groups.flatMap((g) => g.items);
  if (format === 'json' || format === 'yaml') {
    const obj = singleItemImplied && all.length === 1 ? all[0] : asList(all);
    ctx.out(format === 'json' ? toJSON(obj) : toYAML(obj));
    return true;
  }
  if (format === 'name') {
    for (const g of groups) for (const o of g.items) ctx.out(`${nameOf(g.r, o)}\n`);
    return all.length > 0;
  }
  const text = renderTables(groups, ctx.now(), {
    wide: format === 'wide',
    allNamespaces: !!f.allNamespaces,
    withKind: groups.length > 1,
    showLabels: !!f.showLabels,
  });
  ctx.out(text);
  return text.length > 0;
}

export function noResources(f: NamespaceFlags, types: ResourceType[]): string {
  return !f.allNamespaces && types.every((r) => r.namespaced)
    ? `No resources found in ${f.namespace} namespace.\n`
    : 'No resources found\n';
}

export async function get(ctx: KubeContext, args: string[], f: GetFlags): Promise<number> {
  const template = parseTemplateOutput(f.output);
  const format = template ? 'table' : parseOutput(f.output);
  const reqs = parseResourceArgs(args);
  if (f.allNamespaces && reqs.some((q) => q.names.length))
    throw new KubeError('a resource cannot be retrieved by name across all namespaces');
  if (f.watch || f.watchOnly) return watch(ctx, reqs, f, format, template);
  const { groups, errors } = await fetchObjects(ctx, reqs, f);
  const singleItemImplied = reqs.length === 1 && reqs[0].names.length === 1;
  if (template) {
    const all = groups.flatMap((g) => g.items);
    if (!(singleItemImplied && errors.length)) {
      const text = printTemplate(all, template, singleItemImplied);
      if (template.kind === 'jsonpath' || all.length) ctx.out(text);
    }
    for (const e of errors) ctx.err(`${errorLine(e, ctx.server)}\n`);
    if (template.kind === 'custom-columns' && !all.length && !errors.length && !f.ignoreNotFound)
      ctx.err(
        noResources(
          f,
          reqs.map((q) => q.r),
        ),
      );
    return errors.length ? 1 : 0;
  }
  const generic = format === 'json' || format === 'yaml' || format === 'name';
  // kubectl prints nothing but the error for one missing object, and no empty List when ignoring NotFound
  const skip =
    generic && ((singleItemImplied && errors.length > 0) || (f.ignoreNotFound && !groups.some((g) => g.items.length)));
  const wrote = !skip && printObjects(ctx, groups, format, singleItemImplied, f);
  for (const e of errors) ctx.err(`${errorLine(e, ctx.server)}\n`);
  if (!wrote && !errors.length && (format === 'table' || format === 'wide') && !f.ignoreNotFound)
    ctx.err(
      noResources(
        f,
        reqs.map((q) => q.r),
      ),
    );
  return errors.length ? 1 : 0;
}

async function watch(
  ctx: KubeContext,
  reqs: ResourceRequest[],
  f: GetFlags,
  format: OutputFormat,
  template: Template | null,
): Promise<number> {
  if (reqs.length !== 1 || reqs[0].names.length > 1) throw new KubeError('you may only specify a single resource type');
  const { r, names } = reqs[0];
  const ns = r.namespaced && !f.allNamespaces ? f.namespace : undefined;
  const fieldSelector =
    [f.fieldSelector, names[0] ? `metadata.name=${names[0]}` : ''].filter(Boolean).join(',') || undefined;
  if (names[0]) await ctx.client.get(r, ns, names[0]); // NotFound as kubectl says it
  const list = await ctx.client.list(r, { namespace: ns, labelSelector: f.selector || undefined, fieldSelector });
  const opts = {
    wide: format === 'wide',
    allNamespaces: !!f.allNamespaces,
    withKind: false,
    showLabels: !!f.showLabels,
  };
  const table = new WatchPrinter(r, opts);
  let headerDone = false;
  const print = (o: Obj) => {
    const obj = withType(r, o);
    if (template) {
      ctx.out(printTemplate([obj], template, true, !headerDone));
      headerDone = true;
    } else if (format === 'json') ctx.out(toJSON(obj));
    else if (format === 'yaml') ctx.out(`---\n${toYAML(obj)}`);
    else if (format === 'name') ctx.out(`${nameOf(r, obj)}\n`);
    else ctx.out(table.row(obj, ctx.now()));
  };
  if (!f.watchOnly) {
    if (template) list.items.forEach(print);
    else if (format === 'table' || format === 'wide') {
      const text = table.initial(
        list.items.map((o) => withType(r, o)),
        ctx.now(),
      );
      if (text) ctx.out(text);
      else ctx.err(noResources(f, [r]));
    } else list.items.forEach(print);
  }
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      handle.close();
      resolve(code);
    };
    const handle = ctx.client.watch(
      r,
      { namespace: ns, labelSelector: f.selector || undefined, fieldSelector, resourceVersion: list.resourceVersion },
      (e) => {
        if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED') print(e.object);
      },
      (err) => {
        if (err && !done) ctx.err(`${errorLine(err, ctx.server)}\n`);
        finish(err ? 1 : 0);
      },
    );
    void ctx.interrupted.then(() => finish(0));
  });
}
