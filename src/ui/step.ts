/**
 * Step mode: a probe sent from the UI that stops on its way until "next".
 * The trace runs as `podwire trace` runs it, with `hold`: every agent parks
 * just this probe at its hold points (dataplane/trace-hold.ts) — on the
 * sending node's cbr0 receive before the Service stage, on the sending node
 * again before VXLAN encapsulation, and just before delivery to the
 * destination pod. Each "next" adds one layer of the ladder; when the layer
 * to add needs the probe to move (it waits before it), the agent holding it
 * is told to release it (POST /trace/release). Service, NetworkPolicy and
 * Route are decided by the sending agent in one pass: they are shown one per
 * "next" from its recorded decisions while the packet waits before VXLAN.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { agentSocketPath, callAgent } from '../agent/index.js';
import { trace, type LabState, type ProbeFacts, type TraceOutcome } from '../lab/index.js';
import type { AgentEvent, Layer } from '../trace/index.js';
import type { UiLayer, UiStepState } from './contract.js';
import { traceLadder } from './trace-ladder.js';

/** How long a step-mode trace lives at most (the agents drop a probe held over 60 s by themselves). */
const STEP_TRACE_MS = 120_000;
/** How long one "next" waits for the probe to reach its next hold (or its end). */
const SETTLE_MS = 20_000;

export interface StepTarget {
  from: string;
  target: string;
}

/** Which of the ladder's layers to show after `revealed` (pure): see the file comment. */
export function visibleLayers(ladder: UiLayer[], revealed: number): UiLayer[] {
  return ladder.slice(0, Math.min(revealed, ladder.length));
}

/** How many layers the first view shows: every layer decided before the probe moved, and the one it waits before. */
export function firstRevealed(ladder: UiLayer[]): number {
  const p = ladder.findIndex((l) => l.state === 'pending');
  return p < 0 ? ladder.length : p + 1;
}

/** Does adding layer `revealed` need the probe to move first? (It, or the last one shown, is still pending.) */
export function needsRelease(ladder: UiLayer[], revealed: number): boolean {
  return ladder[revealed - 1]?.state === 'pending' || ladder[revealed]?.state === 'pending';
}

export class StepSession {
  readonly id = randomBytes(6).toString('hex');
  readonly probeId = randomInt(1, 0xffff);
  readonly events: AgentEvent[] = [];
  probe?: ProbeFacts;
  /** a name target: its DNS layer, known before the probe leaves */
  dns?: { layers: Layer[]; address?: string };
  outcome?: TraceOutcome;
  error?: Error;
  revealed = 0;
  finished = false;
  private waiters: (() => void)[] = [];
  private readonly abandon = new AbortController();
  private run!: Promise<void>;

  constructor(
    private readonly state: LabState,
    private readonly t: StepTarget,
  ) {}

  /** Send the probe; resolves once it waits at its first hold (or the trace is over). */
  async start(): Promise<UiStepState> {
    this.run = trace(this.state, this.t.from, this.t.target, {
      id: this.probeId,
      hold: true,
      timeoutMs: STEP_TRACE_MS,
      signal: this.abandon.signal,
      onEvent: (e) => {
        this.events.push(e);
        this.wake();
      },
      onResolved: (layers, address) => {
        this.dns = { layers, ...(address ? { address } : {}) };
      },
      beforeInject: async (p) => {
        this.probe = p;
      },
    }).then(
      (o) => {
        this.outcome = o;
        this.finished = true;
        this.wake();
      },
      (err: Error) => {
        this.error = err;
        this.finished = true;
        this.wake();
      },
    );
    await this.until(() => this.finished || this.events.some((e) => e.stage === 'held'), SETTLE_MS);
    if (this.error) throw this.error;
    this.revealed = firstRevealed(this.ladder());
    return this.view();
  }

  /** "next": one more layer, releasing the probe when that layer needs it to move. */
  async next(): Promise<UiStepState> {
    if (this.error) throw this.error;
    let ladder = this.ladder();
    if (this.isDone(ladder)) return this.view();
    if (needsRelease(ladder, this.revealed) && !this.finished) {
      const held = [...this.events].reverse().find((e) => e.stage === 'held');
      const seen = this.events.length;
      if (held) await this.release(held.node);
      await this.until(
        () =>
          this.finished ||
          this.events.slice(seen).some((e) => e.stage === 'held' || e.stage === 'drop') ||
          // delivered: the catcher's word ends the trace, wait for it
          false,
        SETTLE_MS,
      );
      // after a drop or the last hold the trace ends by itself: let its outcome land
      if (this.events.slice(seen).some((e) => e.stage === 'drop' || e.stage === 'deliver'))
        await this.until(() => this.finished, SETTLE_MS);
      ladder = this.ladder();
    }
    this.revealed = Math.min(this.revealed + 1, ladder.length);
    return this.view();
  }

  ladder(): UiLayer[] {
    const o = this.outcome;
    const p = this.probe;
    return traceLadder({
      result: o?.result ?? { layers: this.dns?.layers ?? [], verdict: 'LOST', summary: '' },
      events: o?.events ?? this.events.filter((e) => e.stage !== 'held'),
      dnsLayers: o?.dnsLayers ?? this.dns?.layers.length ?? 0,
      ...((o?.address ?? this.dns?.address)
        ? { address: (o?.address ?? this.dns?.address)!, name: this.t.target.replace(/[:/].*$/, '') }
        : {}),
      srcPod: p?.srcPod ?? this.t.from,
      srcNode: p?.srcNode ?? '',
      ...(o?.deliveredTo ? { dstPod: o.deliveredTo } : p?.dstPod ? { dstPod: p.dstPod } : {}),
      ...(p?.dstNode ? { dstNode: p.dstNode } : {}),
      final: this.finished,
    });
  }

  private isDone(ladder: UiLayer[]): boolean {
    if (!this.finished) return false;
    const last = ladder[this.revealed - 1];
    return this.revealed >= ladder.length || last?.state === 'dropped';
  }

  view(): UiStepState {
    const ladder = this.ladder();
    const done = this.isDone(ladder);
    return {
      id: this.id,
      layers: visibleLayers(ladder, this.revealed),
      done,
      ...(done && this.outcome ? { verdict: this.outcome.result.verdict } : {}),
    };
  }

  private async release(node: string): Promise<void> {
    const n = this.state.plan.nodes.find((x) => x.name === node);
    if (!n || !this.probe) return;
    await callAgent(
      agentSocketPath(n.stateDir),
      'POST',
      `/trace/release?src=${this.probe.srcIp}&id=${this.probeId}`,
      undefined,
      5000,
    ).catch(() => null);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait for `cond` (checked on every event and at the end), at most `ms`. */
  private async until(cond: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Give the probe up (another trace starts: the agents follow one probe at a time); resolves once the trace is over. */
  async abort(): Promise<void> {
    this.abandon.abort();
    await this.until(() => this.finished, SETTLE_MS);
  }

  /** The trace's own end (for shutdown): resolves once it is over. */
  get ended(): Promise<void> {
    return this.run;
  }
}
