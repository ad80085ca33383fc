import type { Answer } from 'dns-packet';
import type { Handler, Outcome, PluginInstance, Query } from '../chain.js';

/**
 * `loadbalance [round_robin]`: each reply's A and AAAA records in a new
 * random order (CoreDNS's roundRobin shuffle; MX records likewise), CNAMEs
 * first and other records kept, so clients that take the first address
 * spread over a Service's pods.
 */
export class LoadbalancePlugin implements PluginInstance {
  readonly name = 'loadbalance';
  constructor(private readonly random: () => number = Math.random) {}

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const o = await next(q);
    if (!o.msg || (o.msg.answers ?? []).length < 2) return o;
    return { ...o, msg: { ...o.msg, answers: shuffleAnswers(o.msg.answers ?? [], this.random) } };
  }
}

export function shuffleAnswers(answers: Answer[], random: () => number): Answer[] {
  const cname: Answer[] = [];
  const address: Answer[] = [];
  const mx: Answer[] = [];
  const rest: Answer[] = [];
  for (const a of answers) {
    if (a.type === 'CNAME') cname.push(a);
    else if (a.type === 'A' || a.type === 'AAAA') address.push(a);
    else if (a.type === 'MX') mx.push(a);
    else rest.push(a);
  }
  return [...cname, ...rest, ...shuffle(address, random), ...shuffle(mx, random)];
}

function shuffle<T>(xs: T[], random: () => number): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
