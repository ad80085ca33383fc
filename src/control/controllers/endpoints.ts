import { parseIpv4 } from '../../packet/index.js';
import { canonicalJson, isPodReady, type KubeObject } from './objects.js';

/**
 * The Endpoints controller, pure: for a Service with a selector, the pods
 * behind it as an Endpoints object, built the way upstream builds it.
 *
 * - Pods in the Service's namespace matching the selector, with a
 *   status.podIP, not being deleted; finished pods (Succeeded, or Failed
 *   with restartPolicy Never) are left out.
 * - Ready pods go to `addresses`, the others to `notReadyAddresses`;
 *   publishNotReadyAddresses puts every pod in `addresses`.
 * - Ports: every Service port; targetPort a number, or the name of a
 *   container port (same protocol) looked up in each pod, or missing = the
 *   Service port. A pod without the named port is left out of that port.
 * - Then the subsets are repacked (endpoints.RepackSubsets): addresses
 *   offering the same set of ports share a subset, so pods that give a named
 *   port different numbers land in different subsets. Addresses, ports and
 *   subsets are sorted, so equal inputs give byte-equal objects.
 *
 * Services without a selector (their Endpoints are the user's) and
 * ExternalName Services are not managed: `desiredEndpoints` returns null.
 */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export const isManagedService = (svc: KubeObject): boolean =>
  svc.spec?.type !== 'ExternalName' &&
  !!svc.spec?.selector &&
  typeof svc.spec.selector === 'object' &&
  Object.keys(svc.spec.selector).length > 0;

export function selectsPod(svc: KubeObject, pod: KubeObject): boolean {
  if (pod.metadata.namespace !== svc.metadata.namespace || !isManagedService(svc)) return false;
  const labels: Record<string, string> = pod.metadata.labels ?? {};
  return Object.entries(svc.spec.selector as Record<string, string>).every(([k, v]) => labels[k] === v);
}

/** endpointutil.ShouldPodBeInEndpoints */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating = false): boolean {
  if (!pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  const restart = pod.spec?.restartPolicy ?? 'Always';
  if (restart === 'Never') return phase !== 'Failed' && phase !== 'Succeeded';
  if (restart === 'OnFailure') return phase !== 'Succeeded';
  return true;
}

/** podutil.FindPort: the number a Service port reaches in `pod`, or null. */
export function findPort(pod: KubeObject, svcPort: Record<string, any>): number | null {
  const tp = svcPort.targetPort ?? svcPort.port;
  if (typeof tp === 'number') return tp;
  const protocol = svcPort.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c?.ports ?? []) if (p?.name === tp && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return /^\d+$/.test(String(tp)) ? Number(tp) : null;
}

/** What a pod looks like as an address of `svc`. */
export function podAddress(svc: KubeObject, pod: KubeObject): EndpointAddress {
  const a: EndpointAddress = {
    ip: pod.status.podIP,
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name,
      uid: pod.metadata.uid ?? '',
    },
  };
  if (
    pod.spec?.hostname &&
    pod.spec?.subdomain === svc.metadata.name &&
    pod.metadata.namespace === svc.metadata.namespace
  )
    a.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  return a;
}

export function servicePortsFor(svc: KubeObject, pod: KubeObject): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === null) continue;
    out.push({
      ...(sp.name !== undefined ? { name: sp.name } : {}),
      port,
      protocol: sp.protocol ?? 'TCP',
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out;
}

function ipNumber(ip: string): number {
  try {
    return parseIpv4(ip);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}

const byAddress = (a: EndpointAddress, b: EndpointAddress) =>
  ipNumber(a.ip) - ipNumber(b.ip) ||
  (a.targetRef.uid < b.targetRef.uid ? -1 : a.targetRef.uid > b.targetRef.uid ? 1 : 0);
const portKey = (p: EndpointPort) => `${p.name ?? ''}\u0000${p.port}\u0000${p.protocol}\u0000${p.appProtocol ?? ''}`;
const byPort = (a: EndpointPort, b: EndpointPort) => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0);

/** The subsets for `svc` over `pods` (all pods; those not selected are ignored). */
export function endpointSubsets(svc: KubeObject, pods: KubeObject[]): EndpointSubset[] {
  const tolerate = svc.spec?.publishNotReadyAddresses === true;
  const headlessNoPorts = (svc.spec?.ports ?? []).length === 0 && svc.spec?.clusterIP === 'None';
  // Each address with the ports it offers and whether it is ready.
  const entries: { addr: EndpointAddress; ready: boolean; ports: EndpointPort[] }[] = [];
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !shouldPodBeInEndpoints(pod, tolerate)) continue;
    const ports = servicePortsFor(svc, pod);
    if (!ports.length && !headlessNoPorts) continue;
    entries.push({ addr: podAddress(svc, pod), ready: tolerate || isPodReady(pod), ports: ports.sort(byPort) });
  }
  // RepackSubsets: one subset per distinct set of ports.
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const e of entries) {
    const key = e.ports.map(portKey).join('\u0001');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports: e.ports, ready: [], notReady: [] }));
    (e.ready ? g.ready : g.notReady).push(e.addr);
  }
  const subsets: EndpointSubset[] = [...groups.values()].map((g) => ({
    ...(g.ready.length ? { addresses: g.ready.sort(byAddress) } : {}),
    ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byAddress) } : {}),
    ...(g.ports.length ? { ports: g.ports } : {}),
  }));
  return subsets.sort((a, b) => {
    const ka = canonicalJson(a.ports ?? []);
    const kb = canonicalJson(b.ports ?? []);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The Endpoints object `svc` should have, or null when the controller leaves it alone. */
export function desiredEndpoints(svc: KubeObject, pods: KubeObject[]): KubeObject | null {
  if (!isManagedService(svc)) return null;
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  const subsets = endpointSubsets(svc, pods);
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace,
      ...(Object.keys(labels).length ? { labels } : {}),
    },
    ...(subsets.length ? { subsets } : {}),
  };
}

/** Does the Endpoints object `cur` already say what `want` says (labels and subsets)? */
export function sameEndpoints(cur: KubeObject | undefined, want: KubeObject): boolean {
  if (!cur) return false;
  return (
    canonicalJson({ l: cur.metadata.labels ?? {}, s: cur.subsets ?? [] }) ===
    canonicalJson({ l: want.metadata.labels ?? {}, s: want.subsets ?? [] })
  );
}
