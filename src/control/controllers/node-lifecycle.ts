import { conditionOf, isPodReady, setCondition, type Condition, type KubeObject } from './objects.js';

/**
 * Node lifecycle (kube-controller-manager's node lifecycle controller):
 * a node whose agent stops posting its status gets Ready=Unknown, and the
 * pods bound to it get Ready=False, so the endpoints controller takes them
 * out of Services. Pure; the clock is a parameter.
 *
 * "Stopped posting" is judged as upstream does it: not by comparing the
 * node's lastHeartbeatTime with this machine's clock (the node's clock may
 * differ, and the field has whole seconds), but by when this controller
 * last SAW lastHeartbeatTime change (upstream's probeTimestamp). After a
 * controller restart every node gets a full grace period again.
 */
export interface HeartbeatSeen {
  /** the lastHeartbeatTime last seen (creationTimestamp when the node has no Ready condition) */
  value: string;
  /** when this controller saw it change */
  seenAtMs: number;
}

export const NODE_STATUS_UNKNOWN = 'NodeStatusUnknown';
export const STOPPED_POSTING = 'Kubelet stopped posting node status.';
export const NEVER_POSTED = 'Kubelet never posted node status.';

/** Conditions the kubelet owns, which upstream sets to Unknown together. */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export function observeHeartbeat(prev: HeartbeatSeen | undefined, node: KubeObject, nowMs: number): HeartbeatSeen {
  const ready = conditionOf(node, 'Ready');
  const value = String(ready?.lastHeartbeatTime ?? `created:${node.metadata.creationTimestamp ?? ''}`);
  return prev && prev.value === value ? prev : { value, seenAtMs: nowMs };
}

/**
 * The node's new conditions when its heartbeat is older than the grace
 * period and not yet marked; null when nothing is to be written.
 */
export function staleNodeConditions(
  node: KubeObject,
  seen: HeartbeatSeen,
  nowMs: number,
  gracePeriodMs: number,
  nowIso: string,
): Condition[] | null {
  if (nowMs - seen.seenAtMs <= gracePeriodMs) return null;
  const conds: Condition[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  let out = conds;
  if (!conditionOf(node, 'Ready')) {
    out = setCondition(
      out,
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: NEVER_POSTED,
        lastHeartbeatTime: node.metadata.creationTimestamp ?? nowIso,
      },
      nowIso,
    );
  }
  for (const c of conds) {
    if (!KUBELET_CONDITIONS.includes(c.type) || c.status === 'Unknown') continue;
    // lastHeartbeatTime stays: it says when the node last spoke.
    out = setCondition(out, { ...c, status: 'Unknown', reason: NODE_STATUS_UNKNOWN, message: STOPPED_POSTING }, nowIso);
  }
  return out === conds ? null : out;
}

/** Is the node Ready (its Ready condition True)? */
export const isNodeReady = (node: KubeObject | undefined): boolean => conditionOf(node, 'Ready')?.status === 'True';

/**
 * MarkPodsNotReady: for every pod bound to a node that is not Ready and
 * whose Ready condition is still True, the status with Ready=False. As
 * upstream, only the status changes (its reason and message stay what the
 * kubelet wrote); the event is Warning NodeNotReady "Node is not ready".
 */
export function podsToMarkNotReady(
  node: KubeObject,
  pods: KubeObject[],
  nowIso: string,
): { pod: KubeObject; status: Record<string, any> }[] {
  if (isNodeReady(node)) return [];
  const out: { pod: KubeObject; status: Record<string, any> }[] = [];
  for (const pod of pods) {
    if (pod.spec?.nodeName !== node.metadata.name || !isPodReady(pod)) continue;
    const ready = conditionOf(pod, 'Ready')!;
    out.push({
      pod,
      status: { ...pod.status, conditions: setCondition(pod.status.conditions, { ...ready, status: 'False' }, nowIso) },
    });
  }
  return out;
}
