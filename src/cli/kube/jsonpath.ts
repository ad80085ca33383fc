/**
 * The part of kubectl's JSONPath that `wait --for=jsonpath=…` needs:
 * `{.status.phase}`, `{.spec.containers[0].image}`,
 * `{.metadata.labels['app.kubernetes.io/name']}`,
 * `{.status.conditions[?(@.type=="Ready")].status}`, `[*]`.
 * Returns every value the path reaches.
 */
type Step =
  | { field: string }
  | { index: number }
  | { all: true }
  | { filter: { path: string[]; op: '==' | '!='; value: string } };

export class JsonPathError extends Error {
  readonly code = 'ERR_JSONPATH';
}

export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      const m = /^\.([A-Za-z0-9_-]+)/.exec(s.slice(i));
      if (!m) throw new JsonPathError(`unrecognized identifier in ${expr}`);
      steps.push({ field: m[1] });
      i += m[0].length;
    } else if (s[i] === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new JsonPathError(`unterminated array in ${expr}`);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      let m: RegExpExecArray | null;
      if (inner === '*') steps.push({ all: true });
      else if (/^-?\d+$/.test(inner)) steps.push({ index: Number(inner) });
      else if ((m = /^['"](.*)['"]$/.exec(inner))) steps.push({ field: m[1] });
      else if ((m = /^\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*['"]?([^'"]*)['"]?\)$/.exec(inner)))
        steps.push({ filter: { path: m[1].slice(1).split('.'), op: m[2] as '==' | '!=', value: m[3] } });
      else throw new JsonPathError(`unsupported array expression [${inner}] in ${expr}`);
    } else throw new JsonPathError(`unrecognized character in action: ${JSON.stringify(s[i])} in ${expr}`);
  }
  return steps;
}

export function evalJsonPath(obj: unknown, expr: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of parseJsonPath(expr)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if ('field' in step) {
        if (typeof v === 'object' && !Array.isArray(v) && step.field in (v as object))
          next.push((v as Record<string, unknown>)[step.field]);
      } else if ('index' in step) {
        if (Array.isArray(v)) {
          const x = v[step.index < 0 ? v.length + step.index : step.index];
          if (x !== undefined) next.push(x);
        }
      } else if ('all' in step) {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v as object));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          let at: any = item;
          for (const p of step.filter.path) at = at?.[p];
          const eq = at !== undefined && String(at) === step.filter.value;
          if (step.filter.op === '==' ? eq : !eq) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}
