import type { Answer, Packet, RecordType } from 'dns-packet';
import { wrote, type Handler, type Outcome, type PluginInstance, type Query } from '../chain.js';
import type { KubernetesZone } from '../kubernetes-zone.js';
import { canonicalName, FLAG_AA, rcodeNumber, replyTo } from '../wire.js';

/**
 * `kubernetes ZONES… { pods …; fallthrough …; ttl … }`: answers from a
 * KubernetesZone (fed by the Service, EndpointSlice and Pod informers).
 * A name the zone does not own, or an NXDOMAIN in a fallthrough zone,
 * goes to the next plugin. An ExternalName Service's CNAME is chased as
 * CoreDNS's kubernetes plugin does through its upstream: the target is
 * resolved through this server's chain (cluster names by this plugin,
 * others by forward) and its records are appended after the CNAME.
 * Not ready (`ready` says 503) until the informers have synced.
 */
export class KubernetesPlugin implements PluginInstance {
  readonly name = 'kubernetes';
  constructor(
    readonly zone: KubernetesZone,
    private readonly synced: () => boolean = () => true,
  ) {}

  ready(): boolean {
    return this.synced();
  }

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const question = q.msg.questions?.[0];
    if (!question) return next(q);
    const ans = this.zone.resolve(question.name, question.type);
    if (!ans) return next(q);
    const reply: Packet = replyTo(q.msg, rcodeNumber(ans.rcode));
    if (ans.authoritative) reply.flags = (reply.flags ?? 0) | FLAG_AA;
    reply.answers = ans.answers;
    reply.authorities = ans.authority;
    reply.additionals = ans.additional;
    if (ans.rcode === 'SERVFAIL')
      return {
        ...wrote('kubernetes', reply),
        error: new Error('plugin/kubernetes: could not answer (not yet synced with the API server?)'),
      };
    if (question.type !== 'CNAME' && (question.type as string) !== 'ANY')
      reply.answers = await this.chase(q, question.type, ans.answers);
    return wrote('kubernetes', reply);
  }

  /** Follow a CNAME chain that ends outside the answer (ExternalName), through the chain. */
  private async chase(q: Query, type: RecordType, answers: Answer[]): Promise<Answer[]> {
    const last = answers[answers.length - 1];
    if (!last || last.type !== 'CNAME') return answers;
    const target = last.data as string;
    if (answers.some((a) => a.type === type && canonicalName(a.name) === canonicalName(target))) return answers;
    const got = await q.lookup(target, type).catch(() => null);
    if (!got) return answers;
    const key = (a: Answer) => `${canonicalName(a.name)}|${a.type}|${JSON.stringify((a as { data?: unknown }).data)}`;
    const seen = new Set(answers.map(key));
    return [...answers, ...(got.answers ?? []).filter((a) => a.type !== 'OPT' && !seen.has(key(a)))];
  }
}
