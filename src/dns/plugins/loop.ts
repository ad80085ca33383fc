import { randomBytes } from 'node:crypto';
import type { Packet } from 'dns-packet';
import type { Handler, Outcome, PluginInstance, Query } from '../chain.js';
import { canonicalName, inZone } from '../wire.js';

/**
 * `loop`: at start the server asks itself `<random>.<random>.<zone> HINFO`.
 * A healthy setup forwards it upstream once and gets an answer (NXDOMAIN);
 * if the probe comes back to this server a third time, the forwarding
 * loops (an upstream that is this server again: resolv.conf naming
 * 127.0.0.53 inside the pod, say) and the process stops, as CoreDNS:
 *
 *   [FATAL] plugin/loop: Loop (127.0.0.1:44623 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."
 *
 * The probe is retried every second for 30 s until an answer comes back;
 * 2 s after the first answer the plugin turns itself off.
 */
export interface LoopDeps {
  /** send the probe to this server; resolves with any reply, rejects when none comes */
  probe(qname: string): Promise<Packet>;
  /** stop the process with this message (already formatted) */
  fatal(msg: string): void;
  /** "host:port" this server listens on (the message's `-> :53`) */
  listen: string;
  setTimer?: (fn: () => void, ms: number) => { unref?(): void };
  now?: () => number;
}

export const LOOP_TIMINGS = { retryMs: 1000, deadlineMs: 30_000, disableAfterMs: 2000 };

/** CoreDNS's qname: two random 62-bit integers under the zone. */
export function loopQname(zone: string): string {
  const n = () => (randomBytes(8).readBigUInt64BE() >> 2n).toString();
  const z = canonicalName(zone);
  return z === '.' ? `${n()}.${n()}.` : `${n()}.${n()}.${z}`;
}

export class LoopPlugin implements PluginInstance {
  readonly name = 'loop';
  readonly qname: string;
  private seen = 0;
  private off = false;
  private lastRemote = '';
  private stopped = false;

  constructor(
    readonly zone: string,
    private readonly deps: LoopDeps,
  ) {
    this.qname = loopQname(zone);
  }

  get disabled(): boolean {
    return this.off;
  }

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const question = q.msg.questions?.[0];
    if (this.off || !question || question.type !== 'HINFO' || !inZone(question.name, this.zone)) return next(q);
    if (canonicalName(question.name) === this.qname) {
      this.seen++;
      this.lastRemote = `${q.remote.address}:${q.remote.port}`;
    }
    if (this.seen > 2) {
      this.off = true;
      this.deps.fatal(
        `plugin/loop: Loop (${this.lastRemote} -> ${this.deps.listen}) detected for zone "${canonicalName(this.zone)}", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${this.qname}"`,
      );
    }
    return next(q);
  }

  /** Send the probe (in the background: the server must be answering meanwhile). */
  start(): void {
    const setTimer = this.deps.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    const now = this.deps.now ?? Date.now;
    const deadline = now() + LOOP_TIMINGS.deadlineMs;
    const attempt = () => {
      if (this.stopped || this.off) return;
      if (now() >= deadline) {
        this.off = true;
        return;
      }
      this.deps.probe(this.qname).then(
        () => {
          setTimer(() => (this.off = true), LOOP_TIMINGS.disableAfterMs).unref?.();
        },
        () => {
          this.seen = 0;
          setTimer(attempt, LOOP_TIMINGS.retryMs).unref?.();
        },
      );
    };
    attempt();
  }

  stop(): void {
    this.stopped = true;
    this.off = true;
  }
}
