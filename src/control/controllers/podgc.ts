import { isNodeReady } from './node-lifecycle.js';
import { isTerminating, type KubeObject } from './objects.js';
import { TAINT_OUT_OF_SERVICE, taintsOf } from './taints.js';

/**
 * PodGC (kube-controller-manager's pod garbage collector), pure: the pods
 * it force-deletes (grace 0) because no kubelet ever will —
 * - orphaned: bound to a node that does not exist (its Node was deleted);
 *   the runner waits a quarantine and asks the API server before it acts;
 * - out-of-service: Terminating on a node that is not Ready and that an
 *   operator has tainted `node.kubernetes.io/out-of-service` (Kubernetes'
 *   way to say "this node is gone, do not wait for it").
 * A pod evicted from an unreachable node without either stays Terminating,
 * as in Kubernetes: its replacement does not wait for it (a ReplicaSet does
 * not count Terminating pods), a StatefulSet's does.
 */
export type PodGcReason = 'orphaned' | 'out-of-service';

export function podGcCandidates(
  pods: KubeObject[],
  nodes: Map<string, KubeObject>,
): { pod: KubeObject; reason: PodGcReason }[] {
  const out: { pod: KubeObject; reason: PodGcReason }[] = [];
  for (const pod of pods) {
    const name = pod.spec?.nodeName;
    if (!name) continue;
    const node = nodes.get(name);
    if (!node) out.push({ pod, reason: 'orphaned' });
    else if (isTerminating(pod) && !isNodeReady(node) && taintsOf(node).some((t) => t.key === TAINT_OUT_OF_SERVICE))
      out.push({ pod, reason: 'out-of-service' });
  }
  return out;
}
