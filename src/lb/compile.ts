/**
 * One Service + its EndpointSlices → this node's Frontends, as kube-proxy
 * and Cilium define them. Pure, and total: bad input never throws, it is
 * skipped and reported in `warnings` (the agent logs them and records an
 * Event).
 *
 *  - ignored: ExternalName, headless (clusterIP None), no clusterIP yet,
 *    no IPv4 clusterIP, or labelled service.kubernetes.io/service-proxy-name
 *    (kube-proxy's ShouldSkipService + KEP-2447).
 *  - service ports ↔ slice ports by name and protocol (kube-proxy's
 *    ServicePortName); the slice port carries the resolved target number.
 *    Only an endpoint's first address counts, as in kube-proxy.
 *  - frontends per port: ClusterIP, each externalIP, each LB ingress IP
 *    (ipMode Proxy excluded, KEP-1860), and the NodePort (ip 0).
 *  - usable backends (pkg/proxy/topology.go CategorizeEndpoints): ready; if
 *    none, serving && terminating (KEP-1669); with a Local traffic policy the
 *    same choice among this node's endpoints only.
 */

import type { KubeObject } from '../control/client/index.js';
import { ipv4ToString, parseIpv4 } from '../packet/index.js';
import { statisticScheduler } from './linear.js';
import { createScheduler } from './schedulers.js';
import {
  Backend,
  PROTO_TCP,
  PROTO_UDP,
  SCHEDULER_ANNOTATION,
  SCHEDULERS,
  SERVICE_PROXY_NAME_LABEL,
  WEIGHTS_ANNOTATION,
  frontendKey,
  protoName,
} from './types.js';
import type { Frontend, FrontendType, Scheduler, SchedulerName } from './types.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_S = 10800;
const MAX_AFFINITY_TIMEOUT_S = 86400;

/** What compile needs to know about the node it runs on. */
export interface NodeView {
  readonly name: string;
}

export interface CompileOptions {
  /** the agent's --lb-scheduler */
  defaultScheduler: SchedulerName;
  maglevTableSize?: number;
  random?: () => number;
  /** 'linear' (--proxy-mode linear): every frontend picks as iptables' statistic rules do */
  proxyMode?: 'hash' | 'linear';
}

export interface CompiledService {
  /** "namespace/name" */
  service: string;
  frontends: Frontend[];
  /** what was skipped and why, for the agent to log / record as an Event */
  warnings: string[];
  /** why the whole Service is not proxied, or null */
  ignored: string | null;
}

/** A Backend's identity across rebuilds: `ns/name/portName/TCP/10.244.2.3:8080`. */
export function endpointIdentity(service: string, portName: string, proto: number, ip: number, port: number): string {
  return `${service}/${portName}/${protoName(proto)}/${ipv4ToString(ip)}:${port}`;
}

interface SvcPort {
  name: string;
  port: number;
  proto: number;
  nodePort: number;
}

interface Endpoint {
  ip: number;
  name: string | null;
  nodeName: string | null;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

const arr = (x: unknown): any[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | null => (typeof x === 'string' ? x : null);
const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

/** An IPv4 address, null for IPv6/absent (not proxied, not an error), or a warning for garbage. */
function ipv4(text: unknown, what: string, warnings: string[]): number | null {
  if (typeof text !== 'string' || text === '' || text.includes(':')) return null;
  try {
    return parseIpv4(text);
  } catch {
    warnings.push(`${what}: ${JSON.stringify(text)} is not an IPv4 address; skipped`);
    return null;
  }
}

function ignoredReason(svc: KubeObject, spec: any): string | null {
  const proxyName = svc.metadata?.labels?.[SERVICE_PROXY_NAME_LABEL];
  if (proxyName !== undefined) return `labelled ${SERVICE_PROXY_NAME_LABEL}=${proxyName}: another proxy's`;
  if (spec.type === 'ExternalName') return 'ExternalName';
  if (spec.clusterIP === 'None') return 'headless';
  if (!spec.clusterIP) return 'no clusterIP yet';
  return null;
}

export type ReuseBackend = (identity: string) => Backend | undefined;

export function compileService(
  svc: KubeObject,
  slices: readonly KubeObject[],
  node: NodeView,
  opts: CompileOptions,
  reuse?: ReuseBackend,
): CompiledService {
  const ns = str(svc?.metadata?.namespace) ?? 'default';
  const name = str(svc?.metadata?.name) ?? '';
  const out: CompiledService = { service: `${ns}/${name}`, frontends: [], warnings: [], ignored: null };
  try {
    compileInto(out, svc, ns, name, slices, node, opts, reuse);
  } catch (err) {
    // A safety net only: the code above guards every field it reads.
    out.frontends = [];
    out.warnings.push(`not proxied: ${(err as Error)?.message ?? String(err)}`);
  }
  return out;
}

function compileInto(
  out: CompiledService,
  svc: KubeObject,
  ns: string,
  name: string,
  slices: readonly KubeObject[],
  node: NodeView,
  opts: CompileOptions,
  reuse?: ReuseBackend,
): void {
  const w = out.warnings;
  const spec = svc.spec && typeof svc.spec === 'object' ? svc.spec : {};
  out.ignored = ignoredReason(svc, spec);
  if (out.ignored) return;
  const clusterIps = arr(spec.clusterIPs).length ? arr(spec.clusterIPs) : [spec.clusterIP];
  const clusterText = clusterIps.find((ip) => typeof ip === 'string' && !ip.includes(':'));
  const clusterIp = ipv4(clusterText, 'spec.clusterIP', w);
  if (clusterIp === null) {
    out.ignored = clusterText === undefined ? 'no IPv4 clusterIP' : 'bad clusterIP';
    return;
  }

  const ports = servicePorts(spec, w);
  const annotations = svc.metadata?.annotations ?? {};
  const schedName = schedulerName(annotations[SCHEDULER_ANNOTATION], opts, w);
  const weights = parseWeights(annotations[WEIGHTS_ANNOTATION], w);
  const affinityTimeoutMs = affinityMs(spec, w);
  const endpoints = collectEndpoints(slices, ns, name, ports, !!spec.selector, w);

  const external: [FrontendType, number][] = [
    ...arr(spec.externalIPs).map((ip, i): [FrontendType, number | null] => [
      'ExternalIP',
      ipv4(ip, `spec.externalIPs[${i}]`, w),
    ]),
    ...arr(svc.status?.loadBalancer?.ingress).map((ing, i): [FrontendType, number | null] => [
      'LoadBalancer',
      ing?.ipMode === 'Proxy' ? null : ipv4(ing?.ip, `status.loadBalancer.ingress[${i}].ip`, w), // Proxy: the LB itself terminates (KEP-1860)
    ]),
  ].filter((e): e is [FrontendType, number] => e[1] !== null);
  const exposesNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const itpLocal = spec.internalTrafficPolicy === 'Local';
  const etpLocal = spec.externalTrafficPolicy === 'Local';

  for (const sp of ports) {
    const all = backendsFor(out.service, sp, endpoints.get(portKey(sp.name, sp.proto)), weights, reuse);
    const schedulers = new Map<boolean, [Backend[], Scheduler]>();
    const forPolicy = (localOnly: boolean): [Backend[], Scheduler] => {
      let s = schedulers.get(localOnly);
      if (!s) {
        const usable = usableBackends(all, localOnly, node.name);
        s = [usable, scheduler(schedName, usable, opts, w)];
        schedulers.set(localOnly, s);
      }
      return s;
    };
    const add = (type: FrontendType, ip: number, port: number, localOnly: boolean) => {
      const [backends, sched] = forPolicy(localOnly);
      out.frontends.push({
        key: frontendKey(ip, port, sp.proto),
        service: out.service,
        portName: sp.name,
        ip,
        port,
        proto: sp.proto,
        type,
        backends,
        allBackends: all,
        scheduler: sched,
        affinityTimeoutMs,
        localOnly,
        snatExternal: type !== 'ClusterIP' && !localOnly,
        ...(type !== 'ClusterIP' && localOnly
          ? { internal: (([b, s]) => ({ backends: b, scheduler: s }))(forPolicy(false)) }
          : {}),
      });
    };
    add('ClusterIP', clusterIp, sp.port, itpLocal);
    for (const [type, ip] of external) add(type, ip, sp.port, etpLocal);
    if (exposesNodePorts && sp.nodePort) add('NodePort', 0, sp.nodePort, etpLocal);
  }
}

function servicePorts(spec: any, w: string[]): SvcPort[] {
  const out: SvcPort[] = [];
  arr(spec.ports).forEach((p, i) => {
    const label = `spec.ports[${i}]`;
    const protocol = p?.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP')
      return void w.push(`${label}: protocol ${protocol} is not supported; skipped`);
    if (!isPort(p?.port)) return void w.push(`${label}: port ${JSON.stringify(p?.port)} is not 1-65535; skipped`);
    if (p.nodePort !== undefined && p.nodePort !== null && !isPort(p.nodePort))
      w.push(`${label}: nodePort ${JSON.stringify(p.nodePort)} is not 1-65535; no NodePort`);
    out.push({
      name: str(p.name) ?? '',
      port: p.port,
      proto: protocol === 'UDP' ? PROTO_UDP : PROTO_TCP,
      nodePort: isPort(p.nodePort) ? p.nodePort : 0,
    });
  });
  return out;
}

function schedulerName(annotation: unknown, opts: CompileOptions, w: string[]): SchedulerName {
  if (annotation === undefined) return opts.defaultScheduler;
  if (opts.proxyMode === 'linear') {
    w.push(`${SCHEDULER_ANNOTATION} ignored: --proxy-mode linear picks as iptables does (statistic random)`);
  } else if (!(SCHEDULERS as readonly unknown[]).includes(annotation)) {
    w.push(
      `${SCHEDULER_ANNOTATION}: ${JSON.stringify(annotation)} is not one of ${SCHEDULERS.join(', ')}; using ${opts.defaultScheduler}`,
    );
  } else return annotation as SchedulerName;
  return opts.defaultScheduler;
}

/** "10.244.1.5=3,10.244.2.4=1" → ip → weight (integers ≥ 0; others weigh 1). */
function parseWeights(annotation: unknown, w: string[]): Map<number, number> {
  const weights = new Map<number, number>();
  if (typeof annotation !== 'string') return weights;
  for (const item of annotation
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [ipText, weightText, extra] = item.split('=').map((s) => s.trim());
    const weight = Number(weightText);
    let ip: number | null = null;
    try {
      ip = extra === undefined && weightText !== undefined && /^\d+$/.test(weightText) ? parseIpv4(ipText) : null;
    } catch {
      ip = null;
    }
    if (ip === null || !Number.isSafeInteger(weight))
      w.push(`${WEIGHTS_ANNOTATION}: ${JSON.stringify(item)} is not ip=weight; ignored`);
    else weights.set(ip, weight);
  }
  return weights;
}

function affinityMs(spec: any, w: string[]): number {
  if (spec.sessionAffinity !== 'ClientIP') return 0;
  const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (t === undefined || t === null) return DEFAULT_AFFINITY_TIMEOUT_S * 1000;
  if (Number.isInteger(t) && t >= 1 && t <= MAX_AFFINITY_TIMEOUT_S) return t * 1000;
  w.push(
    `sessionAffinityConfig.clientIP.timeoutSeconds ${JSON.stringify(t)} is not 1-${MAX_AFFINITY_TIMEOUT_S}; using ${DEFAULT_AFFINITY_TIMEOUT_S}`,
  );
  return DEFAULT_AFFINITY_TIMEOUT_S * 1000;
}

const portKey = (name: string, proto: number) => `${name}/${proto}`;

/** portKey → "ip:port" → endpoint, from this Service's IPv4 slices (sorted by name, so the result is deterministic). */
function collectEndpoints(
  slices: readonly KubeObject[],
  ns: string,
  name: string,
  ports: SvcPort[],
  hasSelector: boolean,
  w: string[],
): Map<string, Map<string, [Endpoint, number]>> {
  const out = new Map<string, Map<string, [Endpoint, number]>>(ports.map((p) => [portKey(p.name, p.proto), new Map()]));
  const mine = arr(slices)
    .filter((s) => (s?.metadata?.namespace ?? 'default') === ns && s?.metadata?.labels?.[SERVICE_NAME_LABEL] === name)
    .sort((a, b) => (String(a.metadata.name) < String(b.metadata.name) ? -1 : 1));
  if (!mine.length && hasSelector) w.push(`no EndpointSlice labelled ${SERVICE_NAME_LABEL}=${name} yet`);
  for (const slice of mine) {
    if (slice.addressType !== 'IPv4') continue; // IPv6 and FQDN slices are not ours to proxy
    const label = `EndpointSlice ${slice.metadata.name}`;
    const eps: Endpoint[] = [];
    arr(slice.endpoints).forEach((ep, i) => {
      const ip = ipv4(arr(ep?.addresses)[0], `${label} endpoints[${i}]`, w);
      if (ip === null) return;
      const c = ep.conditions ?? {};
      const ready = c.ready !== false; // kube-proxy: nil ready/serving mean true, nil terminating false
      eps.push({
        ip,
        name: str(ep.targetRef?.name),
        nodeName: str(ep.nodeName),
        ready,
        serving: c.serving !== false,
        terminating: c.terminating === true,
      });
    });
    arr(slice.ports).forEach((p, i) => {
      const proto = p?.protocol ?? 'TCP';
      if (proto !== 'TCP' && proto !== 'UDP') return; // SCTP: its service port was already reported
      const target = out.get(portKey(str(p?.name) ?? '', proto === 'UDP' ? PROTO_UDP : PROTO_TCP));
      if (!target)
        return void w.push(
          `${label} ports[${i}]: no TCP/UDP service port named ${JSON.stringify(p?.name ?? '')}; skipped`,
        );
      if (!isPort(p.port))
        return void w.push(`${label} ports[${i}]: port ${JSON.stringify(p.port)} is not 1-65535; skipped`);
      for (const ep of eps) {
        const key = `${ipv4ToString(ep.ip)}:${p.port}`;
        const seen = target.get(key);
        if (!seen || (!seen[0].ready && ep.ready)) target.set(key, [ep, p.port]); // a duplicate: the ready one wins
      }
    });
  }
  return out;
}

/** The Service port's Backends, ordered by "ip:port" text (kube-proxy's order), reused where the identity matches. */
function backendsFor(
  service: string,
  sp: SvcPort,
  eps: Map<string, [Endpoint, number]> | undefined,
  weights: Map<number, number>,
  reuse?: ReuseBackend,
): Backend[] {
  const out: Backend[] = [];
  for (const key of [...(eps?.keys() ?? [])].sort()) {
    const [ep, port] = eps!.get(key)!;
    const name = ep.name ?? key;
    const weight = weights.get(ep.ip) ?? 1;
    const old = reuse?.(endpointIdentity(service, sp.name, sp.proto, ep.ip, port));
    if (old && old.ip === ep.ip && old.port === port && old.name === name && old.nodeName === ep.nodeName) {
      old.ready = ep.ready;
      old.serving = ep.serving;
      old.terminating = ep.terminating;
      old.weight = weight;
      out.push(old);
    } else out.push(new Backend(ep.ip, port, name, ep.nodeName, ep.ready, ep.serving, ep.terminating, weight));
  }
  return out;
}

/** CategorizeEndpoints: ready ones; if none, serving && terminating — among this node's only when localOnly. */
export function usableBackends(all: readonly Backend[], localOnly: boolean, nodeName: string): Backend[] {
  const candidates = localOnly ? all.filter((b) => b.nodeName === nodeName) : all;
  const ready = candidates.filter((b) => b.ready);
  return ready.length ? ready : candidates.filter((b) => b.serving && b.terminating);
}

function scheduler(name: SchedulerName, backends: Backend[], opts: CompileOptions, w: string[]): Scheduler {
  if (opts.proxyMode === 'linear') return statisticScheduler(backends.length, opts.random ?? Math.random);
  const schedOpts = { maglevTableSize: opts.maglevTableSize, random: opts.random };
  try {
    return createScheduler(name, backends, schedOpts);
  } catch (err) {
    w.push(`scheduler ${name}: ${(err as Error)?.message ?? String(err)}; using random`);
    return createScheduler('random', backends, schedOpts);
  }
}
