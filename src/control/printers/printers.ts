import { since } from './duration.js';
import { podCells } from './pod-status.js';
import { formatLabels, formatLabelSelector, selectorString } from './selectors.js';
import { RBAC_PRINTERS } from './rbac.js';

/**
 * One column set per kind, as kubectl 1.30's printers
 * (pkg/printers/internalversion/printers.go; for the Gateway API kinds the
 * CRDs' additionalPrinterColumns): the default columns, the extra ones
 * -o wide adds, and the cells of one object. Pure; the clock is injected.
 */
type Obj = Record<string, any>;

export interface Printer {
  columns: string[];
  wide: string[];
  row(o: Obj, nowMs: number, wide: boolean): string[];
}

const age = (o: Obj, now: number) => since(o.metadata?.creationTimestamp, now);
const str = (v: unknown, dflt = ''): string => (v === undefined || v === null ? dflt : String(v));

function layoutContainers(containers: Obj[] | undefined): [string, string] {
  const cs = containers ?? [];
  return [cs.map((c) => c.name ?? '').join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** "a,b,c + N more..." for lists of at most 3 shown items. */
function withMore(list: string[], count: number, max = 3, empty = '<unset>'): string {
  const ret = list.join(',');
  if (count > max) return `${ret} + ${count - max} more...`;
  return ret || empty;
}

/** Endpoints' ENDPOINTS cell: ip:port for every address and port, three shown. `ports`: only these port names. */
export function formatEndpoints(ep: Obj, ports?: Set<string>): string {
  const subsets: Obj[] = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs: Obj[] = ss.addresses ?? [];
    if (!(ss.ports ?? []).length) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports) {
      if (ports && !ports.has(port.name ?? '')) continue;
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip.includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

function lbStatus(ingress: Obj[] | undefined, wide: boolean): string {
  const set = new Set<string>();
  for (const i of ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  let r = [...set].sort().join(',');
  if (!wide && r.length > 16) r = `${r.slice(0, 13)}...`;
  return r;
}

function serviceExternalIP(svc: Obj, wide: boolean): string {
  const ext: string[] = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = lbStatus(svc.status?.loadBalancer?.ingress, wide);
      if (ext.length) return [...(lb ? lb.split(',') : []), ...ext].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return str(svc.spec?.externalName);
  }
  return '<unknown>';
}

function servicePorts(ports: Obj[] | undefined): string {
  return (ports ?? [])
    .map((p) => (p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}` : `${p.port}/${p.protocol ?? ''}`))
    .join(',');
}

function nodeRoles(node: Obj): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length)
      roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort().join(',');
}

export function nodeStatus(node: Obj): string {
  const ready = (node.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

const nodeAddress = (node: Obj, type: string) =>
  (node.status?.addresses ?? []).find((a: Obj) => a.type === type)?.address ?? '<none>';

function ingressHosts(rules: Obj[] | undefined): string {
  const list: string[] = [];
  let more = false;
  for (const r of rules ?? []) {
    if (list.length === 3) more = true;
    if (!more && r.host) list.push(r.host);
  }
  if (!list.length) return '*';
  return more ? `${list.join(',')} + ${(rules ?? []).length - 3} more...` : list.join(',');
}

/** A CRD printer column's cell: the first jsonpath result; a list or map as JSON; none → <none>. */
const crdCell = (v: unknown) =>
  v === undefined || v === null ? '<none>' : typeof v === 'object' ? JSON.stringify(v) : String(v);

function eventCells(e: Obj, now: number): { last: string; first: string; count: number; target: string } {
  const first = e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
  let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
  let count = e.count || 1;
  if (e.series) {
    last = since(e.series.lastObservedTime, now);
    count = e.series.count;
  }
  const io = e.involvedObject ?? {};
  const target = io.name ? `${String(io.kind ?? '').toLowerCase()}/${io.name}` : String(io.kind ?? '').toLowerCase();
  return { last, first, count, target };
}

export const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row(p, now, wide) {
      const c = podCells(p, now);
      const cells = [p.metadata.name, c.ready, c.status, c.restarts, age(p, now)];
      if (!wide) return cells;
      const gates: Obj[] = p.spec?.readinessGates ?? [];
      const conds: Obj[] = p.status?.conditions ?? [];
      const trueGates = gates.filter((g) => conds.find((c2) => c2.type === g.conditionType)?.status === 'True').length;
      return [
        ...cells,
        p.status?.podIPs?.[0]?.ip || p.status?.podIP || '<none>',
        p.spec?.nodeName || '<none>',
        p.status?.nominatedNodeName || '<none>',
        gates.length ? `${trueGates}/${gates.length}` : '<none>',
      ];
    },
  },
  Service: {
    columns: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['SELECTOR'],
    row(s, now, wide) {
      const cells = [
        s.metadata.name,
        str(s.spec?.type),
        s.spec?.clusterIPs?.[0] ?? '<none>',
        serviceExternalIP(s, wide),
        servicePorts(s.spec?.ports) || '<none>',
        age(s, now),
      ];
      return wide ? [...cells, formatLabels(s.spec?.selector)] : cells;
    },
  },
  Endpoints: {
    columns: ['NAME', 'ENDPOINTS', 'AGE'],
    wide: [],
    row: (e, now) => [e.metadata.name, formatEndpoints(e), age(e, now)],
  },
  EndpointSlice: {
    columns: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
    wide: [],
    row(s, now) {
      const ports: Obj[] = s.ports ?? [];
      const portList = ports
        .slice(0, 3)
        .map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : (p.name ?? '*')));
      const addrs: string[] = (s.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []);
      return [
        s.metadata.name,
        str(s.addressType),
        withMore(portList, ports.length),
        withMore(addrs.slice(0, 3), addrs.length),
        age(s, now),
      ];
    },
  },
  Node: {
    columns: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row(n, now, wide) {
      const info = n.status?.nodeInfo ?? {};
      const cells = [n.metadata.name, nodeStatus(n), nodeRoles(n) || '<none>', age(n, now), str(info.kubeletVersion)];
      if (!wide) return cells;
      return [
        ...cells,
        nodeAddress(n, 'InternalIP'),
        nodeAddress(n, 'ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
  Deployment: {
    columns: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row(d, now, wide) {
      const st = d.status ?? {};
      const cells = [
        d.metadata.name,
        `${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
        String(st.updatedReplicas ?? 0),
        String(st.availableReplicas ?? 0),
        age(d, now),
      ];
      return wide
        ? [...cells, ...layoutContainers(d.spec?.template?.spec?.containers), selectorString(d.spec?.selector)]
        : cells;
    },
  },
  ReplicaSet: {
    columns: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row(r, now, wide) {
      const st = r.status ?? {};
      const cells = [
        r.metadata.name,
        String(r.spec?.replicas ?? 1),
        String(st.replicas ?? 0),
        String(st.readyReplicas ?? 0),
        age(r, now),
      ];
      return wide
        ? [...cells, ...layoutContainers(r.spec?.template?.spec?.containers), formatLabelSelector(r.spec?.selector)]
        : cells;
    },
  },
  StatefulSet: {
    columns: ['NAME', 'READY', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES'],
    row(s, now, wide) {
      const cells = [s.metadata.name, `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}`, age(s, now)];
      return wide ? [...cells, ...layoutContainers(s.spec?.template?.spec?.containers)] : cells;
    },
  },
  NetworkPolicy: {
    columns: ['NAME', 'POD-SELECTOR', 'AGE'],
    wide: [],
    row: (n, now) => [n.metadata.name, formatLabelSelector(n.spec?.podSelector ?? {}), age(n, now)],
  },
  Ingress: {
    columns: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
    wide: [],
    row: (i, now, wide) => [
      i.metadata.name,
      i.spec?.ingressClassName ?? '<none>',
      ingressHosts(i.spec?.rules),
      lbStatus(i.status?.loadBalancer?.ingress, wide),
      (i.spec?.tls ?? []).length ? '80, 443' : '80',
      age(i, now),
    ],
  },
  IngressClass: {
    columns: ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'],
    wide: [],
    row(c, now) {
      const p = c.spec?.parameters;
      const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
      return [c.metadata.name, str(c.spec?.controller), params, age(c, now)];
    },
  },
  Namespace: {
    columns: ['NAME', 'STATUS', 'AGE'],
    wide: [],
    row: (n, now) => [n.metadata.name, str(n.status?.phase), age(n, now)],
  },
  ConfigMap: {
    columns: ['NAME', 'DATA', 'AGE'],
    wide: [],
    row: (c, now) => [
      c.metadata.name,
      String(Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length),
      age(c, now),
    ],
  },
  Secret: {
    columns: ['NAME', 'TYPE', 'DATA', 'AGE'],
    wide: [],
    row: (s, now) => [s.metadata.name, str(s.type), String(Object.keys(s.data ?? {}).length), age(s, now)],
  },
  Event: {
    columns: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wide: [],
    row(e, now, wide) {
      const c = eventCells(e, now);
      const msg = String(e.message ?? '').trim();
      if (!wide) return [c.last, str(e.type), str(e.reason), c.target, msg];
      const comp = e.source?.component || e.reportingComponent || '';
      const inst = e.source?.host || e.reportingInstance || '';
      return [
        c.last,
        str(e.type),
        str(e.reason),
        c.target,
        str(e.involvedObject?.fieldPath),
        inst ? `${comp}, ${inst}` : comp,
        msg,
        c.first,
        String(c.count),
        e.metadata.name,
      ];
    },
  },
  Gateway: {
    columns: ['NAME', 'CLASS', 'ADDRESS', 'PROGRAMMED', 'AGE'],
    wide: [],
    row: (g, now) => [
      g.metadata.name,
      crdCell(g.spec?.gatewayClassName),
      crdCell(g.status?.addresses?.[0]?.value),
      crdCell((g.status?.conditions ?? []).find((c: Obj) => c.type === 'Programmed')?.status),
      age(g, now),
    ],
  },
  HTTPRoute: {
    columns: ['NAME', 'HOSTNAMES', 'AGE'],
    wide: [],
    row: (r, now) => [r.metadata.name, crdCell(r.spec?.hostnames), age(r, now)],
  },
  GatewayClass: {
    columns: ['NAME', 'CONTROLLER', 'ACCEPTED', 'AGE'],
    wide: ['DESCRIPTION'],
    row(c, now, wide) {
      const cells = [
        c.metadata.name,
        crdCell(c.spec?.controllerName),
        crdCell((c.status?.conditions ?? []).find((x: Obj) => x.type === 'Accepted')?.status),
        age(c, now),
      ];
      return wide ? [...cells, crdCell(c.spec?.description)] : cells;
    },
  },
  ReferenceGrant: {
    columns: ['NAME', 'AGE'],
    wide: [],
    row: (r, now) => [r.metadata.name, age(r, now)],
  },
  ...RBAC_PRINTERS,
};

/** The wide event table reorders the columns (kubectl's eventColumnDefinitions with priorities). */
export const EVENT_WIDE_COLUMNS = [
  'LAST SEEN',
  'TYPE',
  'REASON',
  'OBJECT',
  'SUBOBJECT',
  'SOURCE',
  'MESSAGE',
  'FIRST SEEN',
  'COUNT',
  'NAME',
];

export function columnsFor(kind: string, wide: boolean): string[] {
  if (kind === 'Event' && wide) return EVENT_WIDE_COLUMNS;
  const p = PRINTERS[kind];
  return wide ? [...p.columns, ...p.wide] : p.columns;
}
