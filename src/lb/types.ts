/**
 * The Service load balancer's vocabulary (after Cilium's pkg/loadbalancer):
 * a Service has Frontends (`10.96.50.104:80/TCP`), each with Backends
 * (`10.244.2.3:8080`) in states. Everything here is plain data: the
 * dataplane stage (src/dataplane/service-stage.ts) reads it per packet, the
 * agent's watch (src/agent/service-watch.ts) rebuilds it from Services and
 * EndpointSlices. Addresses are IPv4 as uint32; protocols are IP protocol
 * numbers.
 */

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export type LbProto = typeof PROTO_TCP | typeof PROTO_UDP;

export function protoName(p: number): 'TCP' | 'UDP' | string {
  return p === PROTO_TCP ? 'TCP' : p === PROTO_UDP ? 'UDP' : p === 1 ? 'ICMP' : p === 132 ? 'SCTP' : `IP/${p}`;
}

/** Where a frontend's traffic comes from, as Kubernetes names the Service fields. */
export type FrontendType = 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancer';

export const SCHEDULERS = ['random', 'rr', 'wrr', 'lc', 'sh', 'maglev'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

/** The annotation that picks a Service's scheduler (the agent's --lb-scheduler is the default). */
export const SCHEDULER_ANNOTATION = 'podwire.io/lb-scheduler';
/** Per-endpoint weights for `wrr`: "10.244.1.5=3,10.244.2.4=1" (others weigh 1). */
export const WEIGHTS_ANNOTATION = 'podwire.io/lb-weights';
/** Services with this label are another proxy's (KEP-2447); podwire ignores them. */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';

/**
 * One endpoint of a frontend. Objects are kept across table rebuilds while
 * the endpoint stays (same service, port name, IP and port), so counters
 * survive a Service or EndpointSlice update.
 */
export class Backend {
  /** index in the dataplane's backend registry (what conntrack entries name as their owner); -1 until first used */
  id = -1;
  /** left its Service: its TCP flows are reset on their next packet, its UDP flows flushed */
  removed = false;
  /** connections ever assigned */
  connections = 0;
  /** connections with a live conntrack entry (what `lc` compares) */
  active = 0;
  packets = 0;
  bytes = 0;
  constructor(
    readonly ip: number,
    readonly port: number,
    /** pod name (targetRef) or "ip:port" when there is none */
    readonly name: string,
    readonly nodeName: string | null,
    public ready: boolean,
    public serving: boolean,
    public terminating: boolean,
    public weight = 1,
  ) {}
}

/** Picks a backend for a new flow. Built per frontend whenever its backend set changes. */
export interface Scheduler {
  readonly name: SchedulerName;
  /**
   * Index into the backends it was built with (never called with none).
   * `flowHash`: a 32-bit hash of the flow's 5-tuple, the same on every
   * node (maglev and sh must choose identically everywhere); `srcIp`: the
   * client's address (sh hashes only it).
   */
  pick(flowHash: number, srcIp: number): number;
  /** Why the last pick chose `index`, for `podwire trace` (e.g. "maglev slot 1234 of 65537"). */
  explain(flowHash: number, srcIp: number, index: number): string;
}

/** One (IP, port, protocol) the agent answers for, and where it sends new flows. */
export interface Frontend {
  /** frontendKey(ip, port, proto); ip 0 = every local address of the node (NodePort) */
  readonly key: number;
  /** "namespace/name" */
  readonly service: string;
  /** the Service port's name ("" if unnamed) */
  readonly portName: string;
  readonly ip: number;
  readonly port: number;
  readonly proto: number;
  readonly type: FrontendType;
  /** backends new flows may go to, after traffic policy (ready; else serving+terminating) */
  readonly backends: readonly Backend[];
  /** every endpoint of the Service port, for display (incl. not ready and other nodes') */
  readonly allBackends: readonly Backend[];
  readonly scheduler: Scheduler;
  /** sessionAffinity ClientIP timeout, 0 = no affinity */
  readonly affinityTimeoutMs: number;
  /** externalTrafficPolicy Local (NodePort/LB/externalIP) or internalTrafficPolicy Local (ClusterIP): only this node's endpoints count */
  readonly localOnly: boolean;
  /** SNAT new flows to the node (ETP Cluster on NodePort, LoadBalancer and externalIPs from outside) */
  readonly snatExternal: boolean;
  /**
   * externalTrafficPolicy Local applies to traffic from outside the cluster
   * only: a pod or the node itself calling a NodePort, LoadBalancer IP or
   * external IP goes to any endpoint of the Service (kube-proxy's "pod
   * traffic for … external destinations" rule). Set on such frontends.
   */
  readonly internal?: { readonly backends: readonly Backend[]; readonly scheduler: Scheduler };
}

/** A frontend's hash key: fits in 49 bits, so a plain number (no string building per packet). */
export function frontendKey(ip: number, port: number, proto: number): number {
  return (ip >>> 0) * 0x20000 + (port & 0xffff) * 2 + (proto === PROTO_UDP ? 1 : 0);
}

/** `10.96.50.104:80/TCP` */
export function formatFrontend(ipText: string, port: number, proto: number): string {
  return `${ipText}:${port}/${protoName(proto)}`;
}
