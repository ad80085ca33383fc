import { parseCidr, formatCidr } from '../../packet/index.js';
import { byCreation, byName, removeCondition, setCondition, type Condition, type KubeObject } from './objects.js';
import { ControlError } from '../errors.js';

/**
 * Node IPAM (kube-controller-manager's range allocator): every Node gets a
 * podCIDR, a /nodeCidrMaskSize slice of the cluster CIDR that no other node
 * has. Pure: the plan for a set of nodes.
 *
 * Which slice: a node whose name ends in a number N gets the N-th slice when
 * it is free (node1 → 10.244.1.0/24, as the lab and DESIGN.md expect);
 * otherwise the lowest free slice from index 1 up (index 0, 10.244.0.0/24,
 * is handed out last: it is the one people mistake for "the network").
 * Nodes that arrive together are given their own numbers first, so
 * "control" registering next to "node1" cannot take node1's slice.
 *
 * A node may ask for a podCIDR itself (the agent's --pod-cidr). It keeps
 * it — the allocator never rewrites a podCIDR — but if it overlaps the
 * podCIDR of a node that had its own first, the later node gets the
 * condition NetworkUnavailable=True, reason PodCIDRConflict (and a Warning
 * event): two nodes routing the same pod addresses is a broken network, and
 * this is where `kubectl describe node` shows it. The condition goes away
 * when the overlap does.
 */
export interface IpamConfig {
  clusterCidr: string;
  nodeCidrMaskSize: number;
}

export interface PodCidrConflict {
  node: string;
  podCIDR: string;
  /** the node that had the overlapping range first */
  with: string;
  withCIDR: string;
}

export interface IpamPlan {
  /** nodes without a podCIDR, and the one each gets */
  assign: { node: string; podCIDR: string }[];
  /** nodes left without one: every slice is taken */
  exhausted: string[];
  conflicts: PodCidrConflict[];
  /** nodes whose podCIDR cannot be parsed (left alone, reported) */
  malformed: { node: string; podCIDR: string; error: string }[];
}

interface Range {
  node: string;
  cidr: string;
  first: number;
  last: number;
}

export const CIDR_CONFLICT_REASON = 'PodCIDRConflict';

export function planPodCidrs(nodes: KubeObject[], cfg: IpamConfig): IpamPlan {
  const cluster = parseCidr(cfg.clusterCidr);
  if (cfg.nodeCidrMaskSize < cluster.prefixLen || cfg.nodeCidrMaskSize > 32) {
    throw new ControlError(
      'ERR_BAD_NODE_CIDR',
      `node CIDR mask size /${cfg.nodeCidrMaskSize} does not fit in the cluster CIDR ${cfg.clusterCidr}`,
    );
  }
  const sliceSize = 2 ** (32 - cfg.nodeCidrMaskSize);
  const slices = 2 ** (cfg.nodeCidrMaskSize - cluster.prefixLen);
  const plan: IpamPlan = { assign: [], exhausted: [], conflicts: [], malformed: [] };

  // Ranges nodes hold, oldest node first: the first holder keeps a range.
  const held: Range[] = [];
  const used = new Set<number>();
  const without: KubeObject[] = [];
  for (const n of [...nodes].sort(byCreation)) {
    const cidr = n.spec?.podCIDR;
    if (!cidr) {
      without.push(n);
      continue;
    }
    let r: Range;
    try {
      const c = parseCidr(String(cidr));
      r = {
        node: n.metadata.name,
        cidr: String(cidr),
        first: c.network,
        last: c.network + 2 ** (32 - c.prefixLen) - 1,
      };
    } catch (e) {
      plan.malformed.push({ node: n.metadata.name, podCIDR: String(cidr), error: (e as Error).message });
      continue;
    }
    const clash = held.find((h) => h.first <= r.last && r.first <= h.last);
    if (clash) plan.conflicts.push({ node: r.node, podCIDR: r.cidr, with: clash.node, withCIDR: clash.cidr });
    else held.push(r);
    // Every slice the range touches is taken, whether or not it conflicts.
    for (let i = 0; i < slices; i++) {
      const first = cluster.network + i * sliceSize;
      if (first <= r.last && r.first <= first + sliceSize - 1) used.add(i);
    }
  }

  const take = (node: string, i: number) => {
    used.add(i);
    plan.assign.push({
      node,
      podCIDR: formatCidr({ network: (cluster.network + i * sliceSize) >>> 0, prefixLen: cfg.nodeCidrMaskSize }),
    });
  };
  const rest: KubeObject[] = [];
  for (const n of [...without].sort(byName)) {
    const m = /(\d+)$/.exec(n.metadata.name);
    const want = m ? Number(m[1]) : -1;
    if (want >= 0 && want < slices && !used.has(want)) take(n.metadata.name, want);
    else rest.push(n);
  }
  for (const n of rest) {
    let i = 1;
    while (i < slices && used.has(i)) i++;
    if (i >= slices) i = used.has(0) ? -1 : 0;
    if (i < 0) plan.exhausted.push(n.metadata.name);
    else take(n.metadata.name, i);
  }
  return plan;
}

/**
 * The node's conditions with the PodCIDRConflict condition set (conflict)
 * or removed (none); the same array when that is already so.
 */
export function conflictConditions(
  node: KubeObject,
  conflict: PodCidrConflict | undefined,
  nowIso: string,
): Condition[] {
  const conds: Condition[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  if (conflict) {
    const message = `podCIDR ${conflict.podCIDR} overlaps ${conflict.withCIDR} of node ${conflict.with}`;
    const cur = conds.find((c) => c.type === 'NetworkUnavailable');
    if (cur && cur.status === 'True' && cur.reason === CIDR_CONFLICT_REASON && cur.message === message) return conds;
    return setCondition(
      conds,
      { type: 'NetworkUnavailable', status: 'True', reason: CIDR_CONFLICT_REASON, message, lastHeartbeatTime: nowIso },
      nowIso,
    );
  }
  const mine = conds.find((c) => c.type === 'NetworkUnavailable' && c.reason === CIDR_CONFLICT_REASON);
  return mine ? removeCondition(conds, 'NetworkUnavailable') : conds;
}
