import http from 'node:http';
import {
  CHECK_INTERVAL_MS,
  CHECK_TIMEOUT_MS,
  initialHealth,
  observeProbe,
  type Health,
  type HealthCheckTarget,
  type HealthState,
} from './health.js';

/** One probe: ok (HTTP 200) or not, and what was seen ("200", "503", "connection refused", "timeout"). */
export type Probe = (url: string, timeoutMs: number) => Promise<{ ok: boolean; detail: string }>;

/** An HTTP GET, healthy on 200 only (as GCP's HTTP health checks judge). */
export const httpProbe: Probe = (url, timeoutMs) =>
  new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean, detail: string) => {
      if (!done) {
        done = true;
        resolve({ ok, detail });
      }
    };
    const req = http.get(
      url,
      { agent: false, timeout: timeoutMs, headers: { 'user-agent': 'podwire-cloudlb-health-check' } },
      (res) => {
        res.resume();
        finish(res.statusCode === 200, `HTTP ${res.statusCode}`);
      },
    );
    req.on('timeout', () => {
      finish(false, `no answer within ${timeoutMs} ms`);
      req.destroy();
    });
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        false,
        e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'EHOSTUNREACH' ? 'host unreachable' : e.message,
      ),
    );
  });

export interface CheckedNode {
  name: string;
  ip: string;
  target: HealthCheckTarget;
}

interface Entry extends CheckedNode {
  health: HealthState;
  inFlight: boolean;
}

/**
 * Probes every node of every Service every 2 s (GCP runs one health check
 * per Service) and keeps each pair's state machine. `onChange` hears every
 * state change; the clock and the probe are injected (tests drive both).
 */
export class HealthChecker {
  private readonly services = new Map<string, Map<string, Entry>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly onChange: (service: string, node: string, from: Health, to: HealthState) => void,
    private readonly probe: Probe = httpProbe,
    private readonly now: () => number = Date.now,
    readonly intervalMs = CHECK_INTERVAL_MS,
    readonly timeoutMs = CHECK_TIMEOUT_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The nodes a Service is checked on; a node whose check URL changed starts over as unknown. Returns true when anything changed. */
  setService(service: string, nodes: CheckedNode[]): boolean {
    const old = this.services.get(service) ?? new Map<string, Entry>();
    const next = new Map<string, Entry>();
    let changed = !this.services.has(service) || old.size !== nodes.length;
    for (const n of nodes) {
      const prev = old.get(n.name);
      if (prev && prev.target.url === n.target.url && prev.ip === n.ip) next.set(n.name, prev);
      else {
        changed = true;
        next.set(n.name, { ...n, health: initialHealth(this.now()), inFlight: false });
      }
    }
    this.services.set(service, next);
    return changed;
  }

  removeService(service: string): void {
    this.services.delete(service);
  }

  has(service: string): boolean {
    return this.services.has(service);
  }

  states(service: string): (CheckedNode & { health: HealthState })[] {
    return [...(this.services.get(service)?.values() ?? [])].map(({ name, ip, target, health }) => ({
      name,
      ip,
      target,
      health,
    }));
  }

  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** One round of probes (every pair not still waiting for its last one). Resolves when all have answered. */
  async tick(): Promise<void> {
    const round: Promise<void>[] = [];
    for (const [service, nodes] of this.services) {
      for (const e of nodes.values()) {
        if (e.inFlight) continue;
        e.inFlight = true;
        round.push(
          this.probe(e.target.url, this.timeoutMs).then(({ ok, detail }) => {
            e.inFlight = false;
            // the Service or node may have gone (or been re-targeted) meanwhile
            if (this.services.get(service)?.get(e.name) !== e) return;
            const from = e.health.state;
            e.health = observeProbe(e.health, ok, detail, this.now());
            if (e.health.state !== from) this.onChange(service, e.name, from, e.health);
          }),
        );
      }
    }
    await Promise.all(round);
  }
}
