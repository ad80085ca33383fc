/**
 * What `podwire probe` will send, decided before anything is sent (pure):
 * one table per protocol/port, and for each table the address every
 * target pod is probed at — its IP, the ClusterIP of a Service whose only
 * backend it is, or that Service's DNS name — then, per source pod, the
 * list its prober gets. A target with no such Service is a cell with no
 * target, shown as such, never probed somewhere else.
 */
import { matches, selectorRequirements } from '../control/index.js';
import { ipv4ToString } from '../packet/index.js';
import { protoNumber, type PolicyPod } from '../policy/index.js';
import type { ProberProbe } from './wire.js';

export type ProbeProtocol = 'tcp' | 'udp';
export type TargetMode = 'pods' | 'service-ip' | 'service-name';
export const TARGET_MODES: readonly TargetMode[] = ['pods', 'service-ip', 'service-name'];

/** A v1 Service, the fields probe reads. */
export interface ServiceLite {
  namespace: string;
  name: string;
  type?: string;
  clusterIP?: string;
  selector?: Record<string, string>;
  ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
}

export interface Target {
  /** what the prober connects to: an IP, or a name its resolver looks up */
  host: string;
  port: number;
  /** the Service it goes through, in words ("x/s-x-a 10.96.0.12:80") */
  via?: string;
}

export type TargetOrNone = Target | { none: string };

export interface PlannedTable {
  /** "TCP/80": the target pod's port, after any Service's translation */
  name: string;
  proto: ProbeProtocol;
  port: number;
}

export interface ProbePlan {
  to: TargetMode;
  pods: PolicyPod[];
  tables: PlannedTable[];
  /** [table][target pod] */
  targets: TargetOrNone[][];
  /** [source pod]: what its prober sends; ids are "<table>:<target pod>" */
  probes: ProberProbe[][];
}

export interface PlanInput {
  pods: PolicyPod[];
  ports: number[];
  protocols: ProbeProtocol[];
  to: TargetMode;
  /** every Service (for --to service-ip / service-name) */
  services?: ServiceLite[];
  /** every pod policy knows, to tell whether a Service has one backend only (default: `pods`) */
  allPods?: PolicyPod[];
  clusterDomain?: string;
}

export const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
export const cellId = (table: number, target: number) => `${table}:${target}`;

export function planProbes(input: PlanInput): ProbePlan {
  const pods = [...input.pods].sort((a, b) => podKey(a).localeCompare(podKey(b)));
  const tables: PlannedTable[] = [];
  for (const proto of input.protocols)
    for (const port of input.ports) tables.push({ name: `${proto.toUpperCase()}/${port}`, proto, port });
  const targets = tables.map((t) => pods.map((p) => targetFor(p, t, input)));
  const probes = pods.map(() => {
    const list: ProberProbe[] = [];
    targets.forEach((row, ti) =>
      row.forEach((tg, pi) => {
        if (!('none' in tg)) list.push({ id: cellId(ti, pi), host: tg.host, port: tg.port, proto: tables[ti].proto });
      }),
    );
    return list;
  });
  return { to: input.to, pods, tables, targets, probes };
}

function targetFor(pod: PolicyPod, t: PlannedTable, input: PlanInput): TargetOrNone {
  if (input.to === 'pods') return { host: ipv4ToString(pod.ip), port: t.port };
  const found = serviceFor(pod, t, input.services ?? [], input.allPods ?? input.pods);
  if ('none' in found) return found;
  const { svc, port } = found;
  if (input.to === 'service-ip') return { host: svc.clusterIP!, port, via: `${podKey(svc)} ${svc.clusterIP}:${port}` };
  const name = `${svc.name}.${svc.namespace}.svc.${input.clusterDomain ?? 'cluster.local'}`;
  // the trailing dot: an absolute name, asked as it is (not first with each search domain, as ndots:5 would)
  return { host: `${name}.`, port, via: `${name}:${port}` };
}

/**
 * A Service whose only backend is this pod, with a port whose target is
 * the table's port and protocol: the connection then can only land on this
 * pod, so the cell says something about this pod alone.
 */
export function serviceFor(
  pod: PolicyPod,
  t: PlannedTable,
  services: ServiceLite[],
  allPods: PolicyPod[],
): { svc: ServiceLite; port: number } | { none: string } {
  const proto = protoNumber(t.proto);
  const candidates = services
    .filter(
      (s) =>
        s.namespace === pod.namespace &&
        s.type !== 'ExternalName' &&
        s.clusterIP &&
        s.clusterIP !== 'None' &&
        s.selector &&
        Object.keys(s.selector).length,
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  let shared: string | undefined;
  for (const svc of candidates) {
    const reqs = selectorRequirements({ matchLabels: svc.selector });
    if (!matches(reqs, pod.labels)) continue;
    const backends = allPods.filter((p) => p.namespace === svc.namespace && matches(reqs, p.labels));
    if (backends.length !== 1) {
      shared ??= `${podKey(svc)} (${backends.length} backends)`;
      continue;
    }
    const sp = svc.ports.find(
      (p) => protoNumber(p.protocol) === proto && targetPortOn(pod, p.targetPort ?? p.port, proto) === t.port,
    );
    if (sp) return { svc, port: sp.port };
  }
  return {
    none: `no Service has ${podKey(pod)} as its only backend on ${t.name}${shared ? `; ${shared} has more than one` : ''}`,
  };
}

/** A Service port's targetPort on a pod: a number, or a container port's name (name and protocol must match). */
function targetPortOn(pod: PolicyPod, targetPort: number | string, proto: number): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (/^\d+$/.test(targetPort)) return Number(targetPort);
  return pod.ports.find((p) => p.name === targetPort && p.proto === proto)?.port;
}
