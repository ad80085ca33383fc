import { canonicalJson, isPodTerminal, isTerminating, type KubeObject } from './objects.js';
import { isNodeReady } from './node-lifecycle.js';
import { taintsOf, tolerates, type Toleration } from './taints.js';

/**
 * The scheduler (kube-scheduler in miniature), pure: filter the nodes a pod
 * may run on — Ready, schedulable, no NoSchedule taint it does not
 * tolerate, matching its nodeSelector and required node affinity — then
 * pick the one running the fewest pods (ties: name order), which spreads a
 * Deployment's pods evenly. When none fits, the reason in upstream's words:
 * "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) were
 * not ready."
 */
export const DEFAULT_SCHEDULER = 'default-scheduler';

export const REASONS = {
  notReady: 'node(s) were not ready',
  unschedulable: 'node(s) were unschedulable',
  selector: "node(s) didn't match Pod's node affinity/selector",
  taint: (key: string, value: string) => `node(s) had untolerated taint {${key}: ${value}}`,
};

export const NO_NODES = 'no nodes available to schedule pods';

/** A pod this scheduler should place: unbound, ours, not finished or gated. */
export function needsScheduling(pod: KubeObject): boolean {
  const s = pod.spec ?? {};
  if (s.nodeName) return false;
  if (s.schedulerName && s.schedulerName !== DEFAULT_SCHEDULER) return false;
  if (Array.isArray(s.schedulingGates) && s.schedulingGates.length) return false;
  return !isPodTerminal(pod) && !isTerminating(pod);
}

function matchesExpression(
  labels: Record<string, string>,
  e: { key: string; operator: string; values?: string[] },
): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, e.key);
  const v = labels[e.key];
  switch (e.operator) {
    case 'In':
      return has && (e.values ?? []).includes(v);
    case 'NotIn':
      return !has || !(e.values ?? []).includes(v);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      const a = Number(v);
      const b = Number(e.values?.[0]);
      if (!has || !Number.isInteger(a) || !Number.isInteger(b)) return false;
      return e.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** spec.nodeSelector AND the required node affinity (its terms ORed, each term's expressions ANDed). */
export function matchesNodeSelector(pod: KubeObject, node: KubeObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>))
    if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!Array.isArray(terms) || terms.length === 0) return true;
  return terms.some((t: { matchExpressions?: any[]; matchFields?: any[] }) => {
    const exprs = t?.matchExpressions ?? [];
    const fields = t?.matchFields ?? [];
    if (!exprs.length && !fields.length) return false; // an empty term matches nothing
    return (
      exprs.every((e) => matchesExpression(labels, e)) &&
      fields.every((e) => matchesExpression({ 'metadata.name': node.metadata.name }, e))
    );
  });
}

/** Why `pod` cannot go to `node` (upstream's filter order and wording), or null when it can. */
export function nodeFitFailure(pod: KubeObject, node: KubeObject): string | null {
  if (!isNodeReady(node)) return REASONS.notReady;
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  if (
    node.spec?.unschedulable === true &&
    !tolerates(tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })
  )
    return REASONS.unschedulable;
  for (const t of taintsOf(node)) {
    if ((t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t))
      return REASONS.taint(t.key, t.value ?? '');
  }
  if (!matchesNodeSelector(pod, node)) return REASONS.selector;
  return null;
}

/** FitError.Error(): "0/N nodes are available: <count reason>, ... ." with the reasons sorted as strings. */
export function unschedulableMessage(totalNodes: number, reasons: Map<string, number>): string {
  if (totalNodes === 0) return NO_NODES;
  const parts = [...reasons].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${totalNodes} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}

export type Placement = { pod: KubeObject; node: string } | { pod: KubeObject; unschedulable: string };

/**
 * Place `pods` (in the order given) on `nodes`. `podsPerNode` counts the
 * pods already bound (and bindings in flight); it is updated as pods are
 * placed, so one batch spreads as evenly as one-by-one scheduling would.
 */
/**
 * Which pods spread apart from each other: those of one controller (its
 * uid), else those with the same labels — what the default scheduler's
 * SelectorSpread / default topology spreading by hostname achieves.
 */
export function spreadGroup(pod: KubeObject): string {
  const owner = (pod.metadata.ownerReferences ?? []).find((o: { controller?: boolean }) => o.controller);
  if (owner?.uid) return `owner:${owner.uid}`;
  return `labels:${pod.metadata.namespace ?? ''}:${canonicalJson(pod.metadata.labels ?? {})}`;
}

/** Bound pods per spread group and node. */
export function countSiblings(pods: KubeObject[]): Map<string, Map<string, number>> {
  const m = new Map<string, Map<string, number>>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n || isPodTerminal(p)) continue;
    const g = spreadGroup(p);
    const per = m.get(g) ?? new Map<string, number>();
    per.set(n, (per.get(n) ?? 0) + 1);
    m.set(g, per);
  }
  return m;
}

/**
 * Place each pod on a node it fits: the one with the fewest of its
 * siblings (spreading a Deployment's replicas over nodes), then the fewest
 * pods in all, then by name. `podsPerNode` and `siblings` are updated as
 * pods are placed, so a batch spreads too.
 */
export function schedulePods(
  pods: KubeObject[],
  nodes: KubeObject[],
  podsPerNode: Map<string, number>,
  siblings: Map<string, Map<string, number>> = new Map(),
): Placement[] {
  const sorted = [...nodes].sort((a, b) =>
    a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
  );
  return pods.map((pod) => {
    const reasons = new Map<string, number>();
    const group = spreadGroup(pod);
    const mine = siblings.get(group) ?? new Map<string, number>();
    let best: string | null = null;
    let bestScore: [number, number] = [Infinity, Infinity];
    for (const n of sorted) {
      const why = nodeFitFailure(pod, n);
      if (why) {
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
        continue;
      }
      const score: [number, number] = [mine.get(n.metadata.name) ?? 0, podsPerNode.get(n.metadata.name) ?? 0];
      if (score[0] < bestScore[0] || (score[0] === bestScore[0] && score[1] < bestScore[1])) {
        best = n.metadata.name;
        bestScore = score;
      }
    }
    if (best === null) return { pod, unschedulable: unschedulableMessage(sorted.length, reasons) };
    podsPerNode.set(best, (podsPerNode.get(best) ?? 0) + 1);
    mine.set(best, (mine.get(best) ?? 0) + 1);
    siblings.set(group, mine);
    return { pod, node: best };
  });
}

/** Pods per node: bound, not finished. */
export function countPodsPerNode(pods: KubeObject[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n && !isPodTerminal(p)) m.set(n, (m.get(n) ?? 0) + 1);
  }
  return m;
}
