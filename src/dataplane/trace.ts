/**
 * Trace point for drops: called with the frame (Ethernet first, as it
 * arrived; outer headers included for VXLAN) while the bytes are valid, i.e.
 * during the call only. Capture, flow logs and `trace` attach here.
 */
export interface PipelineTracer {
  dropped(reason: number, port: number, buf: Buffer, off: number, len: number): void;
  /**
   * An IPv4 frame (Ethernet at off; the inner frame for decapsulated
   * traffic) leaves the pipeline: to a local pod, or to `peerNodeIp` over
   * VXLAN. A GSO super-frame is one call with all its bytes (`segments` says how many wire packets).
   */
  forwarded?(to: number, port: number, buf: Buffer, off: number, len: number, peerNodeIp: number, segments: number): void;
  /** A stage handled the probe (see Pipeline.setProbe): what it decided, in words and data. */
  stage?(event: StageEvent): void;
}

/**
 * What one stage decided about the probe. `stage` names the step, and each
 * stage module lists the names it reports: received, to-host, route,
 * deliver (pods); encap (to peers); decap (underlay); drop (any).
 */
export interface StageEvent {
  stage: string;
  detail: string;
  data?: Record<string, unknown>;
}

/** Where a forwarded frame went. */
export const FWD_LOCAL_POD = 0;
export const FWD_VXLAN = 1;
