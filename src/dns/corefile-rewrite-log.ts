import { argCount, fail } from './corefile-args.js';
import { canonical, fqdn } from './names.js';
import type { Directive } from './types.js';

/**
 * The `rewrite` and `log` directives, read as CoreDNS's plugin/rewrite and
 * plugin/log setup read them (pure). Names in name rules are compared, as
 * CoreDNS does, with the question's lowercase fully qualified name
 * ("www.example.org."), so `from` and `to` carry the trailing dot (regex
 * patterns are kept as written; `{1}` in a replacement is a capture group).
 */
export type NameMatch = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex';

export type RewriteRule =
  | {
      type: 'name';
      /** stop: first matching rule wins; continue: later rules apply too */
      mode: 'stop' | 'continue';
      match: NameMatch;
      from: string;
      to: string;
      /** reverse the rewrite in the answer's names (and CNAME/… values): always for exact, `answer auto` otherwise */
      answerAuto: boolean;
      /** `answer name FROM TO`: regex rewrites of answer owner names */
      answerName: { from: string; to: string }[];
      /** `answer value FROM TO`: regex rewrites of answer values (CNAME, SRV, … targets) */
      answerValue: { from: string; to: string }[];
    }
  | { type: 'class' | 'type' | 'ttl' | 'edns0' | 'cname' | 'rcode'; mode: 'stop' | 'continue'; args: string[] };

const MATCHES: NameMatch[] = ['exact', 'prefix', 'suffix', 'substring', 'regex'];
const OTHER_RULES = ['class', 'type', 'ttl', 'edns0', 'cname', 'rcode'] as const;
const MAX_REGEXP_LEN = 10000;
const normalize = (s: string) => fqdn(canonical(s));

/** A regex as CoreDNS checks it: compiles, and the replacement uses no more `{n}` groups than it captures. */
function regex(d: Directive, what: string, from: string, to: string): string {
  if (from.length > MAX_REGEXP_LEN)
    fail(d, `rewrite: ${what}: regex pattern too long: ${from.length} > ${MAX_REGEXP_LEN}`);
  let groups: number;
  try {
    groups = new RegExp(`${from}|`).exec('')!.length - 1;
  } catch {
    fail(d, `rewrite: ${what}: invalid regex matching pattern: ${from}`);
  }
  // `{n}` is group n ({0}: the whole match): the highest one used must exist (CoreDNS counts the distinct ones).
  const refs = [...to.matchAll(/\{([0-9]{1,3})\}/g)].map((m) => Number(m[1]));
  if (Math.max(0, ...refs) > groups)
    fail(
      d,
      `rewrite: ${what}: the rewrite regex pattern (${to}) uses more subexpressions than its corresponding matching regex pattern (${from})`,
    );
  return from;
}

export function parseRewrite(d: Directive): RewriteRule {
  let args = [...d.args];
  // `rewrite [continue|stop] { name regex … \n answer name … }`: the block's tokens are the rule.
  if (args.length < 2) for (const p of d.block) args.push(p.name, ...p.args);
  else if (d.block.length) fail(d.block[0], `rewrite: unexpected block after a complete rule`);
  if (!args.length) fail(d, 'rewrite: no rule type specified for rewrite');
  let mode: 'stop' | 'continue' = 'stop';
  const first = args[0].toLowerCase();
  if (first === 'stop' || first === 'continue') {
    if (args.length < 2) fail(d, `rewrite: ${first} rule must begin with a rule type`);
    mode = first;
    args = args.slice(1);
  }
  const type = args[0].toLowerCase();
  const rest = args.slice(1);
  if (type === 'answer') fail(d, 'rewrite: response rewrites must begin with a name rule');
  if (type === 'name') return nameRule(d, mode, rest);
  const other = OTHER_RULES.find((t) => t === type);
  if (!other) fail(d, `rewrite: invalid rule type '${args[0]}'`);
  if ((other === 'class' || other === 'type') && rest.length !== 2)
    fail(d, `rewrite: ${other} rules must have exactly two arguments`);
  if (rest.length < 1) fail(d, `rewrite: ${other} rules need arguments`);
  return { type: other, mode, args: rest };
}

function nameRule(d: Directive, mode: 'stop' | 'continue', args: string[]): RewriteRule {
  if (args.length < 2 || (args.length === 2 && MATCHES.includes(args[0].toLowerCase() as NameMatch)))
    fail(d, `rewrite: too few arguments for a name rule: '${args.join(' ')}'`);
  const match = (args.length === 2 ? 'exact' : args[0].toLowerCase()) as NameMatch;
  if (!MATCHES.includes(match))
    fail(
      d,
      `rewrite: name rule supports only exact, prefix, suffix, substring, and regex name matching, received: ${args[0]}`,
    );
  const [from, to] = args.length === 2 ? args : args.slice(1, 3);
  const rule = {
    type: 'name' as const,
    mode,
    match,
    from: match === 'regex' ? regex(d, 'name', from, to) : normalize(from),
    to: normalize(to),
    answerAuto: match === 'exact',
    answerName: [] as { from: string; to: string }[],
    answerValue: [] as { from: string; to: string }[],
  };
  if (args.length > 3) answerRules(d, rule, args.slice(3));
  return rule;
}

/** `answer auto`, `answer name FROM TO`, `answer value FROM TO`, in any number. */
function answerRules(d: Directive, rule: Extract<RewriteRule, { type: 'name' }>, args: string[]): void {
  if (args.length < 2) fail(d, `rewrite: invalid arguments for ${rule.match} rule: '${args.join(' ')}'`);
  let i = 0;
  let auto = false;
  while (i < args.length) {
    if (args[i] !== 'answer')
      fail(
        d,
        `rewrite: exceeded the number of arguments for a non-answer rule argument for ${rule.match} rule: '${args[i]}'`,
      );
    const kind = args[i + 1];
    if (kind === undefined) fail(d, `rewrite: type missing for answer rule for ${rule.match} rule`);
    i += 2;
    if (kind === 'auto') {
      auto = true;
      continue;
    }
    if (kind !== 'name' && kind !== 'value')
      fail(d, `rewrite: invalid type '${kind}' for answer rule for ${rule.match} rule`);
    if (args.length - i < 2) fail(d, `rewrite: ${kind} answer rule for ${rule.match} rule: 2 arguments required`);
    const r = { from: regex(d, `${kind} answer rule`, args[i], args[i + 1]), to: normalize(args[i + 1]) };
    (kind === 'name' ? rule.answerName : rule.answerValue).push(r);
    i += 2;
  }
  if (auto && rule.answerName.length)
    fail(d, 'rewrite: auto name answer rule cannot be combined with explicit name answer rules');
  rule.answerAuto ||= auto;
}

// ---- log ----

export const COMMON_LOG_FORMAT =
  '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}';
export const COMBINED_LOG_FORMAT = `${COMMON_LOG_FORMAT} "{>opcode}"`;
export type LogClass = 'all' | 'success' | 'denial' | 'error';

export interface LogOptions {
  /** names logged (a query in or below nameScope) and the line format of each */
  rules: { nameScope: string; format: string }[];
  /** which responses: all, or success / denial (NXDOMAIN, NODATA) / error */
  classes: LogClass[];
}

export function parseLog(d: Directive): LogOptions {
  let args = d.args;
  let format = COMMON_LOG_FORMAT;
  if (args.length > 1 && args[args.length - 1].includes('{')) {
    format = args[args.length - 1]
      .replaceAll('{common}', COMMON_LOG_FORMAT)
      .replaceAll('{combined}', COMBINED_LOG_FORMAT);
    args = args.slice(0, -1);
  }
  const rules = (args.length ? args : ['.']).map((n) => ({ nameScope: normalize(n), format }));
  const classes = new Set<LogClass>();
  for (const p of d.block) {
    if (p.name !== 'class') fail(p, `log: unknown property '${p.name}'`);
    argCount(p, 'log', 1, Infinity);
    for (const c of p.args) {
      if (!['all', 'success', 'denial', 'error'].includes(c))
        fail(p, `log: invalid class '${c}' (all, success, denial, error)`);
      classes.add(c as LogClass);
    }
  }
  return { rules, classes: classes.size ? [...classes] : ['all'] };
}
