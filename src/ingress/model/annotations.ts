/**
 * The NGINX annotations (nginx.ingress.kubernetes.io/…) as ingress-nginx
 * documents and implements them, for the ones podwire implements:
 *
 * - ssl-redirect (default true): a plain-HTTP request for a host that has TLS
 *   (any Ingress lists it under spec.tls, Secret found or not) → 308 to https.
 *   force-ssl-redirect: redirect even without TLS. preserve-trailing-slash:
 *   ingress-nginx drops one trailing "/" from the redirect target unless set.
 * - rewrite-target and use-regex: see ingress-rules.ts (regex locations for
 *   the whole host, nginx's `rewrite "(?i)<path>" <target> break;`).
 * - limit-rps (requests per second per client IP; burst = limit-rps ×
 *   limit-burst-multiplier, default 5). Over it: 429 (ingress-nginx answers
 *   limit-req-status-code, default 503; issue #14 asks for 429).
 * - rate-limit is NOT an ingress-nginx annotation (the article's
 *   `nginx.ingress.kubernetes.io/rate-limit: "10"`); ingress-nginx ignores it.
 *   Podwire applies it as limit-rps — the article means it so, and the lab
 *   shows it — with a Warning event naming the real annotation. With both
 *   set, limit-rps wins and rate-limit is ignored.
 * Any other annotation is ignored, as ingress-nginx ignores ones it does not
 * know; describe() lists them, telling an ingress-nginx annotation podwire
 * does not implement from one that does not exist.
 */
import { INGRESS_NGINX_ANNOTATIONS } from './nginx-annotation-names.js';

export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';

export interface NginxSettings {
  sslRedirect: boolean;
  forceSslRedirect: boolean;
  preserveTrailingSlash: boolean;
  useRegex: boolean;
  rewriteTarget?: string;
  limitRps?: number;
  limitBurst?: number;
  /** applied, as `name: "value"` (without the prefix) */
  applied: string[];
  /** ignored, as `name: "value" (why)` */
  ignored: string[];
}

export interface AnnotationNote {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);
const IMPLEMENTED = new Set([
  'ssl-redirect',
  'force-ssl-redirect',
  'preserve-trailing-slash',
  'use-regex',
  'rewrite-target',
  'limit-rps',
  'limit-burst-multiplier',
]);
const DEFAULT_BURST_MULTIPLIER = 5;

export const DEFAULT_NGINX_SETTINGS: Readonly<NginxSettings> = Object.freeze({
  sslRedirect: true,
  forceSslRedirect: false,
  preserveTrailingSlash: false,
  useRegex: false,
  applied: [],
  ignored: [],
});

export function nginxSettings(annotations: Record<string, unknown> | undefined): {
  settings: NginxSettings;
  notes: AnnotationNote[];
} {
  const s: NginxSettings = { ...DEFAULT_NGINX_SETTINGS, applied: [], ignored: [] };
  const notes: AnnotationNote[] = [];
  const anns = new Map<string, string>();
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (k.startsWith(NGINX_PREFIX) && typeof v === 'string') anns.set(k.slice(NGINX_PREFIX.length), v);
  }
  const bad = (name: string, value: string, want: string) => {
    s.ignored.push(`${name}: ${JSON.stringify(value)} (not ${want})`);
    notes.push({
      type: 'Warning',
      reason: 'InvalidAnnotation',
      message: `${NGINX_PREFIX}${name}: ${JSON.stringify(value)} is not ${want}; ignored`,
    });
  };
  const bool = (name: string, set: (b: boolean) => void) => {
    const v = anns.get(name);
    if (v === undefined) return;
    if (TRUE.has(v.trim()) || FALSE.has(v.trim())) {
      set(TRUE.has(v.trim()));
      s.applied.push(`${name}: ${JSON.stringify(v)}`);
    } else bad(name, v, 'a boolean');
  };
  const int = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (/^\s*[+-]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
    bad(name, v, 'an integer');
    return undefined;
  };
  bool('ssl-redirect', (b) => (s.sslRedirect = b));
  bool('force-ssl-redirect', (b) => (s.forceSslRedirect = b));
  bool('preserve-trailing-slash', (b) => (s.preserveTrailingSlash = b));
  bool('use-regex', (b) => (s.useRegex = b));
  const target = anns.get('rewrite-target');
  if (target !== undefined && target !== '') {
    s.rewriteTarget = target;
    s.applied.push(`rewrite-target: ${JSON.stringify(target)}`);
  }

  let rps = int('limit-rps', anns.get('limit-rps'));
  const alias = anns.get('rate-limit');
  if (rps === undefined && alias !== undefined) {
    rps = int('rate-limit', alias);
    if (rps !== undefined) {
      s.applied.push(`rate-limit: ${JSON.stringify(alias)} (as limit-rps)`);
      notes.push({
        type: 'Warning',
        reason: 'NonStandardAnnotation',
        message: `${NGINX_PREFIX}rate-limit is not an ingress-nginx annotation (ingress-nginx ignores it); podwire applies it as ${NGINX_PREFIX}limit-rps: "${rps}" — write limit-rps`,
      });
    }
  } else if (alias !== undefined) {
    s.ignored.push(`rate-limit: ${JSON.stringify(alias)} (not an ingress-nginx annotation; limit-rps is set)`);
  }
  const mult = int('limit-burst-multiplier', anns.get('limit-burst-multiplier'));
  if (rps !== undefined && rps > 0) {
    if (anns.has('limit-rps')) s.applied.push(`limit-rps: ${JSON.stringify(anns.get('limit-rps'))}`);
    const m = mult !== undefined && mult > 0 ? mult : DEFAULT_BURST_MULTIPLIER;
    if (mult !== undefined)
      s.applied.push(`limit-burst-multiplier: ${JSON.stringify(anns.get('limit-burst-multiplier'))}`);
    s.limitRps = rps;
    s.limitBurst = rps * m;
  } else if (rps !== undefined) {
    s.applied.push(`limit-rps: ${JSON.stringify(anns.get('limit-rps') ?? alias)} (no limit)`);
  }

  for (const [name, value] of [...anns].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (IMPLEMENTED.has(name) || name === 'rate-limit') continue;
    const why = INGRESS_NGINX_ANNOTATIONS.has(name) ? 'not implemented by podwire' : 'not an ingress-nginx annotation';
    s.ignored.push(`${name}: ${JSON.stringify(value)} (${why})`);
  }
  return { settings: s, notes };
}

/** ingress-nginx's needsRewrite: a rewrite-target other than the location's own path. */
export function needsRewrite(s: NginxSettings, path: string): boolean {
  return s.rewriteTarget !== undefined && s.rewriteTarget !== path;
}

/** "ssl-redirect, rewrite-target /, limit-rps 10 (burst 50)" — the settings that change routing, for describe(). */
export function settingsText(s: NginxSettings, hostHasTls: boolean): string {
  const parts: string[] = [];
  if (s.forceSslRedirect) parts.push('force-ssl-redirect');
  else if (s.sslRedirect && hostHasTls) parts.push('ssl-redirect');
  if (s.useRegex) parts.push('use-regex');
  if (s.rewriteTarget !== undefined) parts.push(`rewrite-target ${s.rewriteTarget}`);
  if (s.limitRps !== undefined) parts.push(`limit-rps ${s.limitRps} (burst ${s.limitBurst})`);
  return parts.join(', ');
}
