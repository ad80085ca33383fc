/**
 * Policy in words: what a rule admits (peers ORed, the selectors of one
 * peer ANDed: the articles' "most common mistake", said out loud), why a
 * connection was allowed or denied, and the lint that spots a `from` list
 * that ORs what was probably meant to be ANDed. Used by the dataplane's
 * drop details and trace, `podwire describe netpol` and `explain-policy`.
 */
import { ipv4ToString } from '../packet/index.js';
import { selectorIsEmpty, type CompiledRule, type PolicySet } from './policy-set.js';
import {
  DIR_INGRESS,
  VERDICT_DENY,
  VERDICT_OPEN,
  directionName,
  protoNumber,
  protoText,
  type Direction,
  type NetworkPolicyLite,
  type PeerSpec,
  type PortSpec,
} from './types.js';
import type { LabelSelector } from '../control/index.js';

export function selectorText(sel: LabelSelector | undefined): string {
  if (selectorIsEmpty(sel)) return '';
  const parts = Object.entries(sel!.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel!.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** One peer in words: "pods app=b in namespace x", "every pod in namespaces team=y", "10.0.0.0/8 except 10.1.0.0/16". */
export function peerText(p: PeerSpec, policyNamespace: string): string {
  if (p.ipBlock) return `${p.ipBlock.cidr}${p.ipBlock.except?.length ? ` except ${p.ipBlock.except.join(', ')}` : ''}`;
  const pods = selectorIsEmpty(p.podSelector) ? 'every pod' : `pods ${selectorText(p.podSelector)}`;
  if (!p.namespaceSelector) return `${pods} in namespace ${policyNamespace}`;
  const nss = selectorIsEmpty(p.namespaceSelector)
    ? 'every namespace'
    : `namespaces ${selectorText(p.namespaceSelector)}`;
  // both selectors in one peer: both must hold (AND); an empty podSelector beside a namespaceSelector adds nothing to AND
  return selectorIsEmpty(p.podSelector) ? `${pods} in ${nss}` : `${pods} AND in ${nss}`;
}

export function portText(p: PortSpec): string {
  const proto = protoText(protoNumber(p.protocol));
  if (p.port === undefined || p.port === null) return `every ${proto} port`;
  if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) return `${proto} port named "${p.port}"`;
  return p.endPort !== undefined && p.endPort !== null ? `${proto}/${p.port}-${p.endPort}` : `${proto}/${p.port}`;
}

/** A rule in words: "from (A) OR (B) on TCP/80, TCP/443". */
export function ruleSpecText(
  dir: Direction,
  peers: PeerSpec[] | undefined,
  ports: PortSpec[] | undefined,
  policyNamespace: string,
): string {
  const word = dir === DIR_INGRESS ? 'from' : 'to';
  const who = !peers?.length
    ? `${word} anywhere`
    : peers.length === 1
      ? `${word} ${peerText(peers[0], policyNamespace)}`
      : `${word} ${peers.map((p) => `(${peerText(p, policyNamespace)})`).join(' OR ')}`;
  const what = !ports?.length ? 'on every port' : `on ${ports.map(portText).join(', ')}`;
  return `${who} ${what}`;
}

/** "x/allow-b ingress[0]: from pods app=b in namespace x on TCP/80" */
export function ruleText(r: CompiledRule): string {
  return `${r.policy.key} ${directionName(r.direction)}[${r.index}]: ${ruleSpecText(
    r.direction,
    r.peers.map((p) => p.spec),
    r.ports.map((p) => p.spec),
    r.policy.namespace,
  )}`;
}

function endpointText(set: PolicySet, ip: number): string {
  const p = set.pod(ip);
  return p ? `${p.namespace}/${p.name} (${ipv4ToString(ip)})` : ipv4ToString(ip);
}

/**
 * A verdict in one line, for drop details, traces and observe:
 *   "ingress to x/a (10.244.1.5) from y/b (10.244.2.3) TCP/80 denied: isolated by x/deny-all, x/allow-c; no rule allowed it"
 *   "egress from x/a … allowed by x/allow-dns egress[0]: to every pod in namespaces … on UDP/53"
 */
export function verdictText(
  set: PolicySet,
  dir: Direction,
  podIp: number,
  peerIp: number,
  proto: number,
  port: number,
  verdict: number,
): string {
  const flow =
    dir === DIR_INGRESS
      ? `ingress to ${endpointText(set, podIp)} from ${endpointText(set, peerIp)}`
      : `egress from ${endpointText(set, podIp)} to ${endpointText(set, peerIp)}`;
  const what = `${protoText(proto)}${proto === 6 || proto === 17 || proto === 132 ? `/${port}` : ''}`;
  if (verdict === VERDICT_OPEN) return `${flow} ${what} allowed: no policy isolates it for ${directionName(dir)}`;
  if (verdict === VERDICT_DENY) {
    const by = set.isolatedBy(podIp, dir).map((p) => p.key);
    return `${flow} ${what} denied: isolated by ${by.join(', ')}; no rule allowed it`;
  }
  const r = set.rule(verdict);
  return `${flow} ${what} allowed by ${r ? ruleText(r) : `rule ${verdict}`}`;
}

/** Short form for drop details: "ingress: isolated by x/deny-all; no rule allowed it". */
export function denyDetail(set: PolicySet, dir: Direction, podIp: number): string {
  return `${directionName(dir)}: isolated by ${set
    .isolatedBy(podIp, dir)
    .map((p) => p.key)
    .join(', ')}; no rule allowed it`;
}

export { VERDICT_DENY, VERDICT_OPEN };

/**
 * Warnings a reviewer would give: separate peers holding one selector each
 * (OR) where one peer with both (AND) was probably meant; with a PolicySet
 * compiled with this policy (the pods at hand), a named port that no pod it
 * could resolve on has — for ingress the pods the policy selects, for egress
 * the pods the rule's peers take in — so that entry admits nothing.
 */
export function lintPolicy(np: NetworkPolicyLite, set?: PolicySet): string[] {
  const out: string[] = [];
  const spec = np.spec ?? {};
  const check = (dir: string, i: number, peers: PeerSpec[] | undefined) => {
    if (!peers) return;
    const nsOnly = peers.findIndex((p) => p.namespaceSelector && !p.podSelector && !p.ipBlock);
    const podOnly = peers.findIndex((p) => p.podSelector && !p.namespaceSelector && !p.ipBlock);
    if (nsOnly >= 0 && podOnly >= 0) {
      out.push(
        `${dir}[${i}] lists a namespaceSelector and a podSelector as two peers: they are ORed (any pod in those namespaces, OR those pods in ${np.metadata.namespace ?? 'default'}). ` +
          'For pods matching both, put both selectors in ONE peer (no "-" before podSelector).',
      );
    }
  };
  (spec.ingress ?? []).forEach((r, i) => check('ingress', i, r.from));
  (spec.egress ?? []).forEach((r, i) => check('egress', i, r.to));
  if (set) out.push(...lintNamedPorts(`${np.metadata.namespace ?? 'default'}/${np.metadata.name}`, set));
  return out;
}

function lintNamedPorts(key: string, set: PolicySet): string[] {
  const out: string[] = [];
  const selected = set.podsSelectedBy(key);
  for (const r of set.rulesOfPolicy(key)) {
    const named = r.ports.filter((p) => p.name !== undefined);
    if (!named.length) continue;
    const ingress = r.direction === DIR_INGRESS;
    // a policy selecting no pod has nothing to resolve an ingress port on: describe says it selects none
    if (ingress && !selected.length) continue;
    const pods = ingress ? selected : set.peerPods(r);
    for (const p of named) {
      if (pods.some((pod) => pod.ports.some((cp) => cp.name === p.name && cp.proto === p.proto))) continue;
      const whose = ingress ? 'no pod it selects' : 'no pod this rule lets it reach';
      out.push(
        `${directionName(r.direction)}[${r.index}]: ${whose} has a ${protoText(p.proto)} port named "${p.name}" — a named port is resolved on the ` +
          `destination pod (${ingress ? 'the selected pod' : 'the peer'}), so that entry admits nothing.`,
      );
    }
  }
  return out;
}
