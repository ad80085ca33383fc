import { generateName } from './hash.js';
import {
  HEADLESS_LABEL,
  isManagedService,
  podAddress,
  selectsPod,
  servicePortsFor,
  shouldPodBeInEndpoints,
} from './endpoints.js';
import { byName, canonicalJson, isPodReady, ownerReferenceTo, type KubeObject } from './objects.js';

/**
 * The EndpointSlice controller, pure: the discovery.k8s.io/v1 slices of a
 * Service with a selector. One slice per distinct port mapping (pods that
 * give a named targetPort different numbers get different slices), at most
 * 100 endpoints each; named `<service>-<5 chars>`, labelled
 * kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by,
 * owned by the Service. A Service with no endpoints at all gets one
 * placeholder slice (endpoints and ports null), as upstream.
 *
 * Each endpoint: addresses [podIP], conditions ready (Ready, or
 * publishNotReadyAddresses), serving (Ready) and terminating (being
 * deleted), nodeName, targetRef, and hostname when the pod's subdomain is
 * the Service. Existing slices are updated in place where possible, and
 * only when their content differs.
 */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SlicePlan {
  create: KubeObject[];
  update: KubeObject[];
  delete: KubeObject[];
}

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef: Record<string, string>;
}

/** Slices this controller manages for `svcName` (by label). */
export function isSliceOf(slice: KubeObject, namespace: string, svcName: string): boolean {
  const l = slice.metadata.labels ?? {};
  return (
    slice.metadata.namespace === namespace &&
    l[SERVICE_NAME_LABEL] === svcName &&
    l[MANAGED_BY_LABEL] === CONTROLLER_NAME
  );
}

function sliceLabels(svc: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata.name;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

/** What decides a slice's content (what is compared before writing). */
const content = (s: KubeObject) =>
  canonicalJson({
    labels: s.metadata.labels ?? {},
    owners: s.metadata.ownerReferences ?? [],
    addressType: s.addressType,
    endpoints: s.endpoints ?? null,
    ports: s.ports ?? null,
  });
const portsKey = (ports: unknown) => canonicalJson(ports ?? null);

/** The slices' content for `svc`: [ports, endpoints] per slice, deterministic. */
export function desiredSliceContents(
  svc: KubeObject,
  pods: KubeObject[],
): { ports: Record<string, unknown>[] | null; endpoints: SliceEndpoint[] | null }[] {
  const publish = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: Record<string, unknown>[]; endpoints: SliceEndpoint[] }>();
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !shouldPodBeInEndpoints(pod, true)) continue;
    const ports = servicePortsFor(svc, pod)
      .map((p) => ({
        name: p.name ?? '',
        port: p.port,
        protocol: p.protocol,
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
    const serving = isPodReady(pod);
    const terminating = !!pod.metadata.deletionTimestamp;
    const a = podAddress(svc, pod);
    const ep: SliceEndpoint = {
      addresses: [a.ip],
      conditions: { ready: publish || (serving && !terminating), serving, terminating },
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      targetRef: a.targetRef,
    };
    const key = portsKey(ports);
    const g = groups.get(key) ?? { ports, endpoints: [] as SliceEndpoint[] };
    g.endpoints.push(ep);
    groups.set(key, g);
  }
  const out: { ports: Record<string, unknown>[] | null; endpoints: SliceEndpoint[] | null }[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    g.endpoints.sort((x, y) =>
      x.targetRef.name < y.targetRef.name ? -1 : x.targetRef.name > y.targetRef.name ? 1 : 0,
    );
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
      out.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  if (!out.length) out.push({ ports: null, endpoints: null }); // the placeholder
  return out;
}

/**
 * Creates, updates and deletes that bring `existing` (the slices labelled
 * for this Service) to what `svc` and `pods` say. `svc` null (deleted) or
 * unmanaged (no selector, ExternalName): every managed slice goes.
 */
export function planEndpointSlices(
  svc: KubeObject | null,
  pods: KubeObject[],
  existing: KubeObject[],
  suffix: () => string,
): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  if (!svc || !isManagedService(svc)) {
    plan.delete.push(...existing);
    return plan;
  }
  const labels = sliceLabels(svc);
  const owners = [{ ...ownerReferenceTo(svc), apiVersion: 'v1', kind: 'Service' }];
  const wanted = desiredSliceContents(svc, pods);
  const left = [...existing].sort(byName);
  const unmatched: typeof wanted = [];
  const build = (base: KubeObject | null, w: (typeof wanted)[number]): KubeObject => ({
    ...(base ?? {}),
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: base
      ? { ...base.metadata, labels, ownerReferences: owners }
      : {
          name: generateName(`${svc.metadata.name}-`, suffix()),
          generateName: `${svc.metadata.name}-`,
          namespace: svc.metadata.namespace,
          labels,
          ownerReferences: owners,
        },
    addressType: 'IPv4',
    endpoints: w.endpoints,
    ports: w.ports,
  });
  // First, slices whose ports already match keep serving those ports.
  for (const w of wanted) {
    const i = left.findIndex((s) => portsKey(s.ports) === portsKey(w.ports));
    if (i < 0) {
      unmatched.push(w);
      continue;
    }
    const [cur] = left.splice(i, 1);
    const next = build(cur, w);
    if (content(cur) !== content(next)) plan.update.push(next);
  }
  // Then reuse the remaining slices for the remaining contents; create or delete the rest.
  for (const w of unmatched) {
    const cur = left.shift();
    plan[cur ? 'update' : 'create'].push(build(cur ?? null, w));
  }
  plan.delete.push(...left);
  return plan;
}
