/**
 * The NetworkPolicy model's vocabulary: what it is compiled from (pods,
 * namespaces and networking.k8s.io/v1 NetworkPolicy specs, as plain data)
 * and the numbers a verdict is made of. Pure: no I/O.
 */
import type { LabelSelector, Labels } from '../control/index.js';

/** A pod as policy sees it: where it lives, its labels, its IP and its named container ports. */
export interface PolicyPod {
  namespace: string;
  name: string;
  /** IPv4 as uint32 */
  ip: number;
  labels: Labels;
  /** containers' ports; a named port is resolved on the destination pod */
  ports: NamedPort[];
  nodeName?: string;
}

export interface NamedPort {
  name?: string;
  port: number;
  /** IP protocol number: 6 TCP, 17 UDP, 132 SCTP */
  proto: number;
}

export interface PolicyNamespace {
  name: string;
  labels: Labels;
}

/** networking.k8s.io/v1 NetworkPolicy, the fields policy reads (the API server has validated and defaulted it). */
export interface NetworkPolicyLite {
  metadata: { name: string; namespace?: string };
  spec?: {
    podSelector?: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: PeerSpec[]; ports?: PortSpec[] }[];
    egress?: { to?: PeerSpec[]; ports?: PortSpec[] }[];
  };
}

export interface PeerSpec {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface PortSpec {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export const DIR_INGRESS = 0;
export const DIR_EGRESS = 1;
export type Direction = typeof DIR_INGRESS | typeof DIR_EGRESS;
export const directionName = (d: Direction): 'ingress' | 'egress' => (d === DIR_INGRESS ? 'ingress' : 'egress');

/** isolation bits of a pod (PolicySet.isolation) */
export const ISOLATED_INGRESS = 1;
export const ISOLATED_EGRESS = 2;

/** judge() answers: denied, not isolated in that direction (open), or the id (> 0) of the rule that allowed it */
export const VERDICT_DENY = -1;
export const VERDICT_OPEN = 0;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_SCTP = 132;

export function protoNumber(name: string | undefined): number {
  switch ((name ?? 'TCP').toUpperCase()) {
    case 'UDP':
      return PROTO_UDP;
    case 'SCTP':
      return PROTO_SCTP;
    default:
      return PROTO_TCP;
  }
}

export function protoText(proto: number): string {
  return proto === PROTO_TCP
    ? 'TCP'
    : proto === PROTO_UDP
      ? 'UDP'
      : proto === PROTO_SCTP
        ? 'SCTP'
        : proto === PROTO_ICMP
          ? 'ICMP'
          : `proto ${proto}`;
}

/** Verdict counters of one policy, kept by the agent across recompiles (Prometheus). */
export interface PolicyCounters {
  ingressAllowed: number;
  ingressDenied: number;
  egressAllowed: number;
  egressDenied: number;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    readonly code: 'ERR_BAD_POLICY' | 'ERR_BAD_TARGET',
    message: string,
  ) {
    super(message);
  }
}
