import { rfc1123z, since } from '../../control/printers/index.js';
import {
  annotationsMultiline,
  describeEvents,
  labelsMultiline,
  PrefixWriter,
  type Related,
} from './describe-writer.js';

/**
 * kubectl describe node: conditions, addresses, capacity, system info, the
 * pods on it and what they request. Quantities are summed in the units
 * kubectl uses (CPU in millicores, memory and storage in bytes); a
 * percentage of an allocatable amount the node does not report comes out
 * as Go's int64(NaN), exactly as kubectl prints it.
 */
type Obj = Record<string, any>;

const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A resource.Quantity's value (cpu: in millicores when `milli`). */
export function quantity(q: unknown, milli = false): number {
  if (q === undefined || q === null) return 0;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([A-Za-z]*)$/.exec(String(q).trim());
  if (!m || !(m[2] in SUFFIX)) return 0;
  const v = Number(m[1]) * SUFFIX[m[2]];
  return milli ? Math.round(v * 1000) : v;
}

/** Quantity.String() of a sum: cpu as "250m" or "2", bytes in the largest binary unit that divides them. */
export function formatQuantity(v: number, cpu: boolean): string {
  if (v === 0) return '0';
  if (cpu) return v % 1000 === 0 ? String(v / 1000) : `${v}m`;
  for (const s of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) if (v % SUFFIX[s] === 0) return `${v / SUFFIX[s]}${s}`;
  return String(v);
}

/** int64(fraction) as Go converts it: NaN and ±Inf become math.MinInt64 (amd64). */
const goInt64 = (f: number) => (Number.isFinite(f) ? String(Math.trunc(f)) : '-9223372036854775808');

function podTotals(pod: Obj): Record<string, [number, number]> {
  const t: Record<string, [number, number]> = {};
  for (const c of pod.spec?.containers ?? []) {
    for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
      const cur = t[r] ?? [0, 0];
      cur[0] += quantity(c.resources?.requests?.[r], r === 'cpu');
      cur[1] += quantity(c.resources?.limits?.[r], r === 'cpu');
      t[r] = cur;
    }
  }
  return t;
}

function nodeResources(w: PrefixWriter, node: Obj, pods: Obj[], nowMs: number): void {
  const alloc: Obj = Object.keys(node.status?.allocatable ?? {}).length
    ? node.status.allocatable
    : (node.status?.capacity ?? {});
  const allocOf = (r: string) => quantity(alloc[r], r === 'cpu');
  const cell = (v: number, r: string, fraction: number) => `${formatQuantity(v, r === 'cpu')} (${goInt64(fraction)}%)`;
  w.write(0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  w.write(1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n');
  const sums: Record<string, [number, number]> = { cpu: [0, 0], memory: [0, 0], 'ephemeral-storage': [0, 0] };
  for (const p of pods) {
    const t = podTotals(p);
    for (const r of Object.keys(sums)) {
      sums[r][0] += t[r]?.[0] ?? 0;
      sums[r][1] += t[r]?.[1] ?? 0;
    }
    const frac = (v: number, r: string) => (v / allocOf(r)) * 100;
    const [cr, cl] = t.cpu ?? [0, 0];
    const [mr, ml] = t.memory ?? [0, 0];
    w.write(
      1,
      `${p.metadata.namespace}\t${p.metadata.name}\t\t${cell(cr, 'cpu', frac(cr, 'cpu'))}\t${cell(cl, 'cpu', frac(cl, 'cpu'))}\t${cell(mr, 'memory', frac(mr, 'memory'))}\t${cell(ml, 'memory', frac(ml, 'memory'))}\t${since(p.metadata.creationTimestamp, nowMs)}\n`,
    );
  }
  w.write(0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
  w.write(1, 'Resource\tRequests\tLimits\n');
  w.write(1, '--------\t--------\t------\n');
  for (const r of Object.keys(sums)) {
    const a = allocOf(r);
    const frac = (v: number) => (a !== 0 ? (v / a) * 100 : 0);
    w.write(1, `${r}\t${cell(sums[r][0], r, frac(sums[r][0]))}\t${cell(sums[r][1], r, frac(sums[r][1]))}\n`);
  }
}

export function describeNode(node: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  const st = node.status ?? {};
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean)
    .sort();
  w.write(0, `Name:\t${node.metadata.name}\n`);
  w.write(0, `Roles:\t${roles.join(',') || '<none>'}\n`);
  labelsMultiline(w, 'Labels', node.metadata.labels);
  annotationsMultiline(w, 'Annotations', node.metadata.annotations);
  w.write(0, `CreationTimestamp:\t${rfc1123z(node.metadata.creationTimestamp)}\n`);
  const taints: Obj[] = node.spec?.taints ?? [];
  w.write(
    0,
    `Taints:\t${taints.length ? taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join('\n\t') : '<none>'}\n`,
  );
  w.write(0, `Unschedulable:\t${!!node.spec?.unschedulable}\n`);
  if (rel.lease?.lease) {
    const l = rel.lease.lease.spec ?? {};
    w.write(0, 'Lease:\n');
    w.write(1, `HolderIdentity:\t${l.holderIdentity ?? '<unset>'}\n`);
    w.write(1, `AcquireTime:\t${l.acquireTime ? rfc1123z(l.acquireTime) : '<unset>'}\n`);
    w.write(1, `RenewTime:\t${l.renewTime ? rfc1123z(l.renewTime) : '<unset>'}\n`);
  } else if (rel.lease) w.write(0, `Lease:\tFailed to get lease: ${rel.lease.error}\n`);
  if ((st.conditions ?? []).length) {
    w.write(0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
    w.write(1, '----\t------\t-----------------\t------------------\t------\t-------\n');
    for (const c of st.conditions)
      w.write(
        1,
        `${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`,
      );
  }
  w.write(0, 'Addresses:\n');
  for (const a of st.addresses ?? []) w.write(1, `${a.type}:\t${a.address}\n`);
  for (const [title, list] of [
    ['Capacity', st.capacity],
    ['Allocatable', st.allocatable],
  ] as const) {
    if (!Object.keys(list ?? {}).length) continue;
    w.write(0, `${title}:\n`);
    for (const k of Object.keys(list).sort()) w.write(0, `  ${k}:\t${list[k]}\n`);
  }
  const info = st.nodeInfo ?? {};
  w.write(0, 'System Info:\n');
  for (const [label, key] of [
    ['Machine ID', 'machineID'],
    ['System UUID', 'systemUUID'],
    ['Boot ID', 'bootID'],
    ['Kernel Version', 'kernelVersion'],
    ['OS Image', 'osImage'],
    ['Operating System', 'operatingSystem'],
    ['Architecture', 'architecture'],
    ['Container Runtime Version', 'containerRuntimeVersion'],
    ['Kubelet Version', 'kubeletVersion'],
    ['Kube-Proxy Version', 'kubeProxyVersion'],
  ]) {
    w.write(0, `  ${label}:\t${info[key] ?? ''}\n`);
  }
  if (node.spec?.podCIDR) w.write(0, `PodCIDR:\t${node.spec.podCIDR}\n`);
  if ((node.spec?.podCIDRs ?? []).length) w.write(0, `PodCIDRs:\t${node.spec.podCIDRs.join(',')}\n`);
  if (node.spec?.providerID) w.write(0, `ProviderID:\t${node.spec.providerID}\n`);
  nodeResources(w, node, rel.pods ?? [], nowMs);
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}
