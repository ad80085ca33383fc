import type { Pipeline, PipelineTracer, StageEvent } from '../dataplane/index.js';

/** Fans the pipeline's one trace point out to every open capture; detaches when none is left (zero cost). */
export class TracerHub implements PipelineTracer {
  private readonly tracers = new Set<PipelineTracer>();
  constructor(private readonly pipeline: Pipeline) {}

  add(t: PipelineTracer): void {
    this.tracers.add(t);
    this.pipeline.setTracer(this);
  }
  remove(t: PipelineTracer): void {
    this.tracers.delete(t);
    if (this.tracers.size === 0) this.pipeline.setTracer(null);
  }
  dropped(reason: number, port: number, buf: Buffer, off: number, len: number): void {
    for (const t of this.tracers) t.dropped(reason, port, buf, off, len);
  }
  stage(e: StageEvent): void {
    for (const t of this.tracers) t.stage?.(e);
  }
  forwarded(to: number, port: number, buf: Buffer, off: number, len: number, peer: number, segments: number): void {
    for (const t of this.tracers) t.forwarded?.(to, port, buf, off, len, peer, segments);
  }
}
