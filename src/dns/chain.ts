import type { Answer, OptAnswer, Packet, RecordType } from 'dns-packet';
import { canonicalName, encodeMessage, replyTo, rcodeName, rcodeNumber, withEdns, type Encoded } from './wire.js';

/**
 * The plugin chain: one query passes the plugins of its server block in
 * CoreDNS's plugin.cfg order (not the order the Corefile writes them), each
 * either answering or handing on to `next` and looking at what comes back —
 * CoreDNS's ServeDNS(ctx, w, r) with the ResponseWriter turned into a return
 * value.
 */

/** One query as the chain sees it. */
export interface Query {
  /** the decoded query; questions[0] is the question (a rewrite hands on a changed copy) */
  msg: Packet;
  /** wire length of the query as received */
  size: number;
  proto: 'udp' | 'tcp';
  remote: { address: string; port: number; family: 4 | 6 };
  /** the query's OPT record (EDNS0), if any */
  opt: OptAnswer | null;
  /** the reply must fit this (512 without EDNS0, the advertised size with it, 64 KiB over TCP) */
  bufSize: number;
  /** DNSSEC OK */
  do: boolean;
  /** `dns://:53`, as CoreDNS's metrics label servers */
  server: string;
  /** the server block's zone that took the query */
  zone: string;
  /** process.hrtime.bigint() when it arrived */
  startNs: bigint;
  /** a lookup a plugin made through the chain (CNAME chasing): not logged or counted as a client's query */
  internal: boolean;
  /** CNAME chasing depth so far */
  depth: number;
  /** resolve another name through this server block's whole chain (null: nobody answered) */
  lookup(name: string, type: RecordType): Promise<Packet | null>;
}

/**
 * What came back up the chain: the reply a plugin wrote (`msg`), or none —
 * then the server answers an empty message with `rcode` (CoreDNS's
 * "!plugin.ClientWrite(rcode)"). `plugin` is who wrote it
 * (coredns_dns_responses_total's plugin label).
 */
export interface Outcome {
  msg: Packet | null;
  rcode: string;
  plugin: string;
  error?: Error;
}

export type Handler = (q: Query) => Promise<Outcome>;

/** A directive set up: a step in the chain, or a service beside it (health, ready), or both. */
export interface PluginInstance {
  readonly name: string;
  serve?(q: Query, next: Handler): Promise<Outcome>;
  /** for `ready`: false while the plugin cannot answer yet (the kubernetes plugin before its first sync) */
  ready?(): boolean;
  /** after the server's sockets are bound */
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/**
 * CoreDNS's plugin.cfg order (v1.11.3, the image the add-on names) for the
 * plugins podwire implements; the directive order in the Corefile does not
 * matter. cache comes before rewrite there (later versions swapped them):
 * the cache keys on the name as asked. reload, ready and health are here
 * for their place; they do not see queries.
 */
export const PLUGIN_ORDER = [
  'reload',
  'ready',
  'health',
  'prometheus',
  'errors',
  'log',
  'loadbalance',
  'cache',
  'rewrite',
  'kubernetes',
  'loop',
  'forward',
] as const;
export type PluginName = (typeof PLUGIN_ORDER)[number];

export function sortByOrder<T extends { name: string }>(plugins: T[]): T[] {
  const rank = (n: string) => {
    const i = (PLUGIN_ORDER as readonly string[]).indexOf(n);
    return i < 0 ? PLUGIN_ORDER.length : i;
  };
  return plugins
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p.name) - rank(b.p.name) || a.i - b.i)
    .map((x) => x.p);
}

/** End of the chain with no answer: SERVFAIL, as plugin.NextOrFailure says it. */
export const noNext =
  (after: string): Handler =>
  async () => ({
    msg: null,
    rcode: 'SERVFAIL',
    plugin: '',
    error: new Error(`plugin/${after || 'server'}: no next plugin found`),
  });

/** Compose plugins (already in chain order) into one handler. */
export function compose(plugins: PluginInstance[]): Handler {
  const steps = plugins.filter((p) => p.serve);
  let next: Handler = noNext(steps.length ? steps[steps.length - 1].name : '');
  for (let i = steps.length - 1; i >= 0; i--) {
    const p = steps[i];
    const after = next;
    next = (q) => p.serve!(q, after);
  }
  return next;
}

/** The message the client gets for an outcome: the plugin's reply, or an empty one with the rcode; EDNS0 as the query had it. */
export function finalReply(q: Query, o: Outcome): Packet {
  const msg = o.msg ?? replyTo(q.msg, rcodeNumber(o.rcode));
  return withEdns({ ...msg, id: q.msg.id, answers: asAsked(q, msg.answers) }, q.opt);
}

/** Owner names that are the question's name, spelled as the client asked (0x20 and plain case preservation). */
function asAsked(q: Query, rrs: Answer[] | undefined): Answer[] {
  const asked = q.msg.questions?.[0]?.name;
  if (!asked || !rrs) return rrs ?? [];
  const key = canonicalName(asked);
  return rrs.map((rr) => (rr.name !== asked && canonicalName(rr.name) === key ? { ...rr, name: asked } : rr));
}

/** The rcode name of an outcome's reply. */
export function outcomeRcode(o: Outcome): string {
  return o.msg ? rcodeName((o.msg.flags ?? 0) & 0xf) : o.rcode;
}

/** An Outcome for a reply a plugin wrote. */
export const wrote = (plugin: string, msg: Packet): Outcome => ({
  msg,
  rcode: rcodeName((msg.flags ?? 0) & 0xf),
  plugin,
});

const encodedOutcomes = new WeakMap<Outcome, Encoded>();

/**
 * The bytes the client gets for an outcome, truncated to its buffer:
 * computed once per outcome (log, prometheus and the server all need them).
 */
export function encodeOutcome(q: Query, o: Outcome): Encoded {
  let e = encodedOutcomes.get(o);
  if (!e) {
    e = encodeMessage(finalReply(q, o), q.bufSize);
    encodedOutcomes.set(o, e);
  }
  return e;
}
