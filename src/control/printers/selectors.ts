/**
 * Label selectors as kubectl prints them (labels.FormatLabels,
 * metav1.FormatLabelSelector) and a matcher for the same selectors.
 */
type Obj = Record<string, any>;

/** labels.FormatLabels: "a=1,b=2" sorted by key, "<none>" when empty. */
export function formatLabels(m: Record<string, string> | undefined | null): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${m![k]}`).join(',') : '<none>';
}

/** A LabelSelector's String(): requirements sorted by key; "" for none. */
export function selectorString(sel: Obj | undefined | null): string {
  if (!sel) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text =
      e.operator === 'In'
        ? `${e.key} in (${values})`
        : e.operator === 'NotIn'
          ? `${e.key} notin (${values})`
          : e.operator === 'Exists'
            ? e.key
            : e.operator === 'DoesNotExist'
              ? `!${e.key}`
              : `${e.key} ${e.operator}`;
    reqs.push({ key: e.key, text });
  }
  return reqs
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

/** metav1.FormatLabelSelector: "<none>" for an empty selector. */
export function formatLabelSelector(sel: Obj | undefined | null): string {
  return selectorString(sel) || '<none>';
}

/** Does a LabelSelector (matchLabels, matchExpressions) select these labels? */
export function selects(sel: Obj | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(l[e.key]))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(l[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
