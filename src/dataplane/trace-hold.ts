/**
 * Step mode's hold (`podwire ui`, issue #16): the traced probe — and only
 * it — is parked at the layer boundaries this agent owns until the UI says
 * "next". Pure bookkeeping keyed by trace (probe source + IPv4
 * identification): the pipeline asks whether to park, hands over a copy of
 * the frame, and gets it back on release; every other packet never comes
 * here. A parked probe gives up after `timeoutMs` (the agent drops it as
 * trace-hold-expired), so nothing is held for ever.
 */

/** On cbr0 receive, before the Service stage (the sending node). */
export const HOLD_POD_RX = 0;
/** Just before delivery to the destination pod (after decapsulation and ingress policy, or a same-node route). */
export const HOLD_DELIVER = 1;
/** After Service, policy and route, before VXLAN encapsulation to the peer (the sending node). */
export const HOLD_ENCAP = 2;
export type HoldPoint = typeof HOLD_POD_RX | typeof HOLD_DELIVER | typeof HOLD_ENCAP;

export const HOLD_POINT_NAMES = [
  'before the Service stage',
  'before delivery to the pod',
  'before VXLAN encapsulation',
] as const;

/** Default: how long a probe may stay parked. */
export const HOLD_TIMEOUT_MS = 60_000;

export interface HeldProbe {
  key: string;
  point: HoldPoint;
  /** the frame from its virtio-net header on, copied (the receive buffer is reused) */
  frame: Buffer;
  /** the pipeline port it came in on */
  port: number;
  sinceMs: number;
}

interface Trace {
  /** points the probe was released from: it passes them from now on */
  passed: Set<HoldPoint>;
  held: HeldProbe | null;
}

export const probeKey = (src: number, id: number): string => `${src >>> 0}/${id}`;

export class ProbeHolds {
  private readonly traces = new Map<string, Trace>();

  constructor(readonly timeoutMs = HOLD_TIMEOUT_MS) {}

  /** Hold this probe from now on (step mode started for it). */
  enable(key: string): void {
    if (!this.traces.has(key)) this.traces.set(key, { passed: new Set(), held: null });
  }

  /** Step mode over for this probe: returns what was still parked (the caller drops it). */
  disable(key: string): HeldProbe | null {
    const t = this.traces.get(key);
    this.traces.delete(key);
    return t?.held ?? null;
  }

  get size(): number {
    return this.traces.size;
  }

  /** Should the probe `key` stop at `point`? (Not when released from there already, nor when something is parked.) */
  shouldPark(key: string, point: HoldPoint): boolean {
    const t = this.traces.get(key);
    return t !== undefined && t.held === null && !t.passed.has(point);
  }

  park(key: string, point: HoldPoint, frame: Buffer, port: number, nowMs: number): void {
    const t = this.traces.get(key);
    if (!t) return;
    t.held = { key, point, frame, port, sinceMs: nowMs };
  }

  heldOf(key: string): HeldProbe | null {
    return this.traces.get(key)?.held ?? null;
  }

  /** "next": hand back the parked frame; the probe passes this point from now on. */
  release(key: string): HeldProbe | null {
    const t = this.traces.get(key);
    if (!t || !t.held) return null;
    const h = t.held;
    t.held = null;
    t.passed.add(h.point);
    return h;
  }

  /** Frames parked longer than the timeout, taken out (the caller drops them as trace-hold-expired). */
  expire(nowMs: number): HeldProbe[] {
    const out: HeldProbe[] = [];
    for (const t of this.traces.values()) {
      if (t.held && nowMs - t.held.sinceMs >= this.timeoutMs) {
        out.push(t.held);
        t.passed.add(t.held.point);
        t.held = null;
      }
    }
    return out;
  }
}
