/**
 * A compiled set of NetworkPolicies (compile.ts): the verdict for a new
 * connection in O(rules of the policies selecting that pod), never a walk
 * over every policy.
 *
 *   isolation(ip)                         ISOLATED_INGRESS | ISOLATED_EGRESS bits, 0 = open
 *   judge(dir, podIp, peerIp, proto, port) VERDICT_DENY | VERDICT_OPEN | rule id (> 0)
 *   rule(id), isolatedBy(ip, dir), pod(ip), count(dir, podIp, verdict)
 *   podsSelectedBy(key), rulesOfPolicy(key), peerPods(rule), ruleMatches(…)   (for words, not packets)
 *
 * `dir` is the pod's side: DIR_INGRESS judges peer → pod, DIR_EGRESS
 * pod → peer. `port` is the destination port (after Service DNAT: the
 * backend's target port); for ICMP and other protocols without ports a
 * rule matches only if it lists no ports. A named port matches when the
 * destination pod (the pod itself for ingress, the peer for egress) has a
 * container port of that name and protocol equal to `port`.
 */
import type { LabelSelector } from '../control/index.js';
import {
  DIR_INGRESS,
  ISOLATED_EGRESS,
  ISOLATED_INGRESS,
  VERDICT_DENY,
  VERDICT_OPEN,
  type Direction,
  type NetworkPolicyLite,
  type PeerSpec,
  type PolicyCounters,
  type PolicyPod,
  type PortSpec,
} from './types.js';

export interface PolicyInfo {
  /** "ns/name" */
  key: string;
  namespace: string;
  name: string;
  counters: PolicyCounters;
  /** pods it selects (at compile time) */
  selected: number;
  policy: NetworkPolicyLite;
}

export type CompiledPeer =
  | { kind: 'pods'; ips: Set<number>; namespaces: string[]; spec: PeerSpec }
  | {
      kind: 'cidr';
      net: number;
      mask: number;
      except: { net: number; mask: number }[];
      spec: PeerSpec;
      never: boolean;
    };

export interface CompiledPort {
  proto: number;
  /** a named port (resolved on the destination pod); else from..to */
  name?: string;
  from: number;
  to: number;
  spec: PortSpec;
}

export interface CompiledRule {
  /** 1-based, unique in this set */
  id: number;
  policy: PolicyInfo;
  direction: Direction;
  /** index in the policy's ingress or egress list */
  index: number;
  allPeers: boolean;
  peers: CompiledPeer[];
  allPorts: boolean;
  ports: CompiledPort[];
}

export interface PodPolicies {
  /** null: no policy isolates the pod for ingress */
  ingress: CompiledRule[] | null;
  egress: CompiledRule[] | null;
  ingressBy: PolicyInfo[];
  egressBy: PolicyInfo[];
  /** built on first use (PolicySet.judge) */
  ingressIndex?: RuleIndex;
  egressIndex?: RuleIndex;
}

/** A pod's rules for one direction, by what their ports ask. Each list keeps policy order (ascending ids). */
interface RuleIndex {
  /** rules without ports: every protocol and port */
  anyPort: CompiledRule[];
  /** proto * 65536 + port → the rules naming exactly that port (a small range is spelled out) */
  byPort: Map<number, CompiledRule[]>;
  /** rules with a wide range, or a named port resolved on the peer (egress): checked entry by entry */
  other: CompiledRule[];
}

/** ranges up to this many ports are spelled out in byPort */
const SPELL_OUT_RANGE = 64;
/** verdicts remembered per compiled set before the memory starts over */
const MAX_REMEMBERED = 1 << 16;

/** Index one direction's rules; for ingress `self` is the pod, whose named ports resolve now. */
function buildIndex(rules: CompiledRule[], self: PolicyPod | undefined): RuleIndex {
  const ix: RuleIndex = { anyPort: [], byPort: new Map(), other: [] };
  const put = (key: number, r: CompiledRule) => {
    let l = ix.byPort.get(key);
    if (l === undefined) ix.byPort.set(key, (l = []));
    if (l[l.length - 1] !== r) l.push(r);
  };
  for (const r of rules) {
    if (r.allPorts) {
      ix.anyPort.push(r);
      continue;
    }
    let wide = false;
    for (const p of r.ports) {
      if (p.name !== undefined) {
        if (self === undefined) wide = true;
        else
          for (const cp of self.ports)
            if (cp.name === p.name && cp.proto === p.proto) put(p.proto * 65536 + cp.port, r);
      } else if (p.to - p.from < SPELL_OUT_RANGE) {
        for (let port = p.from; port <= p.to; port++) put(p.proto * 65536 + port, r);
      } else wide = true;
    }
    if (wide) ix.other.push(r);
  }
  return ix;
}

export class PolicySet {
  /** (pod * 2 + direction) → peer → proto * 65536 + port → verdict (see judge) */
  private readonly verdicts = new Map<number, Map<number, Map<number, number>>>();
  private remembered = 0;

  constructor(
    private readonly perPod: Map<number, PodPolicies>,
    private readonly pods: Map<number, PolicyPod>,
    private readonly rules: CompiledRule[],
    readonly policies: readonly PolicyInfo[],
  ) {}

  /** pods that at least one policy selects */
  get isolatedPods(): number {
    return this.perPod.size;
  }

  isolation(ip: number): number {
    const pp = this.perPod.get(ip);
    if (pp === undefined) return 0;
    return (pp.ingress !== null ? ISOLATED_INGRESS : 0) | (pp.egress !== null ? ISOLATED_EGRESS : 0);
  }

  /**
   * The verdict: the first rule (in policy order) that admits the flow.
   * Rules are indexed per pod and direction on first use — by protocol and
   * port (most rules fail on the port, so only the few that name this port
   * and those that name none are tried) — and verdicts are remembered per
   * (pod, peer, protocol, port) for the life of this compiled set, as
   * Cilium's per-endpoint policy map does: the set is immutable, so a
   * remembered verdict cannot go stale (a change compiles a new set).
   */
  judge(dir: Direction, podIp: number, peerIp: number, proto: number, port: number): number {
    const pp = this.perPod.get(podIp);
    if (pp === undefined) return VERDICT_OPEN;
    const rules = dir === DIR_INGRESS ? pp.ingress : pp.egress;
    if (rules === null) return VERDICT_OPEN;
    let byPeer = this.verdicts.get(podIp * 2 + dir);
    const key = proto * 65536 + port;
    const cached = byPeer?.get(peerIp)?.get(key);
    if (cached !== undefined) return cached;
    const v = this.walk(this.indexOf(pp, dir, podIp, rules), dir, podIp, peerIp, proto, port);
    if (this.remembered >= MAX_REMEMBERED) {
      this.verdicts.clear();
      this.remembered = 0;
      byPeer = undefined;
    }
    if (byPeer === undefined) this.verdicts.set(podIp * 2 + dir, (byPeer = new Map()));
    let byPort = byPeer.get(peerIp);
    if (byPort === undefined) byPeer.set(peerIp, (byPort = new Map()));
    byPort.set(key, v);
    this.remembered++;
    return v;
  }

  /** The lowest-id rule of the index that admits the flow (ids follow policy order), or VERDICT_DENY. */
  private walk(ix: RuleIndex, dir: Direction, podIp: number, peerIp: number, proto: number, port: number): number {
    const dstIp = dir === DIR_INGRESS ? podIp : peerIp;
    let best = Infinity;
    const tryList = (list: CompiledRule[] | undefined, checkPorts: boolean) => {
      if (list === undefined) return;
      for (let i = 0; i < list.length; i++) {
        const r = list[i];
        if (r.id >= best) return;
        if (checkPorts && !r.allPorts && !this.portMatches(r.ports, proto, port, dstIp)) continue;
        if (r.allPeers || peerMatches(r.peers, peerIp)) {
          best = r.id;
          return;
        }
      }
    };
    tryList(ix.anyPort, false);
    tryList(ix.byPort.get(proto * 65536 + port), false);
    tryList(ix.other, true);
    return best === Infinity ? VERDICT_DENY : best;
  }

  private indexOf(pp: PodPolicies, dir: Direction, podIp: number, rules: CompiledRule[]): RuleIndex {
    const slot = dir === DIR_INGRESS ? 'ingressIndex' : 'egressIndex';
    let ix = pp[slot];
    if (ix === undefined) pp[slot] = ix = buildIndex(rules, dir === DIR_INGRESS ? this.pods.get(podIp) : undefined);
    return ix;
  }

  /** Count a verdict for /metrics: allowed for the rule's policy, denied for every policy isolating the pod. */
  count(dir: Direction, podIp: number, verdict: number): void {
    if (verdict > 0) {
      const c = this.rules[verdict - 1].policy.counters;
      if (dir === DIR_INGRESS) c.ingressAllowed++;
      else c.egressAllowed++;
      return;
    }
    if (verdict !== VERDICT_DENY) return;
    for (const p of this.isolatedBy(podIp, dir)) {
      if (dir === DIR_INGRESS) p.counters.ingressDenied++;
      else p.counters.egressDenied++;
    }
  }

  rule(id: number): CompiledRule | undefined {
    return this.rules[id - 1];
  }

  /** the policies that isolate this pod in that direction (empty: open) */
  isolatedBy(ip: number, dir: Direction): readonly PolicyInfo[] {
    const pp = this.perPod.get(ip);
    if (pp === undefined) return [];
    return dir === DIR_INGRESS ? pp.ingressBy : pp.egressBy;
  }

  /** the rules that apply to a pod in that direction (null: open) */
  rulesOf(ip: number, dir: Direction): readonly CompiledRule[] | null {
    const pp = this.perPod.get(ip);
    if (pp === undefined) return null;
    return dir === DIR_INGRESS ? pp.ingress : pp.egress;
  }

  pod(ip: number): PolicyPod | undefined {
    return this.pods.get(ip);
  }

  allPods(): IterableIterator<PolicyPod> {
    return this.pods.values();
  }

  /** Does one of these port entries admit (proto, port) towards dstIp? */
  private portMatches(ports: CompiledPort[], proto: number, port: number, dstIp: number): boolean {
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i];
      if (p.proto !== proto) continue;
      if (p.name === undefined) {
        if (port >= p.from && port <= p.to) return true;
        continue;
      }
      const dst = this.pods.get(dstIp);
      if (dst === undefined) continue; // a name means nothing off a pod
      for (const cp of dst.ports) if (cp.name === p.name && cp.proto === proto && cp.port === port) return true;
    }
    return false;
  }

  /** Why a rule admits a connection or not (for explanations): whether its peers match, whether its ports do. */
  ruleMatches(
    r: CompiledRule,
    podIp: number,
    peerIp: number,
    proto: number,
    port: number,
  ): { peer: boolean; port: boolean } {
    const dstIp = r.direction === DIR_INGRESS ? podIp : peerIp;
    return {
      peer: r.allPeers || peerMatches(r.peers, peerIp),
      port: r.allPorts || this.portMatches(r.ports, proto, port, dstIp),
    };
  }

  /** The pods a policy ("ns/name") selects, by namespace and name (for describe and lint; walks the isolated pods). */
  podsSelectedBy(key: string): PolicyPod[] {
    const out: PolicyPod[] = [];
    for (const [ip, pp] of this.perPod) {
      if (pp.ingressBy.some((p) => p.key === key) || pp.egressBy.some((p) => p.key === key))
        out.push(this.pods.get(ip)!);
    }
    return out.sort(byNamespaceAndName);
  }

  /** A policy's compiled rules, ingress before egress, each list in its order (for describe and lint). */
  rulesOfPolicy(key: string): CompiledRule[] {
    return this.rules
      .filter((r) => r.policy.key === key)
      .sort((a, b) => a.direction - b.direction || a.index - b.index);
  }

  /** The pods a rule's peers take in now: selected pods, pods inside an ipBlock, every pod for a rule without peers. */
  peerPods(rule: CompiledRule): PolicyPod[] {
    const out: PolicyPod[] = [];
    for (const p of this.pods.values()) if (rule.allPeers || peerMatches(rule.peers, p.ip)) out.push(p);
    return out.sort(byNamespaceAndName);
  }

  /** What a named port resolves to on a pod (for explanations); undefined when the pod has no such port. */
  resolveNamedPort(ip: number, name: string, proto: number): number | undefined {
    return this.pods.get(ip)?.ports.find((p) => p.name === name && p.proto === proto)?.port;
  }
}

const byNamespaceAndName = (a: PolicyPod, b: PolicyPod): number =>
  a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

function peerMatches(peers: CompiledPeer[], ip: number): boolean {
  for (let i = 0; i < peers.length; i++) {
    const p = peers[i];
    if (p.kind === 'pods') {
      if (p.ips.has(ip)) return true;
      continue;
    }
    if (p.never || (ip & p.mask) >>> 0 !== p.net) continue;
    let excluded = false;
    for (const e of p.except) {
      if ((ip & e.mask) >>> 0 === e.net) {
        excluded = true;
        break;
      }
    }
    if (!excluded) return true;
  }
  return false;
}

export function selectorIsEmpty(sel: LabelSelector | undefined): boolean {
  return !sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length);
}
