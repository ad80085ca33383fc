import type { Handler, Outcome, PluginInstance, Query } from '../chain.js';
import type { Logger } from './log-sink.js';
import { qtypeText, qnameText } from './names.js';

/**
 * `errors`: every error a plugin returns (a SERVFAIL from an unreachable
 * upstream, REFUSED over max_concurrent …) is logged as CoreDNS does:
 * `[ERROR] plugin/errors: 2 example.org. A: read udp …: i/o timeout`.
 */
export class ErrorsPlugin implements PluginInstance {
  readonly name = 'errors';
  constructor(private readonly log: Logger) {}

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const o = await next(q);
    if (o.error && !q.internal) {
      const rcode = RCODE_NUMBERS[o.rcode] ?? o.rcode;
      this.log.error(`plugin/errors: ${rcode} ${qnameText(q)} ${qtypeText(q)}: ${o.error.message}`);
    }
    return o;
  }
}

const RCODE_NUMBERS: Record<string, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};
