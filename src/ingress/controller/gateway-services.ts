import { createHash } from 'node:crypto';
import { canonicalJson } from '../../control/index.js';
import type { KubeObject } from '../../control/client/index.js';
import { isPodReady } from './leader.js';

/**
 * Each Gateway of this controller's class gets, as Cilium gives it, a
 * LoadBalancer Service `cilium-gateway-<name>` in the Gateway's namespace
 * (one port per listener port); the lab's cloud load balancer gives it an
 * EXTERNAL-IP, which goes into the Gateway's status.addresses.
 *
 * The Service has no selector, and the controller writes its EndpointSlice:
 * the Ready controller pods, on the listener ports. A selector cannot do
 * it — a Service selects pods of its own namespace only, and the Gateway
 * (namespace `infra`) is served by pods in `ingress-nginx`. Cilium leaves
 * its Service's endpoints a placeholder because its eBPF steers the
 * traffic to Envoy on the node; podwire's agents balance to real
 * endpoints, so the slice lists the controller pods, and the traffic is
 * ordinary Service traffic the agents forward and show. Pure: desired
 * objects and what to change; run.ts applies them (the leader only).
 */
export const MANAGED_BY = 'podwire-ingress-controller';
export const OWNING_GATEWAY_LABEL = 'io.cilium.gateway/owning-gateway';
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

/** cilium-gateway-<name>, shortened to a DNS label (63) with a hash when the Gateway's name is long. */
export function gatewayServiceName(gateway: string): string {
  const full = `cilium-gateway-${gateway}`;
  if (full.length <= 63) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, 54).replace(/[-.]+$/, '')}-${hash}`;
}

/** The Gateways this controller implements: their class names a GatewayClass with our controllerName. */
export function ourGateways(
  gateways: readonly KubeObject[],
  classes: readonly KubeObject[],
  controller: string,
): KubeObject[] {
  const mine = new Set(classes.filter((c) => c.spec?.controllerName === controller).map((c) => c.metadata.name));
  return gateways.filter((g) => mine.has(g.spec?.gatewayClassName) && !g.metadata.deletionTimestamp);
}

const listenerPorts = (gw: KubeObject): number[] =>
  [...new Set<number>((gw.spec?.listeners ?? []).map((l: { port: number }) => l.port))].sort((a, b) => a - b);
const portName = (p: number) => `port-${p}`;

export function desiredGatewayService(gw: KubeObject): KubeObject {
  const name = gatewayServiceName(gw.metadata.name);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: gw.metadata.namespace,
      labels: {
        [OWNING_GATEWAY_LABEL]: gw.metadata.name,
        [GATEWAY_NAME_LABEL]: gw.metadata.name,
        'app.kubernetes.io/managed-by': MANAGED_BY,
      },
      ownerReferences: [
        {
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'Gateway',
          name: gw.metadata.name,
          uid: gw.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: {
      type: 'LoadBalancer',
      ports: listenerPorts(gw).map((port) => ({ name: portName(port), port, protocol: 'TCP', targetPort: port })),
    },
  };
}

/** The slice of a Gateway Service: the controller pods with an address, Ready or not (conditions say which). */
export function desiredGatewaySlice(gw: KubeObject, svc: KubeObject, pods: readonly KubeObject[]): KubeObject {
  const endpoints = pods
    .filter((p) => p.status?.podIP && !p.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
    .map((p) => {
      const ready = isPodReady(p);
      return {
        addresses: [p.status.podIP],
        conditions: { ready, serving: ready, terminating: false },
        ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
        targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
      };
    });
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace,
      labels: { [SERVICE_NAME_LABEL]: svc.metadata.name, [SLICE_MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: svc.metadata.name,
          uid: svc.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: 'IPv4',
    endpoints,
    ports: listenerPorts(gw).map((port) => ({ name: portName(port), port, protocol: 'TCP' })),
  };
}

/** Does the stored Service need our ports, labels or type put back? (allocations — clusterIP, nodePorts — are the server's) */
export function serviceDiffers(cur: KubeObject, want: KubeObject): boolean {
  const ports = (s: KubeObject) =>
    (s.spec?.ports ?? []).map((p: KubeObject) => ({
      name: p.name,
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      targetPort: p.targetPort,
    }));
  return (
    cur.spec?.type !== want.spec.type ||
    canonicalJson(ports(cur)) !== canonicalJson(ports(want)) ||
    canonicalJson(cur.metadata.labels ?? {}) !== canonicalJson(want.metadata.labels) ||
    !!(cur.spec?.selector && Object.keys(cur.spec.selector).length)
  );
}

export function sliceDiffers(cur: KubeObject, want: KubeObject): boolean {
  const v = (s: KubeObject) =>
    canonicalJson({
      l: s.metadata.labels ?? {},
      o: s.metadata.ownerReferences ?? [],
      e: s.endpoints ?? [],
      p: s.ports ?? [],
    });
  return v(cur) !== v(want);
}

export interface GatewayServicePlan {
  /** Services to create or put right (by name: create when absent) */
  services: KubeObject[];
  /** slices to create or update (their Service exists) */
  slices: KubeObject[];
  /** our Services whose Gateway is gone or no longer ours */
  deleteServices: KubeObject[];
}

/**
 * What to change so that every Gateway of ours has its Service and slice,
 * and no Service of ours outlives its Gateway. `services`/`slices`: the
 * stored objects of every namespace; `pods`: the controller's pods.
 */
export function planGatewayServices(
  gateways: readonly KubeObject[],
  services: readonly KubeObject[],
  slices: readonly KubeObject[],
  pods: readonly KubeObject[],
): GatewayServicePlan {
  const plan: GatewayServicePlan = { services: [], slices: [], deleteServices: [] };
  const svcByKey = new Map(services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const sliceByKey = new Map(slices.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const wanted = new Set<string>();
  for (const gw of gateways) {
    const want = desiredGatewayService(gw);
    const k = `${want.metadata.namespace}/${want.metadata.name}`;
    wanted.add(k);
    const cur = svcByKey.get(k);
    if (!cur || serviceDiffers(cur, want)) plan.services.push(want);
    if (!cur) continue; // the slice needs the Service's uid: next round
    const slice = desiredGatewaySlice(gw, cur, pods);
    const s = sliceByKey.get(k);
    if (!s || sliceDiffers(s, slice)) plan.slices.push(slice);
  }
  for (const s of services) {
    if (s.metadata.labels?.['app.kubernetes.io/managed-by'] !== MANAGED_BY) continue;
    if (!wanted.has(`${s.metadata.namespace}/${s.metadata.name}`)) plan.deleteServices.push(s);
  }
  return plan;
}

/** "ns/gateway" → the EXTERNAL-IPs of its Service. */
export function gatewayAddresses(
  gateways: readonly KubeObject[],
  services: readonly KubeObject[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const gw of gateways) {
    const svc = services.find(
      (s) => s.metadata.namespace === gw.metadata.namespace && s.metadata.name === gatewayServiceName(gw.metadata.name),
    );
    const ips = (svc?.status?.loadBalancer?.ingress ?? [])
      .map((i: { ip?: string }) => i.ip)
      .filter((ip: unknown): ip is string => typeof ip === 'string' && ip !== '');
    out.set(`${gw.metadata.namespace}/${gw.metadata.name}`, ips);
  }
  return out;
}
