import {
  countDots,
  describeResolverConf,
  describeVia,
  finalOutcome,
  queryStatus,
  type Outcome,
  type PodResolveReport,
  type Query,
  type Try,
} from '../resolver/index.js';
import type { Layer } from './report.js';

/**
 * The DNS layer of a trace: what the pod's resolver read, each query it
 * sent and what came back, which search expansion answered — or why the
 * name did not resolve. Pure: `podwire trace` gathers, this explains.
 */
export interface DnsLayer {
  layers: Layer[];
  /** the address the name resolved to (the first A record, as the program would connect to) */
  address?: string;
  /** the name that answered (absolute) */
  answeredName?: string;
  failure?: {
    reason: 'nxdomain' | 'nodata' | 'servfail' | 'rcode' | 'no-answer' | 'refused' | 'error' | 'no-query';
    summary: string;
    /** servers that never answered (timeout or ICMP refused): the trace follows the path to the first one */
    silentServers: string[];
  };
}

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'timeout':
      return 'no answer';
    case 'refused':
      return 'refused (ICMP port unreachable: nothing listens there)';
    case 'error':
      return `error ${o.message}`;
    case 'answer': {
      const data = [...(o.cnames ?? []).map((c) => `CNAME ${c}`), ...o.addresses].join(', ');
      const extra = [
        o.tcp ? 'over TCP after a truncated UDP answer' : '',
        o.ttl !== undefined && o.addresses.length ? `ttl ${o.ttl}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `${o.rcode}${o.rcode === 'NOERROR' && !o.addresses.length ? ' with no A record (NODATA)' : ''}${data ? ` ${data}` : ''}${extra ? ` (${extra})` : ''}`;
    }
  }
}

const plural = (n: number, w: string) => `${n} ${n === 1 ? w : w.endsWith('y') ? `${w.slice(0, -1)}ies` : `${w}s`}`;

export function tryLine(q: Query, t: Try): string {
  const wait = t.outcome.kind === 'timeout' ? `after ${t.latencyMs} ms` : `in ${t.latencyMs} ms`;
  return `dns: A ${q.candidate.name} @${t.server} -> ${describeOutcome(t.outcome)} ${wait} [${describeVia(q.candidate.via)}]`;
}

export function explainDns(r: PodResolveReport, pod: string): DnsLayer {
  const layers: Layer[] = [];
  const add = (what: string) => layers.push({ where: pod, what });
  if (r.hosts) {
    add(
      `hosts: /etc/hosts line ${r.hosts.line}: ${r.hosts.address} ${r.hosts.names.join(' ')} (the files source comes before DNS: no query sent)`,
    );
    return { layers, address: r.hosts.address, answeredName: r.name };
  }
  const res = r.resolution!;
  add(`resolv.conf: ${describeResolverConf(r.conf)}`);
  add(`dns: "${r.name}": ${res.plan.why} (${r.conf.flavor})`);
  for (const c of res.skipped)
    add(
      `dns: ${c.name} skipped: longer than 253 characters${r.conf.flavor === 'glibc' && c.via.kind === 'search' ? ' (glibc ends the search list there)' : ''}`,
    );
  for (const q of res.queries) for (const t of q.tries) add(tryLine(q, t));
  const totalMs = Math.round(res.queries.flatMap((q) => q.tries).reduce((s, t) => s + t.latencyMs, 0) * 100) / 100;
  const count = res.queries.reduce((n, q) => n + q.tries.length, 0);
  if (res.answered) {
    const q = res.answered;
    const before = res.queries.findIndex((x) => x.candidate.name === q.candidate.name); // (the report crossed JSON: no object identity)
    const nx = res.queries.slice(0, before).filter((x) => queryStatus(finalOutcome(x)) === 'nxdomain').length;
    let hint = '';
    if (before > 0 && q.candidate.via.kind === 'as-is') {
      const dots = countDots(r.name);
      hint = `: ${plural(before, 'query')} before it${nx ? ` (${nx} NXDOMAIN)` : ''} — "${r.name}." with a trailing dot${dots > 0 ? `, or options ndots:${dots}` : ''}, asks it first`;
    }
    add(
      `dns: answered ${q.candidate.via.kind === 'as-is' ? 'as it is' : `by ${describeVia(q.candidate.via)}`}: ${q.candidate.name} is ${res.addresses.join(', ')} after ${plural(count, 'query')} (${totalMs} ms)${hint}`,
    );
    return { layers, address: res.addresses[0], answeredName: q.candidate.name };
  }
  const finals = res.queries.map((q) => ({ q, o: finalOutcome(q), s: queryStatus(finalOutcome(q)) }));
  const tries = res.queries.flatMap((q) => q.tries);
  const answeredBy = new Set(tries.filter((t) => t.outcome.kind === 'answer').map((t) => t.server));
  // servers that never answered anything: the way to them is worth tracing
  const silent = [
    ...new Set(tries.filter((t) => t.outcome.kind === 'timeout' || t.outcome.kind === 'refused').map((t) => t.server)),
  ].filter((s) => !answeredBy.has(s));
  const names = `${plural(res.queries.length, 'name')} the search list made`;
  if (!finals.length) {
    return {
      layers,
      failure: {
        reason: 'no-query',
        summary: `"${r.name}" does not resolve: no name to ask (${res.skipped.length ? 'every candidate is too long' : 'nothing to ask'})`,
        silentServers: [],
      },
    };
  }
  const last = finals[finals.length - 1];
  if ((last.s === 'refused' || last.s === 'timeout') && !silent.length) {
    const servers = [...answeredBy].join(', ');
    const n = tries.filter((t) => t.outcome.kind === 'answer').length;
    return {
      layers,
      failure: {
        reason: 'no-answer',
        summary: `"${r.name}" does not resolve: ${servers} answered ${plural(n, 'query')} but not ${last.q.candidate.name} within ${r.timeoutMs} ms (a name outside the cluster's zones is forwarded upstream — forward . /etc/resolv.conf: is the upstream answering?)`,
        silentServers: [],
      },
    };
  }
  if (last.s === 'refused' || last.s === 'timeout') {
    const what =
      last.s === 'refused'
        ? 'refused the query (ICMP port unreachable)'
        : `did not answer in ${r.timeoutMs} ms (the pod's resolver waits ${r.conf.timeoutS} s × ${r.conf.attempts} attempts)`;
    const servers = silent.join(', ');
    return {
      layers,
      failure: {
        reason: last.s === 'refused' ? 'refused' : 'no-answer',
        summary: `"${r.name}" does not resolve: ${servers} ${what}`,
        silentServers: silent,
      },
    };
  }
  if (finals.every((f) => f.s === 'nxdomain')) {
    const servers = [...new Set(res.queries.flatMap((q) => q.tries.map((t) => t.server)))].join(', ');
    return {
      layers,
      failure: {
        reason: 'nxdomain',
        summary: `"${r.name}" does not exist: NXDOMAIN for all ${names}, from ${servers} (check the name, the Service's namespace, and that it exists: kubectl get svc -A)`,
        silentServers: [],
      },
    };
  }
  const reason =
    last.s === 'nodata' ? 'nodata' : last.s === 'servfail' ? 'servfail' : last.s === 'error' ? 'error' : 'rcode';
  const why =
    reason === 'nodata'
      ? `${last.q.candidate.name} exists but has no A record (NODATA${r.conf.flavor === 'musl' ? ': musl stops the search there' : ''})`
      : reason === 'servfail'
        ? `${last.q.candidate.name}: SERVFAIL (the DNS server could not get an answer: an upstream it forwards to, or the cluster DNS not synced)`
        : `${last.q.candidate.name}: ${describeOutcome(last.o)}`;
  return { layers, failure: { reason, summary: `"${r.name}" does not resolve: ${why}`, silentServers: silent } };
}
