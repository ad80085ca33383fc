import type { LibcFlavor, ResolverConfig } from './resolv-conf.js';

/**
 * Which names a C library asks for one name the program gave it, in which
 * order, and when it stops: the search list and ndots, as glibc's
 * __res_context_search (res_query.c) and musl's name_from_dns_search
 * (lookup_name.c) do it. Pure: the queries are asked through `ask`.
 *
 *   glibc  a trailing dot: the name as it is, nothing else.
 *          dots ≥ ndots: the name as it is first; then the search list.
 *          dots < ndots: the search list first; then the name as it is
 *          (also a single label, unless options no-tld-query).
 *          The search goes on after NXDOMAIN, NODATA (an empty NOERROR) and
 *          SERVFAIL; any other answer, no answer, or a name too long ends
 *          the search list (the name as it is is still asked); a server
 *          that refused (ICMP port unreachable) ends everything at once.
 *   musl   a trailing dot or dots ≥ ndots: the name as it is, only.
 *          dots < ndots: the search list, going on only after NXDOMAIN
 *          (NODATA, SERVFAIL, no answer end the lookup), skipping a domain
 *          that would make the name too long; then the name as it is.
 */
export type Via = { kind: 'as-is' } | { kind: 'search'; domain: string; index: number; of: number };

export interface Candidate {
  /** absolute, with the trailing dot */
  name: string;
  via: Via;
  /** past 253 characters: no query is made (musl skips it; glibc ends the search list there) */
  tooLong?: boolean;
}

export interface SearchPlan {
  /** the name as the program gave it */
  input: string;
  dots: number;
  absolute: boolean;
  /** the order the library would ask, if every answer let it go on */
  candidates: Candidate[];
  /** one sentence: why this order */
  why: string;
}

export const MAX_NAME_CHARS = 253;

export function countDots(name: string): number {
  let n = 0;
  for (const c of name) if (c === '.') n++;
  return n;
}

export function searchPlan(
  input: string,
  conf: Pick<ResolverConfig, 'flavor' | 'search' | 'ndots' | 'noTldQuery'>,
): SearchPlan {
  const flavor: LibcFlavor = conf.flavor;
  const absolute = input.endsWith('.');
  const bare = absolute ? input.slice(0, -1) : input;
  const dots = countDots(input);
  const asIs: Candidate = {
    name: `${bare}.`,
    via: { kind: 'as-is' },
    ...(bare.length > MAX_NAME_CHARS ? { tooLong: true } : {}),
  };
  const of = conf.search.length;
  const searched: Candidate[] = conf.search.map((domain, i) => {
    const name = domain ? `${bare}.${domain}` : bare;
    return {
      name: `${name}.`,
      via: { kind: 'search', domain, index: i + 1, of },
      ...(name.length > MAX_NAME_CHARS ? { tooLong: true } : {}),
    };
  });
  const rootOnList = conf.search.includes('');
  const plan = (candidates: Candidate[], why: string): SearchPlan => ({ input, dots, absolute, candidates, why });
  const d = `${dots} dot${dots === 1 ? '' : 's'}`;
  if (absolute) return plan([asIs], 'a trailing dot: the name is absolute, asked as it is');
  if (flavor === 'musl') {
    if (dots >= conf.ndots || !of)
      return plan(
        [asIs],
        of
          ? `${d} ≥ ndots:${conf.ndots}: asked as it is only (musl tries no search domain then)`
          : 'no search list: asked as it is',
      );
    return plan(
      [...searched, ...(rootOnList ? [] : [asIs])],
      `${d} < ndots:${conf.ndots}: the ${of} search domain${of === 1 ? '' : 's'} first, then as it is`,
    );
  }
  if (dots >= conf.ndots) {
    return plan(
      [asIs, ...searched.filter((c) => c.name !== asIs.name)],
      `${d} ≥ ndots:${conf.ndots}: asked as it is first, then the search list`,
    );
  }
  const tail = (dots > 0 || !of || !conf.noTldQuery) && !rootOnList ? [asIs] : [];
  if (!of) return plan(tail, 'no search list: asked as it is');
  return plan(
    [...searched, ...tail],
    `${d} < ndots:${conf.ndots}: the ${of} search domain${of === 1 ? '' : 's'} first${tail.length ? ', then as it is' : ''}`,
  );
}

/** What one query came to (after the library tried its servers and attempts). */
export type Outcome =
  | {
      kind: 'answer';
      rcode: string;
      addresses: string[];
      cnames?: string[];
      ttl?: number;
      truncated?: boolean;
      tcp?: boolean;
    }
  | { kind: 'timeout' }
  /** ICMP port unreachable: nothing listens there (or an agent refused it: a Service with no endpoints) */
  | { kind: 'refused' }
  | { kind: 'error'; message: string };

export interface Try {
  server: string;
  outcome: Outcome;
  latencyMs: number;
}

export interface Query {
  candidate: Candidate;
  type: 'A';
  tries: Try[];
}

export type QueryStatus = 'answered' | 'nxdomain' | 'nodata' | 'servfail' | 'rcode' | 'timeout' | 'refused' | 'error';

export function queryStatus(o: Outcome): QueryStatus {
  if (o.kind !== 'answer') return o.kind;
  if (o.rcode === 'NXDOMAIN') return 'nxdomain';
  if (o.rcode === 'SERVFAIL') return 'servfail';
  if (o.rcode !== 'NOERROR') return 'rcode';
  return o.addresses.length ? 'answered' : 'nodata';
}

/** The final outcome of a query: the last server's. */
export const finalOutcome = (q: Query): Outcome => q.tries[q.tries.length - 1]?.outcome ?? { kind: 'timeout' };

export interface Resolution {
  plan: SearchPlan;
  queries: Query[];
  /** the query that answered, when one did */
  answered?: Query;
  addresses: string[];
  /** candidates not asked because they are too long */
  skipped: Candidate[];
}

/** Would the library go on to the next search domain after this status? */
function goesOn(flavor: LibcFlavor, s: QueryStatus): boolean {
  if (flavor === 'musl') return s === 'nxdomain';
  return s === 'nxdomain' || s === 'nodata' || s === 'servfail';
}

/**
 * Ask the plan's names in order, as the library would, stopping where it
 * would. `ask` sends one name (to every server, every attempt, as the
 * library does for a single query) and reports the tries.
 */
export async function resolveLikeLibc(
  input: string,
  conf: Pick<ResolverConfig, 'flavor' | 'search' | 'ndots' | 'noTldQuery'>,
  ask: (name: string) => Promise<Try[]>,
): Promise<Resolution> {
  const plan = searchPlan(input, conf);
  const r: Resolution = { plan, queries: [], addresses: [], skipped: [] };
  const run = async (c: Candidate): Promise<QueryStatus> => {
    const q: Query = { candidate: c, type: 'A', tries: await ask(c.name) };
    r.queries.push(q);
    const o = finalOutcome(q);
    const s = queryStatus(o);
    if (s === 'answered' && o.kind === 'answer') {
      r.answered = q;
      r.addresses = o.addresses;
    }
    return s;
  };
  const glibc = conf.flavor === 'glibc';
  let searchEnded = false;
  for (const c of plan.candidates) {
    if (c.via.kind === 'search' && searchEnded) continue;
    if (c.tooLong) {
      r.skipped.push(c);
      if (glibc && c.via.kind === 'search') searchEnded = true;
      continue;
    }
    const s = await run(c);
    if (s === 'answered') return r;
    if (glibc && s === 'refused') return r;
    if (c.via.kind === 'as-is') {
      // glibc asked it first (dots ≥ ndots): the search list comes next whatever it said
      if (glibc && c === plan.candidates[0] && plan.candidates.length > 1) continue;
      return r;
    }
    if (!goesOn(conf.flavor, s)) {
      if (!glibc) return r;
      searchEnded = true;
    }
  }
  return r;
}

/** "search 2/3 (svc.cluster.local)" or "as it is" */
export function describeVia(v: Via): string {
  return v.kind === 'as-is' ? 'as it is' : `search ${v.index}/${v.of} (${v.domain || '.'})`;
}
