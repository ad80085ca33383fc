import type { ResourceType } from '../../control/api/index.js';
import { ApiClientError } from '../../control/client/index.js';
import { parseResourceArgs } from './args.js';
import type { KubeContext, NamespaceFlags } from './context.js';
import { errorLine, KubeError } from './errors.js';
import { evalJsonPath, JsonPathError } from './jsonpath.js';
import { nameOf, resourceName } from './output.js';

/**
 * `wait --for=condition=Ready|delete|jsonpath={…}=VALUE TYPE/NAME… | TYPE
 * -l SEL | TYPE --all [--timeout=30s]`: watch each object until the
 * condition holds (`pod/web-1 condition met`), or fail with kubectl's
 * `timed out waiting for the condition on pods/web-1`. Watch-based: no
 * polling; a stream that ends is resumed from a fresh read.
 */
type Obj = Record<string, any>;

export interface WaitFlags extends NamespaceFlags {
  for: string;
  selector?: string;
  fieldSelector?: string;
  all?: boolean;
  timeout?: string;
}

type Condition =
  | { kind: 'delete' }
  | { kind: 'condition'; type: string; value: string }
  | { kind: 'jsonpath'; path: string; value?: string };

export function parseFor(spec: string): Condition {
  if (!spec)
    throw new KubeError(
      "--for must be specified: one of delete, condition=condition-name, jsonpath='{JSONPath expression}'=[JSONPath value] or create",
    );
  if (spec.toLowerCase() === 'delete') return { kind: 'delete' };
  if (spec.startsWith('condition=')) {
    const rest = spec.slice('condition='.length);
    const eq = rest.indexOf('=');
    return eq >= 0
      ? { kind: 'condition', type: rest.slice(0, eq), value: rest.slice(eq + 1) }
      : { kind: 'condition', type: rest, value: 'true' };
  }
  if (spec.startsWith('jsonpath=')) {
    const rest = spec.slice('jsonpath='.length).replace(/^'(.*)'(=.*)?$/, '$1$2');
    const close = rest.lastIndexOf('}');
    if (!rest.startsWith('{') || close < 0) throw new KubeError(`unrecognized JSONPath expression: ${rest}`);
    const path = rest.slice(0, close + 1);
    const tail = rest.slice(close + 1);
    if (tail && !tail.startsWith('='))
      throw new KubeError(
        `jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'`,
      );
    return { kind: 'jsonpath', path, value: tail ? tail.slice(1) : undefined };
  }
  throw new KubeError(`unrecognized condition: "${spec}"`);
}

/** Go durations as kubectl's --timeout takes them: 30s, 1m30s, 500ms, 0; a bare number is seconds. */
export function parseTimeoutMs(t: string | undefined): number {
  if (t === undefined || t === '') return 30_000;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;
  let ms = 0;
  let m: RegExpExecArray | null;
  let seen = 0;
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  while ((m = re.exec(body))) {
    ms += Number(m[1]) * units[m[2]];
    seen += m[0].length;
  }
  if (!seen || seen !== body.length)
    throw new KubeError(`invalid argument "${t}" for "--timeout" flag: time: invalid duration "${t}"`);
  return neg ? -ms : ms;
}

export function conditionMet(c: Condition, o: Obj): boolean {
  if (c.kind === 'delete') return false;
  if (c.kind === 'condition') {
    const cond = (o.status?.conditions ?? []).find((x: Obj) => String(x.type).toLowerCase() === c.type.toLowerCase());
    if (!cond || String(cond.status).toLowerCase() !== c.value.toLowerCase()) return false;
    return !(
      cond.observedGeneration !== undefined &&
      o.metadata?.generation !== undefined &&
      cond.observedGeneration < o.metadata.generation
    );
  }
  let found: unknown[];
  try {
    found = evalJsonPath(o, c.path);
  } catch (e) {
    if (e instanceof JsonPathError) throw new KubeError(e.message);
    throw e;
  }
  if (c.value === undefined) return found.length > 0 && found[0] !== null;
  if (found.length !== 1) return false;
  const v = found[0];
  if (v !== null && typeof v === 'object')
    throw new KubeError(`jsonpath leads to a nested object or list which is not supported`);
  return String(v) === c.value;
}

/** Wait for one object; resolves true when the condition is met before `deadline`. */
function waitOne(
  ctx: KubeContext,
  r: ResourceType,
  ns: string | undefined,
  name: string,
  c: Condition,
  deadline: number,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let handle: { close(): void } | null = null;
    const finish = (ok: boolean, err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      handle?.close();
      if (err) reject(err);
      else resolve(ok);
    };
    const timer = setTimeout(() => finish(false), Math.max(0, deadline - ctx.now()));
    const check = (o: Obj | null) => {
      if (c.kind === 'delete' ? o === null : o !== null && conditionMet(c, o)) finish(true);
    };
    const start = async (): Promise<void> => {
      if (settled) return;
      const cur = await ctx.client.tryGet(r, ns, name);
      if (cur === null && c.kind !== 'delete') {
        // kubectl: waiting for a condition on an object that is not there is an error
        throw new ApiClientError(404, 'NotFound', `${resourceName(r)} "${name}" not found`);
      }
      check(cur);
      if (settled || cur === null) return;
      handle = ctx.client.watch(
        r,
        { namespace: ns, fieldSelector: `metadata.name=${name}`, resourceVersion: cur.metadata.resourceVersion },
        (e) => {
          try {
            if (e.type === 'DELETED') check(null);
            else if (e.type === 'ADDED' || e.type === 'MODIFIED') check(e.object);
          } catch (err) {
            finish(false, err);
          }
        },
        () => {
          // stream ended (server restart, expired history): read again and watch on
          if (!settled) setTimeout(() => void start().catch((err) => finish(false, err)), 100).unref?.();
        },
      );
    };
    void start().catch((err) => finish(false, err));
  });
}

export async function wait(ctx: KubeContext, args: string[], f: WaitFlags): Promise<number> {
  const c = parseFor(f.for);
  const timeoutMs = parseTimeoutMs(f.timeout);
  const deadline = ctx.now() + (timeoutMs < 0 ? 7 * 24 * 3_600_000 : timeoutMs);
  const targets: { r: ResourceType; ns?: string; name: string }[] = [];
  for (const { r, names } of parseResourceArgs(args, 'wait')) {
    const ns = r.namespaced && !f.allNamespaces ? f.namespace : undefined;
    if (names.length) {
      if (f.selector || f.all) throw new KubeError('name cannot be provided when a selector is specified');
      for (const name of names) {
        // kubectl: with --for=delete an object that is already gone is simply not visited
        if (c.kind === 'delete' && (await ctx.client.tryGet(r, ns, name)) === null) continue;
        targets.push({ r, ns, name });
      }
      continue;
    }
    if (!f.selector && !f.all && !f.fieldSelector)
      throw new KubeError('resource(s) were provided, but no name was specified');
    for (const o of (
      await ctx.client.list(r, {
        namespace: ns,
        labelSelector: f.selector || undefined,
        fieldSelector: f.fieldSelector || undefined,
      })
    ).items) {
      targets.push({ r, ns: o.metadata.namespace, name: o.metadata.name });
    }
  }
  if (!targets.length) {
    if (c.kind === 'delete') return 0;
    throw new KubeError('no matching resources found');
  }
  for (const t of targets) {
    let ok: boolean;
    try {
      ok = await waitOne(ctx, t.r, t.ns, t.name, c, deadline);
    } catch (e) {
      if (c.kind === 'delete' && e instanceof ApiClientError && e.status === 404) ok = true;
      else {
        ctx.err(`${errorLine(e, ctx.server)}\n`);
        return 1;
      }
    }
    if (!ok) {
      ctx.err(`error: timed out waiting for the condition on ${resourceName(t.r)}/${t.name}\n`);
      return 1;
    }
    ctx.out(`${nameOf(t.r, { metadata: { name: t.name } })} condition met\n`);
  }
  return 0;
}
