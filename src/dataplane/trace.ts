/**
 * Trace point for drops: called with the frame (Ethernet first, as it
 * arrived; outer headers included for VXLAN) while the bytes are valid, i.e.
 * during the call only. Capture, flow logs and `trace` attach here.
 */
export interface PipelineTracer {
  /** `detail` names what the reason is about, when there is one (a Service, later a policy). */
  dropped(reason: number, port: number, buf: Buffer, off: number, len: number, detail?: string): void;
  /**
   * An IPv4 frame (Ethernet at off; the inner frame for decapsulated
   * traffic) leaves the pipeline: to a local pod, or to `peerNodeIp` over
   * VXLAN. A GSO super-frame is one call with all its bytes (`segments` says how many wire packets).
   */
  forwarded?(
    to: number,
    port: number,
    buf: Buffer,
    off: number,
    len: number,
    peerNodeIp: number,
    segments: number,
  ): void;
  /** A stage handled the probe (see Pipeline.setProbe): what it decided, in words and data. */
  stage?(event: StageEvent): void;
  /** A new connection-tracking entry translates a flow (once per flow, not per packet). */
  natCreated?(event: NatEvent): void;
  /**
   * The capture point around NAT: every translated packet, as it was
   * (`after` false) and as it leaves the rewrite (`after` true). Frames as
   * in `forwarded`; valid during the call only.
   */
  natPoint?(after: boolean, port: number, buf: Buffer, off: number, len: number): void;
  /** A NetworkPolicy rule allowed a new connection of an isolated pod (once per connection; denies come as drops). */
  policyAllowed?(event: PolicyEvent): void;
}

/** What a policy allowed, for `observe`. */
export interface PolicyEvent {
  direction: 'ingress' | 'egress';
  /** the isolated pod the verdict is about, and the other end */
  pod: number;
  peer: number;
  proto: number;
  sport: number;
  dport: number;
  /** "ns/name" and "ingress[0]" */
  policy: string;
  rule: string;
  /** the verdict in words (policy/explain.ts verdictText) */
  text: string;
}

/** Every stage name `trace` can show, in pipeline order. */
export const STAGES = [
  'received',
  'to-host',
  'conntrack',
  'service',
  'nat',
  'policy',
  'masquerade',
  'route',
  'encap',
  'decap',
  'deliver',
  'egress',
  'drop',
  // step mode (podwire ui): the probe waits at a hold point until released (trace-hold.ts)
  'held',
] as const;
export type StageName = (typeof STAGES)[number];

/** What a new translation does, for `observe` (client → frontend → backend). */
export interface NatEvent {
  /** dnat: a Service frontend; masquerade: pod → outside, source rewritten to the node */
  kind: 'dnat' | 'masquerade';
  /** "namespace/name" for dnat */
  service?: string;
  /** `10.96.0.20:80/TCP`, NodePort frontends as `<node IP>:<nodePort>/TCP` */
  frontend?: string;
  frontendType?: string;
  proto: number;
  /** the flow as the client sent it */
  src: number;
  sport: number;
  dst: number;
  dport: number;
  /** as it leaves the translation */
  newSrc: number;
  newSport: number;
  newDst: number;
  newDport: number;
  backend?: string;
  /** the flow came in on eth0 (NodePort, LoadBalancer, external IP), not from a pod */
  fromUnderlay?: boolean;
}

/**
 * What one stage decided about the probe. `stage` names the step, and each
 * stage module lists the names it reports: received, to-host, route,
 * deliver (pods); encap (to peers); decap (underlay); drop (any).
 */
export interface StageEvent {
  stage: StageName;
  detail: string;
  data?: Record<string, unknown>;
}

/** Where a forwarded frame went. */
export const FWD_LOCAL_POD = 0;
export const FWD_VXLAN = 1;
export const FWD_UNDERLAY = 2;
