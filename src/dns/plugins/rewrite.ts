import type { Answer, Packet } from 'dns-packet';
import type { Handler, Outcome, PluginInstance, Query } from '../chain.js';
import type { RewriteRule } from '../corefile-plugins.js';
import { canonicalName, validName } from '../wire.js';

/**
 * `rewrite [continue|stop] name [exact|prefix|suffix|substring|regex] FROM TO
 * [answer auto | answer name FROM TO | answer value FROM TO]`: the query's
 * name is rewritten before the plugins below see it, and the reply is
 * rewritten back — the question always restored as the client asked it, and
 * the records' names and values mapped back (always for exact, with
 * `answer auto` or explicit regex rules for the others) — as CoreDNS's
 * rewrite plugin, so a resolver never sees a mismatched answer.
 * Only the `name` field is implemented. Rules come from corefile-plugins'
 * pluginOptions.rewrite.
 */
type NameRule = Extract<RewriteRule, { type: 'name' }>;

export class RewriteError extends Error {
  readonly code = 'ERR_REWRITE';
}

/** plugin.Name(s).Normalize(): lowercase, fully qualified. */
const normalize = (s: string) => (s.endsWith('.') ? s : `${s}.`).toLowerCase();

/** The rules podwire runs: the name field only (others throw, naming the field). */
export function nameRules(rules: RewriteRule[]): NameRule[] {
  return rules.map((r) => {
    if (r.type !== 'name')
      throw new RewriteError(`rewrite: the ${r.type} field is not implemented by podwire (only name)`);
    return r;
  });
}

/** The name after the rule, or null when it does not apply. `name` is canonical (lowercase FQDN). */
export function rewriteName(rule: NameRule, name: string): string | null {
  switch (rule.match) {
    case 'exact':
      return name === rule.from ? rule.to : null;
    case 'prefix':
      return name.startsWith(rule.from) ? rule.to + name.slice(rule.from.length) : null;
    case 'suffix':
      return name.endsWith(rule.from) ? name.slice(0, name.length - rule.from.length) + rule.to : null;
    case 'substring':
      return name.includes(rule.from) ? name.split(rule.from).join(rule.to) : null;
    case 'regex': {
      const m = new RegExp(rule.from).exec(name);
      if (!m) return null;
      return normalize(rule.to.replace(/\{(\d+)\}/g, (_, g: string) => m[Number(g)] ?? ''));
    }
  }
}

type StringRewriter = (s: string) => string;

const regexRewriter = (from: string, to: string): StringRewriter => {
  const re = new RegExp(from);
  return (s) => {
    const m = re.exec(s);
    return m ? to.replace(/\{(\d+)\}/g, (_, g: string) => m[Number(g)] ?? '') : s;
  };
};

/** Map `orig` (and names below it) to `replacement` — the reverse of a question rewrite. */
const remapRewriter =
  (orig: string, replacement: string): StringRewriter =>
  (s) => {
    if (s === orig) return replacement;
    if (s.endsWith(`.${orig}`)) return s.slice(0, s.length - orig.length) + replacement;
    return s;
  };

const suffixRewriter =
  (suffix: string, replacement: string): StringRewriter =>
  (s) =>
    s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) + replacement : s;

interface ResponseRule {
  names?: StringRewriter;
  values?: StringRewriter;
}

const dnsName = (fqdn: string) => (fqdn === '.' ? '.' : fqdn.replace(/\.$/, ''));

function rewriteRecord(rr: Answer, rules: ResponseRule[]): Answer {
  let out = rr;
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i];
    if (r.names) {
      const n = r.names(canonicalName(out.name));
      if (n !== canonicalName(out.name)) out = { ...out, name: dnsName(n) };
    }
    if (r.values) out = rewriteValue(out, r.values);
  }
  return out;
}

function rewriteValue(rr: Answer, f: StringRewriter): Answer {
  const map = (v: string) => {
    const n = f(canonicalName(v));
    return n === canonicalName(v) ? v : dnsName(n);
  };
  switch (rr.type) {
    case 'CNAME':
    case 'DNAME':
    case 'NS':
    case 'PTR':
      return { ...rr, data: map(rr.data) };
    case 'SRV':
      return { ...rr, data: { ...rr.data, target: map(rr.data.target) } };
    case 'MX':
      return { ...rr, data: { ...rr.data, exchange: map(rr.data.exchange) } };
    default:
      return rr;
  }
}

export class RewritePlugin implements PluginInstance {
  readonly name = 'rewrite';
  private readonly rules: NameRule[];
  constructor(rules: RewriteRule[]) {
    this.rules = nameRules(rules);
  }

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const question = q.msg.questions?.[0];
    if (!question) return next(q);
    let name = canonicalName(question.name);
    // what answers are mapped back to: the name as the client spelled it (case kept), then each intermediate name
    let spelled = question.name.endsWith('.') ? question.name : `${question.name}.`;
    const responseRules: ResponseRule[] = [];
    let changed = false;
    for (const rule of this.rules) {
      const to = rewriteName(rule, name);
      if (to === null) continue;
      if (rule.answerAuto) {
        // exact, prefix, substring, regex: map the new name back to the one asked;
        // suffix: exchange suffix and replacement
        if (rule.match === 'suffix') {
          const back = suffixRewriter(rule.to, rule.from);
          responseRules.push({ names: back, values: back });
        } else {
          const back = remapRewriter(to, spelled);
          responseRules.push({ names: back, values: back });
        }
      }
      for (const a of rule.answerName) responseRules.push({ names: regexRewriter(a.from, a.to) });
      for (const a of rule.answerValue) responseRules.push({ values: regexRewriter(a.from, a.to) });
      name = to;
      spelled = to;
      changed = true;
      if (rule.mode === 'stop') break;
    }
    if (!changed) return next(q);
    if (!validName(name))
      return {
        msg: null,
        rcode: 'SERVFAIL',
        plugin: 'rewrite',
        error: new RewriteError(`invalid name after rewrite: ${name}`),
      };
    const rewritten: Packet = { ...q.msg, questions: [{ ...question, name: dnsName(name) }] };
    const o = await next({ ...q, msg: rewritten });
    if (!o.msg) return o;
    const msg: Packet = {
      ...o.msg,
      questions: [question],
      answers: (o.msg.answers ?? []).map((rr) => rewriteRecord(rr, responseRules)),
      authorities: (o.msg.authorities ?? []).map((rr) => rewriteRecord(rr, responseRules)),
      additionals: (o.msg.additionals ?? []).map((rr) => (rr.type === 'OPT' ? rr : rewriteRecord(rr, responseRules))),
    };
    return { ...o, msg };
  }
}
