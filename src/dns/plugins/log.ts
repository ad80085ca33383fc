import type { Packet } from 'dns-packet';
import {
  encodeOutcome,
  finalReply,
  outcomeRcode,
  type Handler,
  type Outcome,
  type PluginInstance,
  type Query,
} from '../chain.js';
import { FLAG_TC, flagsText } from '../wire.js';
import { COMMON_LOG_FORMAT, type LogOptions } from '../corefile-rewrite-log.js';
import { classText, qnameText, qtypeText } from './names.js';

/**
 * `log`: one line per query in CoreDNS's common log format, on stdout:
 *
 *   [INFO] 10.244.1.2:45678 - 1234 "A IN backend.default.svc.cluster.local. udp 51 false 512" NOERROR qr,aa,rd 106 0.000123s
 *
 * remote:port - id "type class name proto size do bufsize" rcode flags rsize duration.
 * `log [NAMES…] [FORMAT] { class success|denial|error|all }` as CoreDNS
 * (options read by corefile-rewrite-log's parseLog).
 */
export type ResponseClass = 'success' | 'denial' | 'error';

/** CoreDNS's response.Classify(Typify(m)). */
export function responseClass(m: Packet): ResponseClass {
  const rcode = (m.flags ?? 0) & 0xf;
  if (rcode === 3) return 'denial';
  if (rcode !== 0) return 'error';
  if ((m.answers ?? []).length > 0) return 'success';
  const soa = (m.authorities ?? []).some((a) => a.type === 'SOA');
  const ns = (m.authorities ?? []).some((a) => a.type === 'NS');
  return soa || !ns ? 'denial' : 'success';
}

/** Go's strconv.FormatFloat(secs, 'f', -1, 64) + "s" for a duration in nanoseconds: decimal, never exponent. */
export function durationText(ns: bigint): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  const whole = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}s`;
}

const bracket = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

export class LogPlugin implements PluginInstance {
  readonly name = 'log';
  private readonly rules: LogOptions['rules'];
  private readonly classes: Set<string>;

  constructor(
    private readonly out: (line: string) => void,
    opts: Partial<LogOptions> = {},
    private readonly now: () => bigint = process.hrtime.bigint,
  ) {
    this.rules = opts.rules?.length ? opts.rules : [{ nameScope: '.', format: COMMON_LOG_FORMAT }];
    this.classes = new Set(opts.classes?.length ? opts.classes : ['all']);
  }

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const o = await next(q);
    if (q.internal) return o;
    const name = qnameText(q);
    // as CoreDNS: the first rule whose name scope holds the name
    const rule = this.rules.find(
      (r) => r.nameScope === '.' || name === r.nameScope || name.endsWith(`.${r.nameScope}`),
    );
    if (!rule) return o;
    const reply = finalReply(q, o);
    if (!this.classes.has('all') && !this.classes.has(responseClass(reply))) return o;
    const wire = encodeOutcome(q, o);
    const values: Record<string, string> = {
      '{remote}': bracket(q.remote.address),
      '{port}': String(q.remote.port),
      '{>id}': String(q.msg.id ?? 0),
      '{type}': qtypeText(q),
      '{class}': classText(q.msg.questions?.[0]?.class),
      '{name}': name,
      '{proto}': q.proto,
      '{size}': String(q.size),
      '{>do}': String(q.do),
      '{>bufsize}': String(q.bufSize),
      '{>opcode}': String(((q.msg.flags ?? 0) >> 11) & 0xf),
      '{rcode}': outcomeRcode(o),
      '{>rflags}': flagsText(wire.truncated ? { ...reply, flags: (reply.flags ?? 0) | FLAG_TC } : reply),
      '{rsize}': String(wire.buf.length),
      '{duration}': durationText(this.now() - q.startNs),
    };
    this.out(`[INFO] ${rule.format.replace(/\{>?[a-z]+\}/g, (k) => values[k] ?? '-')}`);
    return o;
  }
}
