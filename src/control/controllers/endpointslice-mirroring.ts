import { canonicalJson, type KubeObject } from './objects.js';

/**
 * The EndpointSlice mirroring controller, pure: a Service without a
 * selector whose Endpoints someone wrote by hand (an external database, a
 * host-network process) gets those addresses as EndpointSlices, which is
 * what kube-proxy — and podwire's agents — read. One slice per Endpoints
 * subset, named `<service>-mirror-<n>`, labelled kubernetes.io/service-name
 * and managed by endpointslicemirroring-controller.k8s.io, owned by the
 * Endpoints. Not mirrored: Services with a selector (the EndpointSlice
 * controller's), Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true,
 * and addresses that are not IPv4.
 */
export const MIRROR_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

export interface MirrorPlan {
  create: KubeObject[];
  update: KubeObject[];
  delete: KubeObject[];
}

/** Slices this controller manages for the Service ns/name. */
export function isMirroredSliceOf(slice: KubeObject, ns: string, name: string): boolean {
  const l = slice.metadata?.labels ?? {};
  return (
    slice.metadata?.namespace === ns && l[SERVICE_NAME_LABEL] === name && l[MANAGED_BY_LABEL] === MIRROR_CONTROLLER
  );
}

export function shouldMirror(svc: KubeObject | null, ep: KubeObject | null): boolean {
  if (!svc || !ep) return false;
  const sel = svc.spec?.selector;
  if (sel && Object.keys(sel).length > 0) return false;
  if (svc.spec?.type === 'ExternalName') return false;
  return ep.metadata?.labels?.[SKIP_MIRROR_LABEL] !== 'true';
}

/** The slices the Endpoints of a selector-less Service should have. */
export function desiredMirrorSlices(svc: KubeObject, ep: KubeObject): KubeObject[] {
  const ns = ep.metadata.namespace ?? 'default';
  const name = ep.metadata.name;
  const subsets: Record<string, any>[] = Array.isArray(ep.subsets) ? ep.subsets : [];
  const out: KubeObject[] = [];
  subsets.forEach((ss, i) => {
    const conv = (a: Record<string, any>, ready: boolean) => ({
      addresses: [a.ip],
      conditions: { ready, serving: ready, terminating: false },
      ...(a.hostname ? { hostname: a.hostname } : {}),
      ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      ...(a.targetRef ? { targetRef: a.targetRef } : {}),
    });
    const endpoints = [
      ...(ss.addresses ?? [])
        .filter((a: Record<string, any>) => IPV4.test(String(a?.ip)))
        .map((a: Record<string, any>) => conv(a, true)),
      ...(ss.notReadyAddresses ?? [])
        .filter((a: Record<string, any>) => IPV4.test(String(a?.ip)))
        .map((a: Record<string, any>) => conv(a, false)),
    ];
    const ports = (ss.ports ?? []).map((p: Record<string, any>) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        namespace: ns,
        name: `${name}-mirror-${i}`,
        labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MIRROR_CONTROLLER },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Endpoints',
            name,
            uid: ep.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    });
  });
  void svc;
  return out;
}

/** What to create, update and delete so that `existing` (this controller's slices) matches. */
export function planMirror(svc: KubeObject | null, ep: KubeObject | null, existing: KubeObject[]): MirrorPlan {
  const want = shouldMirror(svc, ep) ? desiredMirrorSlices(svc!, ep!) : [];
  const have = new Map(existing.map((s) => [s.metadata.name, s]));
  const plan: MirrorPlan = { create: [], update: [], delete: [] };
  for (const w of want) {
    const cur = have.get(w.metadata.name);
    have.delete(w.metadata.name);
    if (!cur) plan.create.push(w);
    else if (
      canonicalJson({ e: cur.endpoints, p: cur.ports, l: cur.metadata.labels }) !==
      canonicalJson({ e: w.endpoints, p: w.ports, l: w.metadata.labels })
    ) {
      plan.update.push({
        ...w,
        metadata: { ...cur.metadata, labels: w.metadata.labels, ownerReferences: w.metadata.ownerReferences },
      });
    }
  }
  plan.delete.push(...have.values());
  return plan;
}
