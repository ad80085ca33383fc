import type { KubeObject } from '../control/client/index.js';
import { formatLabelSelector } from '../control/printers/index.js';
import type { UiNode, UiPod, UiPolicy, UiService, UiTopology } from './contract.js';

/**
 * The picture `podwire ui` draws, computed from the API server's objects and the lab's plan (pure:
 * the live sources hand it snapshots, tests hand it fixtures). Sorted throughout, so two snapshots of
 * the same cluster give the same JSON and "did the topology change?" is a string comparison.
 */

/** What the plan knows of a node that the API's Node object does not (the underlay address, the /24). */
export interface PlannedNode {
  name: string;
  ip: string;
  podCidr: string;
}

export interface TopologyInput {
  planNodes: PlannedNode[];
  nodes: KubeObject[];
  pods: KubeObject[];
  services: KubeObject[];
  endpointSlices: KubeObject[];
  policies: KubeObject[];
  ingresses: KubeObject[];
  /** the agents the server follows, and whether their /observe stream is open */
  agents: Record<string, 'up' | 'down'>;
}

const byName = <T extends { name: string; namespace?: string }>(a: T, b: T) =>
  `${a.namespace ?? ''}/${a.name}`.localeCompare(`${b.namespace ?? ''}/${b.name}`);

/** cbr0's address: the first host of the node's pod CIDR (10.244.1.0/24 → 10.244.1.1). */
export function gatewayOf(podCidr: string): string {
  const [net] = podCidr.split('/');
  const o = net.split('.').map(Number);
  if (o.length !== 4 || o.some((x) => !Number.isInteger(x))) return '';
  o[3] += 1;
  return o.join('.');
}

const condition = (o: KubeObject, type: string) =>
  ((o.status?.conditions ?? []) as { type: string; status: string }[]).find((c) => c.type === type)?.status === 'True';

function uiNodes(input: TopologyInput): UiNode[] {
  const api = new Map(input.nodes.map((n) => [n.metadata.name, n]));
  const names = new Set([...input.planNodes.map((n) => n.name), ...api.keys()]);
  return [...names]
    .map((name) => {
      const plan = input.planNodes.find((n) => n.name === name);
      const obj = api.get(name);
      const internal = ((obj?.status?.addresses ?? []) as { type: string; address: string }[]).find(
        (a) => a.type === 'InternalIP',
      )?.address;
      const podCidr = plan?.podCidr ?? (obj?.spec?.podCIDR as string | undefined) ?? '';
      return {
        name,
        ip: plan?.ip ?? internal ?? '',
        podCidr,
        gateway: gatewayOf(podCidr),
        ready: obj ? condition(obj, 'Ready') : false,
        agent: input.agents[name] ?? 'down',
      };
    })
    .sort(byName);
}

/** CoreDNS and the ingress controller are drawn as what they are (their add-ons' labels). */
export function podRole(labels: Record<string, string>): UiPod['role'] {
  if (labels['k8s-app'] === 'kube-dns') return 'dns';
  if (labels['app.kubernetes.io/name'] === 'ingress-nginx') return 'ingress';
  return undefined;
}

function uiPods(pods: KubeObject[]): UiPod[] {
  return pods
    .filter((p) => !p.spec?.hostNetwork)
    .map((p) => {
      const labels = { ...(p.metadata.labels ?? {}) };
      const role = podRole(labels);
      return {
        namespace: p.metadata.namespace ?? 'default',
        name: p.metadata.name,
        ip: (p.status?.podIP as string | undefined) ?? '',
        node: (p.spec?.nodeName as string | undefined) ?? '',
        labels,
        phase: (p.status?.phase as string | undefined) ?? 'Pending',
        ready: condition(p, 'Ready'),
        ...(role ? { role } : {}),
      };
    })
    .sort(byName);
}

interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean };
  targetRef?: { kind?: string; name?: string; namespace?: string };
}

function uiServices(services: KubeObject[], slices: KubeObject[]): UiService[] {
  return services
    .map((s) => {
      const ns = s.metadata.namespace ?? 'default';
      const mine = slices.filter(
        (e) => e.metadata.namespace === ns && e.metadata.labels?.['kubernetes.io/service-name'] === s.metadata.name,
      );
      const backends: UiService['backends'] = [];
      for (const slice of mine) {
        const port = (slice.ports as { port?: number }[] | undefined)?.[0]?.port ?? 0;
        for (const ep of (slice.endpoints ?? []) as SliceEndpoint[])
          for (const ip of ep.addresses ?? [])
            backends.push({
              ...(ep.targetRef?.kind === 'Pod' && ep.targetRef.name
                ? { pod: `${ep.targetRef.namespace ?? ns}/${ep.targetRef.name}` }
                : {}),
              ip,
              port,
              ready: ep.conditions?.ready !== false,
            });
      }
      backends.sort((a, b) => a.ip.localeCompare(b.ip) || a.port - b.port);
      return {
        namespace: ns,
        name: s.metadata.name,
        type: (s.spec?.type as string | undefined) ?? 'ClusterIP',
        clusterIP: (s.spec?.clusterIP as string | undefined) ?? '',
        ports: ((s.spec?.ports ?? []) as Record<string, any>[]).map((p) => ({
          port: p.port as number,
          protocol: (p.protocol as string | undefined) ?? 'TCP',
          targetPort: (p.targetPort as string | number | undefined) ?? (p.port as number),
          ...(p.nodePort ? { nodePort: p.nodePort as number } : {}),
        })),
        backends,
      };
    })
    .sort(byName);
}

function uiPolicies(policies: KubeObject[]): UiPolicy[] {
  return policies
    .map((p) => ({
      namespace: p.metadata.namespace ?? 'default',
      name: p.metadata.name,
      podSelector: formatLabelSelector(p.spec?.podSelector),
      // upstream's default: Ingress, plus Egress when the policy has egress rules
      policyTypes: (p.spec?.policyTypes as string[] | undefined) ?? ['Ingress', ...(p.spec?.egress ? ['Egress'] : [])],
    }))
    .sort(byName);
}

function uiIngresses(ingresses: KubeObject[]): UiTopology['ingresses'] {
  return ingresses
    .map((i) => ({
      namespace: i.metadata.namespace ?? 'default',
      name: i.metadata.name,
      hosts: [...new Set(((i.spec?.rules ?? []) as { host?: string }[]).map((r) => r.host ?? '*'))].sort(),
    }))
    .sort(byName);
}

/** The whole picture from one snapshot of each source. */
export function buildTopology(input: TopologyInput): UiTopology {
  return {
    nodes: uiNodes(input),
    pods: uiPods(input.pods),
    services: uiServices(input.services, input.endpointSlices),
    policies: uiPolicies(input.policies),
    ingresses: uiIngresses(input.ingresses),
  };
}

/** Who is who by address, for naming a flow's ends: pod IPs ("ns/name", node) and node underlay IPs. */
export interface AddressBook {
  pod(ip: string): { id: string; node: string } | undefined;
  node(ip: string): string | undefined;
}

export function addressBook(t: UiTopology): AddressBook {
  const pods = new Map<string, { id: string; node: string }>();
  for (const p of t.pods) if (p.ip) pods.set(p.ip, { id: `${p.namespace}/${p.name}`, node: p.node });
  const nodes = new Map(t.nodes.map((n) => [n.ip, n.name]));
  return { pod: (ip) => pods.get(ip), node: (ip) => nodes.get(ip) };
}
