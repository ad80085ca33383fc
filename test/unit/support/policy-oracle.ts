// The NetworkPolicy spec read literally, for checking the compiled model
// against it: every call walks every policy, matches selectors and CIDRs
// afresh (its own matcher and its own bit-string CIDR test, not the
// model's), and answers allowed or not. Slow on purpose; correct by being
// a transcription of networking/v1 types.go, not an optimisation of it.

import type { NetworkPolicyLite, PeerSpec, PolicyNamespace, PolicyPod, PortSpec } from '../../../src/policy/index.js';

type Sel =
  | { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }
  | undefined;

function selects(sel: Sel, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel?.matchExpressions ?? []) {
    const has = k(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
const k = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

const bits = (ip: number) => (ip >>> 0).toString(2).padStart(32, '0');
function inCidr(ip: number, cidr: string): boolean {
  if (cidr.includes(':')) return false;
  const [addr, len] = cidr.split('/');
  const n = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  return bits(ip).slice(0, Number(len)) === bits(n).slice(0, Number(len));
}

function typesOf(np: NetworkPolicyLite): string[] {
  const s = np.spec ?? {};
  if (s.policyTypes?.length) return s.policyTypes;
  return s.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
}

export interface Cluster {
  policies: NetworkPolicyLite[];
  pods: PolicyPod[];
  namespaces: PolicyNamespace[];
}

/** Does the cluster's policy let this through at `pod` (ingress: peer → pod; egress: pod → peer)? */
export function oracleAllows(
  c: Cluster,
  ingress: boolean,
  podIp: number,
  peerIp: number,
  proto: number,
  port: number,
): boolean {
  const pod = c.pods.find((p) => p.ip === podIp);
  if (!pod) return true;
  const peerPod = c.pods.find((p) => p.ip === peerIp);
  const dstPod = ingress ? pod : peerPod;
  const dir = ingress ? 'Ingress' : 'Egress';
  const nsLabels = (ns: string) => ({
    ...(c.namespaces.find((n) => n.name === ns)?.labels ?? {}),
    'kubernetes.io/metadata.name': ns,
  });
  const selecting = c.policies.filter(
    (np) =>
      (np.metadata.namespace ?? 'default') === pod.namespace &&
      selects(np.spec?.podSelector, pod.labels) &&
      typesOf(np).includes(dir),
  );
  if (!selecting.length) return true;
  const portOk = (ports: PortSpec[] | undefined) =>
    !ports?.length ||
    ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== ({ 6: 'TCP', 17: 'UDP', 132: 'SCTP' } as Record<number, string>)[proto])
        return false;
      if (p.port === undefined) return true;
      if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
      return !!dstPod && dstPod.ports.some((cp) => cp.name === p.port && cp.port === port && cp.proto === proto);
    });
  const peerOk = (peers: PeerSpec[] | undefined, policyNs: string) =>
    !peers?.length ||
    peers.some((p) => {
      if (p.ipBlock) return inCidr(peerIp, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((e) => inCidr(peerIp, e));
      if (!peerPod) return false;
      const nsOk = p.namespaceSelector
        ? selects(p.namespaceSelector, nsLabels(peerPod.namespace))
        : peerPod.namespace === policyNs;
      return nsOk && selects(p.podSelector, peerPod.labels);
    });
  return selecting.some((np) => {
    const rules = ingress
      ? (np.spec?.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
      : (np.spec?.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
    return rules.some((r) => portOk(r.ports) && peerOk(r.peers, np.metadata.namespace ?? 'default'));
  });
}

/** How many rules (both directions' lists) the policies selecting this pod hold for a direction: what judge() may walk. */
export function oracleRuleCount(c: Cluster, ingress: boolean, podIp: number): number {
  const pod = c.pods.find((p) => p.ip === podIp);
  if (!pod) return 0;
  const dir = ingress ? 'Ingress' : 'Egress';
  return c.policies
    .filter(
      (np) =>
        (np.metadata.namespace ?? 'default') === pod.namespace &&
        selects(np.spec?.podSelector, pod.labels) &&
        typesOf(np).includes(dir),
    )
    .reduce((n, np) => n + (ingress ? (np.spec?.ingress?.length ?? 0) : (np.spec?.egress?.length ?? 0)), 0);
}
