/**
 * HTTPRoute rule filters → what route() does with a matched request:
 * RequestRedirect (a redirect answer), URLRewrite (hostname, path),
 * RequestHeaderModifier / ResponseHeaderModifier (set, add, remove) and
 * RequestMirror (copies to other backends, their answers ignored).
 *
 * Invalid combinations make the rule invalid (Accepted reason
 * IncompatibleFilters or UnsupportedValue): URLRewrite with RequestRedirect,
 * two URLRewrites, ReplacePrefixMatch where a match is not PathPrefix, an
 * unknown filter type. A filter podwire does not implement (ExtensionRef,
 * CORS, ExternalAuth) must not be skipped, the spec says: the rule answers
 * 500 instead. backendRefs[].filters (implementation-specific) are ignored.
 */
import type { BackendTarget, HeaderChanges, Obj } from '../types.js';
import type { CompiledMatch } from './httproute-match.js';
import { resolveBackendRef, type RefProblem } from './httproute-backends.js';
import { asArray, type ObjectIndex } from './objects.js';

export interface PathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

export interface RuleAction {
  redirect?: {
    scheme?: string;
    hostname?: string;
    port?: number;
    statusCode: 301 | 302 | 303 | 307 | 308;
    path?: PathModifier;
  };
  rewrite?: { hostname?: string; path?: PathModifier };
  requestHeaders?: HeaderChanges;
  responseHeaders?: HeaderChanges;
  mirror: BackendTarget[];
  /** a filter podwire cannot apply: the rule answers 500 with this reason */
  unsupported?: string;
  /** words for describe() */
  text: string[];
}

export type FilterResult =
  | { ok: true; action: RuleAction; problems: RefProblem[] }
  | { ok: false; reason: 'IncompatibleFilters' | 'UnsupportedValue'; message: string };

const STATUS = new Set([301, 302, 303, 307, 308]);

function headerChanges(f: Obj | undefined): HeaderChanges {
  const pairs = (l: unknown) => asArray(l).map((h: Obj) => [String(h.name), String(h.value ?? '')] as [string, string]);
  const out: HeaderChanges = {};
  if (asArray(f?.set).length) out.set = pairs(f?.set);
  if (asArray(f?.add).length) out.add = pairs(f?.add);
  if (asArray(f?.remove).length) out.remove = asArray<string>(f?.remove).map(String);
  return out;
}

const changesText = (c: HeaderChanges) =>
  [
    ...(c.set ?? []).map(([n, v]) => `set ${n}: ${v}`),
    ...(c.add ?? []).map(([n, v]) => `add ${n}: ${v}`),
    ...(c.remove ?? []).map((n) => `remove ${n}`),
  ].join(', ');

function pathModifier(p: Obj | undefined): PathModifier | string | undefined {
  if (!p) return undefined;
  if (p.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: String(p.replaceFullPath ?? '/') };
  if (p.type === 'ReplacePrefixMatch')
    return { type: 'ReplacePrefixMatch', value: String(p.replacePrefixMatch ?? '/') };
  return `path modifier type ${String(p.type)} is not supported`;
}

export function compileFilters(
  filters: unknown,
  matches: CompiledMatch[],
  routeNs: string,
  index: ObjectIndex,
  grants: Obj[],
): FilterResult {
  const action: RuleAction = { mirror: [], text: [] };
  const problems: RefProblem[] = [];
  const invalid = (reason: 'IncompatibleFilters' | 'UnsupportedValue', message: string): FilterResult => ({
    ok: false,
    reason,
    message,
  });
  const list = asArray(filters);
  const types = list.map((f) => f.type);
  if (types.includes('URLRewrite') && types.includes('RequestRedirect'))
    return invalid('IncompatibleFilters', 'URLRewrite and RequestRedirect cannot be combined in one rule');
  if (types.filter((t) => t === 'URLRewrite').length > 1)
    return invalid('IncompatibleFilters', 'at most one URLRewrite filter per rule');
  for (const f of list) {
    switch (f.type) {
      case 'RequestHeaderModifier':
        if (!action.requestHeaders) {
          action.requestHeaders = headerChanges(f.requestHeaderModifier);
          action.text.push(`request headers: ${changesText(action.requestHeaders)}`);
        }
        break;
      case 'ResponseHeaderModifier':
        if (!action.responseHeaders) {
          action.responseHeaders = headerChanges(f.responseHeaderModifier);
          action.text.push(`response headers: ${changesText(action.responseHeaders)}`);
        }
        break;
      case 'RequestMirror': {
        const r = resolveBackendRef(f.requestMirror?.backendRef ?? {}, routeNs, index, grants);
        if (r.problem)
          problems.push(r.problem); // an invalid mirror is dropped, not configured
        else action.mirror.push(r.target);
        const pct =
          f.requestMirror?.percent ??
          (f.requestMirror?.fraction
            ? `${f.requestMirror.fraction.numerator}/${f.requestMirror.fraction.denominator ?? 100}`
            : undefined);
        action.text.push(
          `mirror to ${r.target.service}:${r.target.port}${r.problem ? ` ✗ ${r.problem.message}` : ''}${pct !== undefined ? ` (${pct}${typeof pct === 'number' ? '%' : ''} asked; podwire mirrors every request)` : ''}`,
        );
        break;
      }
      case 'RequestRedirect':
      case 'URLRewrite': {
        const spec = f.type === 'RequestRedirect' ? (f.requestRedirect ?? {}) : (f.urlRewrite ?? {});
        const path = pathModifier(spec.path);
        if (typeof path === 'string') return invalid('UnsupportedValue', path);
        if (path?.type === 'ReplacePrefixMatch' && matches.some((m) => m.pathType !== 'PathPrefix')) {
          return invalid(
            'UnsupportedValue',
            'ReplacePrefixMatch needs every match of the rule to be a PathPrefix match',
          );
        }
        if (f.type === 'URLRewrite') {
          action.rewrite = { ...(spec.hostname ? { hostname: String(spec.hostname) } : {}), ...(path ? { path } : {}) };
          action.text.push(
            `rewrite${spec.hostname ? ` host ${spec.hostname}` : ''}${path ? ` path ${path.type} ${path.value}` : ''}`,
          );
          break;
        }
        const code = spec.statusCode ?? 302;
        if (!STATUS.has(code)) return invalid('UnsupportedValue', `redirect statusCode ${code} is not supported`);
        if (spec.scheme !== undefined && spec.scheme !== 'http' && spec.scheme !== 'https')
          return invalid('UnsupportedValue', `redirect scheme ${spec.scheme} is not supported`);
        action.redirect = {
          statusCode: code,
          ...(spec.scheme ? { scheme: spec.scheme } : {}),
          ...(spec.hostname ? { hostname: String(spec.hostname) } : {}),
          ...(typeof spec.port === 'number' ? { port: spec.port } : {}),
          ...(path ? { path } : {}),
        };
        const r = action.redirect;
        action.text.push(
          `redirect ${code}${r.scheme ? ` scheme ${r.scheme}` : ''}${r.hostname ? ` host ${r.hostname}` : ''}${r.port ? ` port ${r.port}` : ''}${path ? ` path ${path.type} ${path.value}` : ''}`,
        );
        break;
      }
      case 'ExtensionRef':
      case 'CORS':
      case 'ExternalAuth':
        action.unsupported ??= `filter ${f.type} is not supported by podwire`;
        action.text.push(`${f.type} (not supported: 500)`);
        break;
      default:
        return invalid('UnsupportedValue', `filter type ${String(f.type)} is not supported`);
    }
  }
  return { ok: true, action, problems };
}
