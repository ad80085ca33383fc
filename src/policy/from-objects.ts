/**
 * API objects (Pod, Namespace, NetworkPolicy as the API server stores them)
 * → the policy model's inputs. Pure. Pods without an IP, hostNetwork pods
 * and pods that have finished are not pods to policy (they hold no
 * address of their own).
 */
import { parseIpv4 } from '../packet/index.js';
import { protoNumber, type NamedPort, type NetworkPolicyLite, type PolicyNamespace, type PolicyPod } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

export function policyPodOf(pod: Obj): PolicyPod | null {
  const ipText: unknown = pod.status?.podIP;
  if (typeof ipText !== 'string' || ipText === '' || ipText.includes(':')) return null;
  if (pod.spec?.hostNetwork === true) return null;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return null;
  let ip: number;
  try {
    ip = parseIpv4(ipText);
  } catch {
    return null;
  }
  const ports: NamedPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])] as Obj[]) {
    for (const p of (c.ports ?? []) as Obj[]) {
      if (typeof p.containerPort !== 'number') continue;
      ports.push({
        name: typeof p.name === 'string' && p.name !== '' ? p.name : undefined,
        port: p.containerPort,
        proto: protoNumber(p.protocol),
      });
    }
  }
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    ip,
    labels: { ...(pod.metadata?.labels ?? {}) },
    ports,
    nodeName: pod.spec?.nodeName,
  };
}

export function policyNamespaceOf(ns: Obj): PolicyNamespace {
  const name: string = ns.metadata?.name ?? '';
  // every namespace carries its name as a label (the API server adds it; an object from elsewhere may lack it)
  return { name, labels: { 'kubernetes.io/metadata.name': name, ...(ns.metadata?.labels ?? {}) } };
}

export function policyOf(np: Obj): NetworkPolicyLite {
  return {
    metadata: { name: np.metadata?.name ?? '', namespace: np.metadata?.namespace ?? 'default' },
    spec: np.spec ?? {},
  };
}
