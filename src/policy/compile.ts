/**
 * NetworkPolicy objects + the cluster's pods and namespaces → PolicySet
 * (policy-set.ts), resolved once so a verdict never walks every policy:
 *
 *   - each pod IP gets the rules of the policies that select it, per
 *     direction (null = not isolated in that direction: open);
 *   - each rule's peers are resolved to sets of pod IPs (a podSelector,
 *     a namespaceSelector, or both ANDed in one peer) or to CIDR matchers
 *     (ipBlock with except); peers of one rule are ORed;
 *   - ports are kept as protocol + range, or as a name resolved per packet
 *     on the destination pod (name and protocol must both match).
 *
 * Kubernetes' semantics (networking/v1 types.go): a policy isolates the
 * pods its podSelector selects (in its namespace) for each of its
 * policyTypes; an isolated pod admits what the union of the rules of every
 * policy selecting it allows; `from`/`to` absent or empty = every peer,
 * `ports` absent or empty = every port; ingress with policyTypes Ingress
 * and no rules = deny all. A selector peer matches pods only (by IP), an
 * ipBlock any address, pods included. hostNetwork pods (their IP is the
 * node's) are not pods to policy, as in Calico and Cilium.
 *
 * Selectors shared by many policies are resolved once (memoised by their
 * canonical text), so 1,000 policies over the same few labels cost little.
 */
import { matches, selectorRequirements, type LabelSelector, type Requirement } from '../control/index.js';
import { cidrMask, parseCidr, type Cidr } from '../packet/index.js';
import {
  PolicySet,
  type CompiledPeer,
  type CompiledPort,
  type CompiledRule,
  type PodPolicies,
  type PolicyInfo,
} from './policy-set.js';
import {
  DIR_EGRESS,
  DIR_INGRESS,
  PolicyError,
  protoNumber,
  type Direction,
  type NetworkPolicyLite,
  type PeerSpec,
  type PolicyCounters,
  type PolicyNamespace,
  type PolicyPod,
  type PortSpec,
} from './types.js';

export interface CompileOptions {
  /** counters per "ns/name", kept by the caller across compiles; missing ones are added */
  counters?: Map<string, PolicyCounters>;
}

export function compilePolicies(
  policies: readonly NetworkPolicyLite[],
  pods: readonly PolicyPod[],
  namespaces: readonly PolicyNamespace[],
  opts: CompileOptions = {},
): PolicySet {
  const counters = opts.counters ?? new Map<string, PolicyCounters>();
  const podsByNs = new Map<string, PolicyPod[]>();
  const byIp = new Map<number, PolicyPod>();
  for (const p of pods) {
    if (!p.ip) continue;
    byIp.set(p.ip, p);
    let l = podsByNs.get(p.namespace);
    if (!l) podsByNs.set(p.namespace, (l = []));
    l.push(p);
  }
  // The API server sets kubernetes.io/metadata.name on every namespace (to its name, whatever was written): a
  // namespace handed in without it (a test, an object from elsewhere) still has it here.
  const nsLabels = new Map(namespaces.map((n) => [n.name, { ...n.labels, 'kubernetes.io/metadata.name': n.name }]));
  // A pod's namespace may not be listed yet (watch order): it still has the name label every namespace gets.
  for (const ns of podsByNs.keys()) if (!nsLabels.has(ns)) nsLabels.set(ns, { 'kubernetes.io/metadata.name': ns });

  const memo = new Map<string, Set<number>>();
  const reqMemo = new Map<string, Requirement[]>();
  const reqs = (sel: LabelSelector | undefined): Requirement[] => {
    const key = JSON.stringify(sel ?? {});
    let r = reqMemo.get(key);
    if (!r) {
      try {
        r = selectorRequirements(sel);
      } catch {
        // The API server refuses such selectors; one that got in anyway (an old
        // object, a bug) matches nothing, so it fails closed for its peer and
        // selects no pod, rather than costing every other policy its verdicts.
        r = [{ key: '\u0000invalid-selector', op: 'in', values: [] }];
      }
      reqMemo.set(key, r);
    }
    return r;
  };
  const podsIn = (namespacesWanted: string[], podSel: LabelSelector | undefined): Set<number> => {
    const key = `${namespacesWanted.join(',')}|${JSON.stringify(podSel ?? {})}`;
    let s = memo.get(key);
    if (s) return s;
    s = new Set<number>();
    const r = reqs(podSel);
    for (const ns of namespacesWanted) for (const p of podsByNs.get(ns) ?? []) if (matches(r, p.labels)) s.add(p.ip);
    memo.set(key, s);
    return s;
  };
  const nsMemo = new Map<string, string[]>();
  const namespacesMatching = (sel: LabelSelector): string[] => {
    const key = JSON.stringify(sel);
    let l = nsMemo.get(key);
    if (l) return l;
    const r = reqs(sel);
    l = [...nsLabels]
      .filter(([, labels]) => matches(r, labels))
      .map(([n]) => n)
      .sort();
    nsMemo.set(key, l);
    return l;
  };

  const perPod = new Map<number, PodPolicies>();
  const rules: CompiledRule[] = [];
  const infos: PolicyInfo[] = [];
  const sorted = [...policies].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const np of sorted) {
    const ns = np.metadata.namespace ?? 'default';
    const key = `${ns}/${np.metadata.name}`;
    let c = counters.get(key);
    if (!c) counters.set(key, (c = { ingressAllowed: 0, ingressDenied: 0, egressAllowed: 0, egressDenied: 0 }));
    const spec = np.spec ?? {};
    const types = spec.policyTypes?.length
      ? spec.policyTypes
      : spec.egress?.length
        ? ['Ingress', 'Egress']
        : ['Ingress'];
    const selected = podsIn([ns], spec.podSelector);
    const info: PolicyInfo = {
      key,
      namespace: ns,
      name: np.metadata.name,
      counters: c,
      selected: selected.size,
      policy: np,
    };
    infos.push(info);
    const compileDir = (dir: Direction, list: { peers?: PeerSpec[]; ports?: PortSpec[] }[]): CompiledRule[] =>
      list.map((r, index) => {
        const rule: CompiledRule = {
          id: rules.length + 1,
          policy: info,
          direction: dir,
          index,
          allPeers: !r.peers?.length,
          peers: (r.peers ?? []).map((p, i) => compilePeer(p, ns, key, dir, index, i, podsIn, namespacesMatching)),
          allPorts: !r.ports?.length,
          ports: (r.ports ?? []).map(compilePort),
        };
        rules.push(rule);
        return rule;
      });
    const ingress = types.includes('Ingress')
      ? compileDir(
          DIR_INGRESS,
          (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })),
        )
      : null;
    const egress = types.includes('Egress')
      ? compileDir(
          DIR_EGRESS,
          (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports })),
        )
      : null;
    for (const ip of selected) {
      let pp = perPod.get(ip);
      if (!pp) perPod.set(ip, (pp = { ingress: null, egress: null, ingressBy: [], egressBy: [] }));
      if (ingress) {
        (pp.ingress ??= []).push(...ingress);
        pp.ingressBy.push(info);
      }
      if (egress) {
        (pp.egress ??= []).push(...egress);
        pp.egressBy.push(info);
      }
    }
  }
  return new PolicySet(perPod, byIp, rules, infos);
}

function keyOf(np: NetworkPolicyLite): string {
  return `${np.metadata.namespace ?? 'default'}/${np.metadata.name}`;
}

function compilePeer(
  p: PeerSpec,
  ns: string,
  policy: string,
  dir: Direction,
  rule: number,
  peer: number,
  podsIn: (nss: string[], sel: LabelSelector | undefined) => Set<number>,
  namespacesMatching: (sel: LabelSelector) => string[],
): CompiledPeer {
  if (p.ipBlock) {
    const where = `${policy} ${dir === DIR_INGRESS ? 'ingress' : 'egress'}[${rule}] peer ${peer}`;
    const cidr = parseV4Cidr(p.ipBlock.cidr, where);
    // IPv6 blocks never match IPv4 traffic (podwire's cluster is IPv4 only)
    if (cidr === null) return { kind: 'cidr', net: 0, mask: 0, except: [], spec: p, never: true };
    const except = (p.ipBlock.except ?? [])
      .map((e) => parseV4Cidr(e, where))
      .filter((e): e is { net: number; mask: number } => e !== null);
    return { kind: 'cidr', net: cidr.net, mask: cidr.mask, except, spec: p, never: false };
  }
  const nss = p.namespaceSelector ? namespacesMatching(p.namespaceSelector) : [ns];
  return { kind: 'pods', ips: podsIn(nss, p.podSelector), namespaces: nss, spec: p };
}

function compilePort(p: PortSpec): CompiledPort {
  const proto = protoNumber(p.protocol);
  if (p.port === undefined || p.port === null) return { proto, from: 0, to: 65535, spec: p };
  if (typeof p.port === 'string') {
    // the API keeps "80" a string when written so; a numeric string is a number to the port matcher
    if (/^\d+$/.test(p.port)) return { proto, from: Number(p.port), to: p.endPort ?? Number(p.port), spec: p };
    return { proto, name: p.port, from: 0, to: -1, spec: p };
  }
  return { proto, from: p.port, to: p.endPort ?? p.port, spec: p };
}

/** IPv4 CIDR → network and mask; null for an IPv6 one; throws ERR_BAD_POLICY for garbage (the API server refuses it first). */
export function parseV4Cidr(text: string, where: string): { net: number; mask: number } | null {
  if (text.includes(':')) return null;
  let c: Cidr;
  try {
    // Kubernetes accepts host bits in ipBlock CIDRs (ParseCIDR masks them): so do we.
    c = parseCidr(text, { maskHostBits: true });
  } catch {
    throw new PolicyError('ERR_BAD_POLICY', `${where}: "${text}" is not a CIDR`);
  }
  return { net: c.network, mask: cidrMask(c.prefixLen) };
}
