/**
 * One HTTPRoute's rules, compiled independently of the Gateways it attaches
 * to: matches (no matches = PathPrefix "/"), filters, and weighted
 * backendRefs (weight defaults to 1; weight 0 is never chosen). An invalid
 * rule (UnsupportedValue, IncompatibleFilters) is dropped and the others
 * kept — the spec's "Drop Rule(s)" way, reported as PartiallyInvalid; a Route
 * whose every rule is invalid is not Accepted.
 */
import type { BackendTarget, Obj } from '../types.js';
import { compileFilters, type RuleAction } from './httproute-filters.js';
import { resolveBackendRef, type RefProblem } from './httproute-backends.js';
import { compileMatch, type CompiledMatch } from './httproute-match.js';
import { normalizeHost } from './hosts.js';
import { asArray, keyOf, nsOf, type ObjectIndex } from './objects.js';

export interface CompiledRule {
  index: number;
  name?: string;
  matches: CompiledMatch[];
  action: RuleAction;
  backends: BackendTarget[];
}

export interface InvalidRule {
  index: number;
  reason: 'UnsupportedValue' | 'IncompatibleFilters';
  message: string;
}

export interface CompiledRoute {
  route: Obj;
  key: string;
  hostnames: string[];
  rules: CompiledRule[];
  invalid: InvalidRule[];
  /** ResolvedRefs problems of backendRefs and mirrors, in rule order */
  problems: RefProblem[];
}

export function compileHTTPRoute(route: Obj, index: ObjectIndex, grants: Obj[]): CompiledRoute {
  const ns = nsOf(route);
  const out: CompiledRoute = {
    route,
    key: keyOf(route),
    hostnames: asArray<string>(route.spec?.hostnames).map(normalizeHost).filter(Boolean),
    rules: [],
    invalid: [],
    problems: [],
  };
  const specRules = route.spec?.rules === undefined ? [{}] : asArray(route.spec.rules);
  specRules.forEach((rule: Obj, i: number) => {
    const matches: CompiledMatch[] = [];
    for (const m of asArray(rule.matches).length ? asArray(rule.matches) : [{}]) {
      const c = compileMatch(m);
      if ('error' in c) {
        out.invalid.push({ index: i, reason: 'UnsupportedValue', message: c.error });
        return;
      }
      matches.push(c);
    }
    const f = compileFilters(rule.filters, matches, ns, index, grants);
    if (!f.ok) {
      out.invalid.push({ index: i, reason: f.reason, message: f.message });
      return;
    }
    out.problems.push(...f.problems);
    const backends: BackendTarget[] = [];
    for (const ref of asArray(rule.backendRefs)) {
      const r = resolveBackendRef(ref, ns, index, grants);
      if (r.problem) out.problems.push(r.problem);
      backends.push(r.target);
    }
    out.rules.push({
      index: i,
      ...(typeof rule.name === 'string' ? { name: rule.name } : {}),
      matches,
      action: f.action,
      backends,
    });
  });
  return out;
}

export const ruleLabel = (r: CompiledRule): string => `rules[${r.index}]${r.name ? ` (${r.name})` : ''}`;
