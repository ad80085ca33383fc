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
  if (s.startsWith('$') || s.startsWith('@')) s = s.slice(1);
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

/**
 * kubectl's `-o jsonpath=TEMPLATE`: text outside braces as is, `{expr}`
 * (every value, joined by a space; maps and lists as compact JSON),
 * `{"literal"}` with \n and \t, and `{range expr}…{end}` where expressions
 * inside are relative to each item (`{.metadata.name}` or `{@.metadata.name}`).
 * Missing keys print nothing (kubectl's --allow-missing-template-keys=true).
 */
type Node = { text: string } | { expr: string } | { range: string; body: Node[] };

export function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      stack[stack.length - 1].push({ text: template.slice(i) });
      break;
    }
    if (open > i) stack[stack.length - 1].push({ text: template.slice(i, open) });
    let depth = 0;
    let close = -1;
    let quote = '';
    for (let j = open; j < template.length; j++) {
      const ch = template[j];
      if (quote) {
        if (ch === '\\') j++;
        else if (ch === quote) quote = '';
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        close = j;
        break;
      }
    }
    if (close < 0) throw new JsonPathError(`unclosed action in ${template}`);
    const inner = template.slice(open + 1, close).trim();
    i = close + 1;
    const top = stack[stack.length - 1];
    let m: RegExpExecArray | null;
    if ((m = /^range\s+(.+)$/.exec(inner))) {
      const node = { range: m[1], body: [] as Node[] };
      top.push(node);
      stack.push(node.body);
    } else if (inner === 'end') {
      if (stack.length === 1) throw new JsonPathError(`not in range, nothing to end in ${template}`);
      stack.pop();
    } else if ((m = /^"((?:[^"\\]|\\.)*)"$/.exec(inner))) {
      top.push({ text: m[1].replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c) });
    } else {
      for (const part of inner.split(/\s+(?=[.@$[])/)) {
        parseJsonPath(part.replace(/^@/, '')); // a bad expression is an error before anything prints
        top.push({ expr: part });
      }
    }
  }
  if (stack.length > 1) throw new JsonPathError(`unclosed range in ${template}`);
  return root;
}

const text = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : v === null || v === undefined
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

export function executeTemplate(obj: unknown, template: string): string {
  const run = (nodes: Node[], at: unknown): string =>
    nodes
      .map((n) => {
        if ('text' in n) return n.text;
        if ('expr' in n) return evalJsonPath(at, n.expr.replace(/^@/, '')).map(text).join(' ');
        return evalJsonPath(at, n.range.replace(/^@/, ''))
          .map((item) => run(n.body, item))
          .join('');
      })
      .join('');
  return run(parseTemplate(template), obj);
}

/** Go's %v of a JSON value, as custom-columns prints a cell: map[k:v], [a b]. */
export function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (v && typeof v === 'object')
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goValue((v as Record<string, unknown>)[k])}`)
      .join(' ')}]`;
  return v === null || v === undefined ? '<nil>' : String(v);
}

/**
 * kubectl's `-o custom-columns=HEADER:PATH,…`: PATH with or without braces
 * and leading dot; a cell joins every value with ',', `<none>` when none.
 */
export function parseCustomColumns(spec: string): { header: string; path: string }[] {
  if (!spec) throw new JsonPathError('custom-columns format specified but no custom columns given');
  return spec.split(',').map((col) => {
    const i = col.indexOf(':');
    if (i <= 0) throw new JsonPathError(`unexpected custom-columns spec: ${col}, expected <header>:<json-path-expr>`);
    let path = col.slice(i + 1).trim();
    if (path.startsWith('{') && path.endsWith('}')) path = path.slice(1, -1);
    if (!path.startsWith('.') && !path.startsWith('[')) path = `.${path}`;
    parseJsonPath(path);
    return { header: col.slice(0, i), path };
  });
}

export function customColumnCells(obj: unknown, cols: { path: string }[]): string[] {
  return cols.map((c) => {
    const vs = evalJsonPath(obj, c.path);
    return vs.length ? vs.map(goValue).join(',') : '<none>';
  });
}
