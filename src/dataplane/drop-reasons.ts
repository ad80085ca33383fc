/**
 * Every drop carries one reason from this closed list (DESIGN property 7).
 * A stage that can drop adds its reasons here, with a sentence that a
 * learner reading `podwire` output can act on. Indices are stable: counters
 * are a typed array indexed by reason.
 */
export const DROP_REASONS = [
  ['truncated', 'frame larger than the receive slot'],
  ['malformed-ethernet', 'frame shorter than an Ethernet header'],
  ['malformed-arp', 'ARP packet that is not Ethernet/IPv4 or is cut short'],
  ['malformed-ipv4', 'IPv4 header invalid (version, length fields) or cut short'],
  ['bad-ipv4-checksum', 'IPv4 header checksum wrong'],
  ['malformed-l4', 'TCP/UDP header invalid or cut short'],
  ['malformed-vxlan', 'VXLAN packet too short or its inner frame invalid'],
  ['vxlan-bad-flags', 'VXLAN header without the I flag (RFC 7348 §5)'],
  ['vxlan-unknown-vni', 'VXLAN network identifier is not this cluster’s'],
  ['vxlan-unknown-peer', 'VXLAN from an address that is not a known node'],
  ['not-for-node', 'underlay packet addressed to another node'],
  ['unsupported-ethertype', 'neither IPv4 nor ARP (IPv6 is not routed by podwire yet)'],
  ['no-route', 'no pod CIDR, peer node or local pod covers the destination'],
  ['arp-unresolved', 'destination pod has no known MAC address (no such pod?)'],
  ['peer-unresolved', 'peer node’s underlay MAC unknown: node unreachable or down'],
  ['peer-unreachable', 'peer node’s agent stopped answering health probes (3 s): its agent is down'],
  ['ttl-expired', 'TTL ran out at this hop'],
  ['mtu-exceeded', 'packet larger than the path MTU (pod MTU 1450 = 1500 − 50 VXLAN overhead)'],
  ['gso-unsupported', 'segmentation-offload frame of a kind podwire cannot split'],
  ['tx-queue-full', 'the send queue was full'],
  ['tx-rejected', 'the kernel refused to send the frame (malformed for the device)'],
  ['not-for-gateway', 'unicast frame for a MAC that is not the gateway'],
  ['no-endpoints', 'the Service has no ready endpoints: the client gets a TCP reset or ICMP port unreachable'],
  ['etp-local-no-endpoint', 'externalTrafficPolicy Local and no ready endpoint of the Service on this node'],
  ['no-service-port', 'a Service IP, but no port of that Service matches (port or protocol)'],
  [
    'conntrack-full',
    'the connection-tracking table is full: new flows are refused, established ones keep their entries',
  ],
  ['stale-backend', 'the flow’s backend left the Service: the TCP connection is reset'],
  ['nat-ports-exhausted', 'no free source port on the node for masquerading or SNAT'],
  ['underlay-unresolved', 'the underlay neighbour (outside client or server) has no known MAC yet: ARP sent'],
  ['not-ours', 'underlay packet for the node that no Service, NodePort or masqueraded flow owns'],
  [
    'policy-denied-ingress',
    'NetworkPolicy: the destination pod is isolated for ingress and no rule of the policies selecting it allowed this connection',
  ],
  [
    'spoofed-source',
    'a pod sent from an IP or MAC address that is not its own (anti-spoofing, as Cilium and Calico do)',
  ],
  [
    'policy-denied-egress',
    'NetworkPolicy: the source pod is isolated for egress and no rule of the policies selecting it allowed this connection',
  ],
  [
    'vxlan-spoofed-inner-source',
    'VXLAN from a known node whose inner source is neither in that node’s pod CIDR nor its node address (a forged or misrouted packet)',
  ],
  ['trace-hold-expired', 'a traced probe held in step mode (podwire ui) was not released in time, or its trace ended'],
] as const;

export type DropReason = (typeof DROP_REASONS)[number][0];
export const DROP_REASON_COUNT = DROP_REASONS.length;

const INDEX = new Map<string, number>(DROP_REASONS.map(([name], i) => [name, i]));

/** Numeric ids for the hot path (no string lookups per packet). */
export const DROP = Object.fromEntries(DROP_REASONS.map(([name], i) => [name, i])) as { [K in DropReason]: number };

export function dropReasonName(id: number): DropReason {
  return DROP_REASONS[id][0];
}
export function dropReasonId(name: string): number | undefined {
  return INDEX.get(name);
}
export function describeDropReason(name: DropReason): string {
  return DROP_REASONS[INDEX.get(name)!][1];
}
