import type { NatEvent, Pipeline, PipelineTracer, PolicyEvent, StageEvent } from '../dataplane/index.js';

/**
 * Fans the pipeline's one trace point out to every open capture; detaches
 * when none is left (zero cost). The optional hooks (forwarded, natPoint …)
 * are present on the hub only while some attached tracer has them: the
 * pipeline tests for a hook before calling it, so a flow log does not make
 * every translated packet pay for a NAT capture nobody runs.
 */
export class TracerHub implements PipelineTracer {
  private readonly tracers = new Set<PipelineTracer>();
  forwarded?: PipelineTracer['forwarded'];
  stage?: PipelineTracer['stage'];
  natCreated?: PipelineTracer['natCreated'];
  natPoint?: PipelineTracer['natPoint'];
  policyAllowed?: PipelineTracer['policyAllowed'];

  constructor(private readonly pipeline: Pipeline) {}

  add(t: PipelineTracer): void {
    this.tracers.add(t);
    this.rewire();
    this.pipeline.setTracer(this);
  }
  remove(t: PipelineTracer): void {
    this.tracers.delete(t);
    this.rewire();
    if (this.tracers.size === 0) this.pipeline.setTracer(null);
  }
  dropped(reason: number, port: number, buf: Buffer, off: number, len: number, detail?: string): void {
    for (const t of this.tracers) t.dropped(reason, port, buf, off, len, detail);
  }

  private rewire(): void {
    const all = [...this.tracers];
    const some = (k: keyof PipelineTracer) => all.some((t) => typeof t[k] === 'function');
    this.forwarded = some('forwarded')
      ? (to: number, port: number, buf: Buffer, off: number, len: number, peer: number, segments: number) => {
          for (const t of this.tracers) t.forwarded?.(to, port, buf, off, len, peer, segments);
        }
      : undefined;
    this.stage = some('stage')
      ? (e: StageEvent) => {
          for (const t of this.tracers) t.stage?.(e);
        }
      : undefined;
    this.natCreated = some('natCreated')
      ? (e: NatEvent) => {
          for (const t of this.tracers) t.natCreated?.(e);
        }
      : undefined;
    this.natPoint = some('natPoint')
      ? (after: boolean, port: number, buf: Buffer, off: number, len: number) => {
          for (const t of this.tracers) t.natPoint?.(after, port, buf, off, len);
        }
      : undefined;
    this.policyAllowed = some('policyAllowed')
      ? (e: PolicyEvent) => {
          for (const t of this.tracers) t.policyAllowed?.(e);
        }
      : undefined;
  }
}
