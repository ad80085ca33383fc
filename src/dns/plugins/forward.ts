import { randomInt } from 'node:crypto';
import packet, { type Packet } from 'dns-packet';
import { wrote, type Handler, type Outcome, type PluginInstance, type Query } from '../chain.js';
import type { DnsMetrics } from '../metrics.js';
import { canonicalName, encodeMessage, FLAG_TC, hasFlag, inZone, rcodeName } from '../wire.js';
import type { Logger } from './log-sink.js';
import { realExchange, upstreamText, UpstreamError, type Exchange, type UpstreamAddr } from './upstream.js';

/**
 * `forward FROM TO… { except NAMES…; force_tcp; prefer_udp; max_fails N;
 * health_check DURATION [no_rec] [domain NAME]; policy random|round_robin|sequential;
 * max_concurrent N }`: queries for names in FROM (but not in `except`) go
 * to the upstreams (addresses, or the nameservers of a resolv.conf file).
 *
 * Over UDP first (TCP when the client asked over TCP or force_tcp), and
 * again over TCP when the UDP reply comes back truncated. An upstream that
 * fails gets health checks (`. IN NS` every health_check interval, 0.5 s)
 * until one succeeds; after max_fails (2) failed checks it is skipped while
 * others are healthy. Each try waits 2 s; the query gives up after 5 s with
 * SERVFAIL. At most max_concurrent queries are in flight — CoreDNS has no
 * limit unless told; podwire always has one (1000 by default), so memory
 * stays bounded under a flood — more are REFUSED.
 */
export interface ForwardOptions {
  from: string;
  upstreams: UpstreamAddr[];
  except?: string[];
  forceTcp?: boolean;
  preferUdp?: boolean;
  maxFails?: number;
  healthCheckMs?: number;
  healthCheckRd?: boolean;
  healthCheckDomain?: string;
  policy?: 'random' | 'round_robin' | 'sequential';
  maxConcurrent?: number;
  tryTimeoutMs?: number;
  timeoutMs?: number;
}

const CONNECT_ATTEMPTS_PER_UPSTREAM = 3;
export const FORWARD_DEFAULTS = {
  maxFails: 2,
  healthCheckMs: 500,
  maxConcurrent: 1000,
  tryTimeoutMs: 2000,
  timeoutMs: 5000,
};

interface Proxy {
  addr: UpstreamAddr;
  to: string;
  fails: number;
  /** a health-check loop runs */
  checking: boolean;
  timer: NodeJS.Timeout | null;
}

export class ForwardPlugin implements PluginInstance {
  readonly name = 'forward';
  private readonly proxies: Proxy[];
  private inFlight = 0;
  private rr = 0;
  private stopped = false;
  private readonly o: Required<Omit<ForwardOptions, 'upstreams'>>;

  constructor(
    opts: ForwardOptions,
    private readonly metrics: DnsMetrics | null,
    private readonly log: Logger | null,
    private readonly exchange: Exchange = realExchange,
    private readonly now: () => number = Date.now,
  ) {
    if (!opts.upstreams.length) throw new UpstreamError('forward needs at least one upstream');
    this.proxies = opts.upstreams.map((addr) => ({
      addr,
      to: upstreamText(addr),
      fails: 0,
      checking: false,
      timer: null,
    }));
    this.o = {
      from: opts.from,
      except: opts.except ?? [],
      forceTcp: opts.forceTcp ?? false,
      preferUdp: opts.preferUdp ?? false,
      maxFails: opts.maxFails ?? FORWARD_DEFAULTS.maxFails,
      healthCheckMs: opts.healthCheckMs ?? FORWARD_DEFAULTS.healthCheckMs,
      healthCheckRd: opts.healthCheckRd ?? true,
      healthCheckDomain: opts.healthCheckDomain ?? '.',
      policy: opts.policy ?? 'random',
      maxConcurrent: opts.maxConcurrent && opts.maxConcurrent > 0 ? opts.maxConcurrent : FORWARD_DEFAULTS.maxConcurrent,
      tryTimeoutMs: opts.tryTimeoutMs ?? FORWARD_DEFAULTS.tryTimeoutMs,
      timeoutMs: opts.timeoutMs ?? FORWARD_DEFAULTS.timeoutMs,
    };
  }

  /** Upstreams and their failed-check counts (status pages, tests). */
  get upstreams(): { to: string; fails: number; down: boolean }[] {
    return this.proxies.map((p) => ({ to: p.to, fails: p.fails, down: this.down(p) }));
  }

  get concurrent(): number {
    return this.inFlight;
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.proxies) if (p.timer) clearTimeout(p.timer);
  }

  private matches(name: string): boolean {
    if (!inZone(name, this.o.from)) return false;
    if (canonicalName(name) === canonicalName(this.o.from)) return true;
    return !this.o.except.some((e) => inZone(name, e));
  }

  private down(p: Proxy): boolean {
    return this.o.maxFails !== 0 && p.fails >= this.o.maxFails;
  }

  private list(): Proxy[] {
    const ps = this.proxies.slice();
    if (this.o.policy === 'sequential') return ps;
    if (this.o.policy === 'round_robin') {
      const start = this.rr++ % ps.length;
      return [...ps.slice(start), ...ps.slice(0, start)];
    }
    for (let i = ps.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [ps[i], ps[j]] = [ps[j], ps[i]];
    }
    return ps;
  }

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const question = q.msg.questions?.[0];
    if (!question || !this.matches(question.name)) return next(q);
    if (this.inFlight >= this.o.maxConcurrent) {
      this.metrics?.forwardMaxConcurrentRejects.inc();
      return {
        msg: null,
        rcode: 'REFUSED',
        plugin: 'forward',
        error: new Error(`concurrent queries exceeded maximum ${this.o.maxConcurrent}`),
      };
    }
    this.inFlight++;
    try {
      return await this.forward(q);
    } finally {
      this.inFlight--;
    }
  }

  /** CoreDNS's loop: upstreams in policy order, down ones skipped while others are up, 3 tries per upstream, 5 s in all. */
  private async forward(q: Query): Promise<Outcome> {
    const deadline = this.now() + this.o.timeoutMs;
    const list = this.list();
    const maxAttempts = CONNECT_ATTEMPTS_PER_UPSTREAM * list.length;
    let lastErr: Error | null = null;
    let i = 0;
    let fails = 0;
    for (let attempts = 0; this.now() < deadline && attempts < maxAttempts;) {
      if (i >= list.length) {
        i = 0;
        fails = 0;
      }
      let proxy = list[i++];
      if (this.down(proxy)) {
        fails++;
        if (fails < this.proxies.length) continue;
        // every upstream looks down: assume the health checks are what is broken, pick one at random
        this.metrics?.forwardHealthcheckBroken.inc();
        proxy = this.proxies[randomInt(this.proxies.length)];
      }
      try {
        const reply = await this.ask(proxy, q, Math.max(1, Math.min(this.o.tryTimeoutMs, deadline - this.now())));
        return wrote('forward', reply);
      } catch (e) {
        lastErr = e as Error;
        attempts++;
        if (this.o.maxFails !== 0) this.healthcheck(proxy);
        if (fails < this.proxies.length) continue;
        break;
      }
    }
    return { msg: null, rcode: 'SERVFAIL', plugin: 'forward', error: lastErr ?? new Error('no healthy proxies') };
  }

  /** One upstream: UDP, then TCP if truncated; the reply checked against the question and given the client's id. */
  private async ask(p: Proxy, q: Query, timeoutMs: number): Promise<Packet> {
    const id = randomInt(0x10000);
    const wire = encodeMessage({ ...q.msg, id, type: 'query' }).buf;
    const started = this.now();
    this.metrics?.forwardRequests.inc({ to: p.to });
    let proto: 'udp' | 'tcp' = this.o.forceTcp || (q.proto === 'tcp' && !this.o.preferUdp) ? 'tcp' : 'udp';
    let reply = this.check(await this.exchange(p.addr, wire, proto, timeoutMs), q);
    if (proto === 'udp' && hasFlag(reply, FLAG_TC)) {
      proto = 'tcp';
      reply = this.check(await this.exchange(p.addr, wire, proto, timeoutMs), q);
    }
    const rcode = rcodeName((reply.flags ?? 0) & 0xf);
    this.metrics?.forwardResponses.inc({ to: p.to, rcode });
    this.metrics?.forwardDuration.observe({ to: p.to }, (this.now() - started) / 1000);
    return { ...reply, id: q.msg.id, questions: q.msg.questions?.slice(0, 1) };
  }

  private check(buf: Buffer, q: Query): Packet {
    let m: Packet;
    try {
      m = packet.decode(buf);
    } catch (e) {
      throw new UpstreamError(`malformed reply: ${(e as Error).message}`);
    }
    const want = q.msg.questions![0];
    const got = m.questions?.[0];
    if (m.type !== 'response' || !got || canonicalName(got.name) !== canonicalName(want.name) || got.type !== want.type)
      throw new UpstreamError('reply does not match the question');
    return m;
  }

  /** CoreDNS's proxy health check: `. IN NS` every health_check interval until one answer comes back. */
  private healthcheck(p: Proxy): void {
    if (p.checking || this.stopped) return;
    p.checking = true;
    const probe = () => {
      p.timer = null;
      if (this.stopped) return;
      const flags = this.o.healthCheckRd ? packet.RECURSION_DESIRED : 0;
      const wire = encodeMessage({
        id: randomInt(0x10000),
        type: 'query',
        flags,
        questions: [{ name: this.o.healthCheckDomain, type: 'NS', class: 'IN' }],
      }).buf;
      this.exchange(p.addr, wire, this.o.forceTcp ? 'tcp' : 'udp', this.o.tryTimeoutMs).then(
        () => {
          if (this.down(p)) this.log?.info(`plugin/forward: ${p.to} answers health checks again`);
          p.fails = 0;
          p.checking = false;
        },
        () => {
          p.fails++;
          this.metrics?.forwardHealthcheckFailures.inc({ to: p.to });
          if (this.stopped) return;
          p.timer = setTimeout(probe, this.o.healthCheckMs);
          p.timer.unref();
        },
      );
    };
    probe();
  }
}
