/**
 * Kubernetes labels and label selectors, with Kubernetes' rules:
 * - keys: optional DNS-subdomain prefix (≤253) + "/" + name (≤63, alphanumerics
 *   with - _ . inside); values: ≤63 of the same, or empty;
 * - selector strings: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`,
 *   `a`, `!a`, comma-separated, all must hold (`a!=b` and `notin` also match
 *   objects without the label, as in Kubernetes);
 * - LabelSelector objects: matchLabels AND matchExpressions (In, NotIn,
 *   Exists, DoesNotExist); an empty selector matches everything.
 */
export type Labels = Record<string, string>;

export type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | 'doesnotexist' };

export class LabelError extends Error {
  override readonly name = 'LabelError';
  readonly code = 'ERR_BAD_LABEL';
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The reason `key` is not a valid label key, or null. */
export function labelKeyError(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0 && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `prefix "${prefix}" must be a lowercase DNS subdomain of at most 253 characters`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `name part "${name}" must be 1-63 characters: alphanumerics, with '-', '_' or '.' between them`;
  }
  return null;
}

/** The reason `value` is not a valid label value, or null. */
export function labelValueError(value: string): string | null {
  if (value === '') return null;
  if (value.length > 63 || !NAME.test(value))
    return `value "${value}" must be at most 63 characters: alphanumerics, with '-', '_' or '.' between them`;
  return null;
}

export function parseSelector(text: string): Requirement[] {
  const reqs: Requirement[] = [];
  const s = text.trim();
  if (!s) return reqs;
  let i = 0;
  const fail = (why: string): never => {
    throw new LabelError(`invalid label selector "${text}": ${why}`);
  };
  const ws = () => {
    while (s[i] === ' ') i++;
  };
  const word = (): string => {
    ws();
    const m = /^[^\s,!=()]+/.exec(s.slice(i));
    if (!m) fail(`expected a label key or value at position ${i}`);
    i += m![0].length;
    return m![0];
  };
  const key = (): string => {
    const k = word();
    const err = labelKeyError(k);
    if (err) fail(err);
    return k;
  };
  const value = (): string => {
    ws();
    const m = /^[^\s,!=()]*/.exec(s.slice(i))!;
    i += m[0].length;
    const err = labelValueError(m[0]);
    if (err) fail(err);
    return m[0];
  };
  for (;;) {
    ws();
    if (s[i] === '!') {
      i++;
      reqs.push({ key: key(), op: 'doesnotexist' });
    } else {
      const k = key();
      ws();
      if (s.startsWith('==', i)) {
        i += 2;
        reqs.push({ key: k, op: 'in', values: [value()] });
      } else if (s.startsWith('!=', i)) {
        i += 2;
        reqs.push({ key: k, op: 'notin', values: [value()] });
      } else if (s[i] === '=') {
        i++;
        reqs.push({ key: k, op: 'in', values: [value()] });
      } else if (/^(in|notin)\s*\(/.test(s.slice(i))) {
        const op = s.startsWith('notin', i) ? 'notin' : 'in';
        i = s.indexOf('(', i) + 1;
        const values: string[] = [];
        for (;;) {
          values.push(value());
          ws();
          if (s[i] === ',') {
            i++;
            continue;
          }
          if (s[i] === ')') {
            i++;
            break;
          }
          fail(`expected ',' or ')' at position ${i}`);
        }
        if (values.length === 1 && values[0] === '') fail(`the set of values for "${k}" ${op} (...) cannot be empty`);
        reqs.push({ key: k, op, values });
      } else {
        reqs.push({ key: k, op: 'exists' });
      }
    }
    ws();
    if (i >= s.length) break;
    if (s[i] !== ',') fail(`expected ',' at position ${i}`);
    i++;
  }
  return reqs;
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** A LabelSelector object as requirements; invalid operators or value lists are errors, as in the API. */
export function selectorRequirements(sel: LabelSelector | null | undefined): Requirement[] {
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key: k, op: 'in', values: [v] });
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In' || op === 'NotIn') {
      if (!e.values?.length)
        throw new LabelError(`matchExpressions: operator ${op} on "${e.key}" needs at least one value`);
      reqs.push({ key: e.key, op: op === 'In' ? 'in' : 'notin', values: e.values });
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (e.values?.length) throw new LabelError(`matchExpressions: operator ${op} on "${e.key}" takes no values`);
      reqs.push({ key: e.key, op: op === 'Exists' ? 'exists' : 'doesnotexist' });
    } else {
      throw new LabelError(`matchExpressions: unknown operator "${String(op)}" (In, NotIn, Exists, DoesNotExist)`);
    }
  }
  return reqs;
}

export function matches(reqs: Requirement[], labels: Labels | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case 'doesnotexist':
        if (has) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(l[r.key])) return false;
        break;
      case 'notin':
        if (has && r.values.includes(l[r.key])) return false;
        break;
    }
  }
  return true;
}
