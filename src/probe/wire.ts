/**
 * What `podwire probe` and the prober it runs in each source pod
 * (prober-main.ts) say to each other: one JSON document each way.
 */

/** What a probe saw. */
export type Observed =
  /** TCP established, or a UDP answer */
  | 'connected'
  /** TCP reset / ICMP port unreachable: the packet reached the pod, nothing listens there */
  | 'refused'
  /** nothing before the deadline: how a policy drop looks (silent) */
  | 'blocked'
  /** an ICMP host/network unreachable or a local EPERM: the network said no, aloud */
  | 'unreachable'
  /** --to service-name: the pod's resolver gave no address */
  | 'dns-failed'
  /** anything else (the detail says what) */
  | 'error';

export interface ProbeResult {
  observed: Observed;
  detail: string;
  ms?: number;
}

export interface ProberProbe {
  id: string;
  /** an IPv4 address, or a name the pod's resolver resolves */
  host: string;
  port: number;
  proto: 'tcp' | 'udp';
}

export interface ProberInput {
  timeoutMs: number;
  probes: ProberProbe[];
}

export interface ProberOutput {
  results: (ProbeResult & { id: string })[];
}
