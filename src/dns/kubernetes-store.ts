import { dashedIp, parseIp, type Ip } from './names.js';

/**
 * What the kubernetes plugin keeps of the cluster, as CoreDNS's informer
 * caches do (plugin/kubernetes/object): Services, the ready endpoints of
 * EndpointSlices, Pods and Namespaces, stripped to what DNS needs and
 * indexed by lowercase name and by address, so a query is a few map hits.
 * Mutators take the API objects as informers hand them and never throw.
 */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** A Service port, or the sentinel {port: -1} for a Service or slice without ports (A answers, no SRV). */
export interface PortEntry {
  name: string;
  protocol: string;
  port: number;
}

export interface ServiceEntry {
  name: string;
  namespace: string;
  kind: 'cluster-ip' | 'headless' | 'external-name';
  clusterIps: Ip[];
  externalName: string;
  ports: PortEntry[];
}

/** A ready endpoint address with its DNS hostname and the ports of its slice. */
export interface EndpointAddr {
  ip: Ip;
  hostname: string;
  ports: PortEntry[];
}

export interface EndpointView {
  all: EndpointAddr[];
  /** by lowercase hostname */
  byHost: Map<string, EndpointAddr[]>;
}

interface SliceEntry {
  name: string;
  namespace: string;
  service: string;
  ports: PortEntry[];
  addrs: { ip: Ip; hostname: string }[];
}

/** Loose shape of the API objects (src/control/api/schemas): only what is read here. */
export interface ObjectLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string | null;
  } | null;
  [k: string]: any;
}

const NO_PORTS: PortEntry[] = [{ name: '', protocol: '', port: -1 }];
const key = (ns: string, name: string) => `${ns.toLowerCase()}/${name.toLowerCase()}`;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const meta = (o: ObjectLike | null | undefined) => ({
  name: str(o?.metadata?.name),
  namespace: str(o?.metadata?.namespace),
});

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (s?.delete(v) && s.size === 0) m.delete(k);
}

function servicePorts(ports: unknown): PortEntry[] {
  const out = arr(ports)
    .filter((p) => p && typeof p === 'object')
    .map((p) => ({
      name: str(p.name),
      protocol: str(p.protocol) || 'TCP',
      port: Number.isInteger(p.port) ? p.port : -1,
    }));
  return out.length ? out : NO_PORTS;
}

export function toServiceEntry(obj: ObjectLike): ServiceEntry | null {
  const { name, namespace } = meta(obj);
  if (!name || !namespace) return null;
  const spec = obj.spec ?? {};
  const ips = arr(spec.clusterIPs).length ? arr(spec.clusterIPs) : [spec.clusterIP];
  const kind = spec.type === 'ExternalName' ? 'external-name' : ips[0] === 'None' ? 'headless' : 'cluster-ip';
  return {
    name,
    namespace,
    kind,
    clusterIps: kind === 'cluster-ip' ? ips.map((ip) => parseIp(str(ip))).filter((ip): ip is Ip => ip !== null) : [],
    externalName: str(spec.externalName),
    ports: servicePorts(spec.ports),
  };
}

export class KubernetesStore {
  private services = new Map<string, ServiceEntry>();
  private serviceByIp = new Map<string, Set<string>>();
  private slices = new Map<string, SliceEntry>();
  private slicesOf = new Map<string, Set<string>>();
  private sliceByIp = new Map<string, Set<string>>();
  private views = new Map<string, EndpointView>();
  private pods = new Map<string, { namespace: string; ips: string[] }>();
  private podByIp = new Map<string, Set<string>>();
  private namespaceObjects = new Set<string>();
  /** Services and Pods per namespace: a namespace with objects in it exists even before its Namespace arrives. */
  private namespaceUse = new Map<string, number>();
  /** When anything last changed (ms): the SOA serial. */
  modifiedMs: number;

  constructor(private readonly opts: { endpointPodNames: boolean; noEndpoints: boolean; now: () => number }) {
    this.modifiedMs = opts.now();
  }

  private touched(): void {
    this.modifiedMs = this.opts.now();
  }

  private use(ns: string, delta: number): void {
    const n = (this.namespaceUse.get(ns) ?? 0) + delta;
    if (n > 0) this.namespaceUse.set(ns, n);
    else this.namespaceUse.delete(ns);
  }

  setNamespace(obj: ObjectLike): void {
    const { name } = meta(obj);
    if (!name) return;
    this.namespaceObjects.add(name.toLowerCase());
    this.touched();
  }

  deleteNamespace(obj: ObjectLike): void {
    if (this.namespaceObjects.delete(meta(obj).name.toLowerCase())) this.touched();
  }

  namespaceExists(ns: string): boolean {
    return this.namespaceObjects.has(ns) || this.namespaceUse.has(ns);
  }

  setService(obj: ObjectLike): void {
    const entry = toServiceEntry(obj);
    if (!entry) return;
    this.deleteService(obj);
    const k = key(entry.namespace, entry.name);
    this.services.set(k, entry);
    for (const ip of entry.clusterIps) addTo(this.serviceByIp, ip.text, k);
    this.use(entry.namespace.toLowerCase(), +1);
    this.touched();
  }

  deleteService(obj: ObjectLike): void {
    const { name, namespace } = meta(obj);
    const k = key(namespace, name);
    const old = this.services.get(k);
    if (!old) return;
    this.services.delete(k);
    for (const ip of old.clusterIps) removeFrom(this.serviceByIp, ip.text, k);
    this.use(old.namespace.toLowerCase(), -1);
    this.touched();
  }

  service(namespace: string, name: string): ServiceEntry | undefined {
    return this.services.get(key(namespace, name));
  }

  /** The Services whose ClusterIP is `ip` (canonical text), in a stable order. */
  servicesByIp(ip: string): ServiceEntry[] {
    return [...(this.serviceByIp.get(ip) ?? [])].sort().map((k) => this.services.get(k)!);
  }

  setSlice(obj: ObjectLike): void {
    this.deleteSlice(obj);
    const { name, namespace } = meta(obj);
    const service = str(obj.metadata?.labels?.[SERVICE_NAME_LABEL]);
    if (this.opts.noEndpoints || !name || !namespace || !service || obj.addressType === 'FQDN') return;
    const ports = arr(obj.ports).length
      ? arr(obj.ports).map((p) => ({
          name: str(p?.name),
          protocol: str(p?.protocol) || 'TCP',
          port: Number.isInteger(p?.port) ? p.port : -1,
        }))
      : NO_PORTS;
    const addrs: SliceEntry['addrs'] = [];
    for (const ep of arr(obj.endpoints)) {
      // A nil ready is "unknown", which consumers treat as ready (discovery/v1 docs, CoreDNS).
      if (!ep || ep.conditions?.ready === false) continue;
      const podName = str(ep.targetRef?.name);
      for (const raw of arr(ep.addresses)) {
        const ip = parseIp(str(raw));
        if (!ip) continue;
        const hostname =
          str(ep.hostname) ||
          (this.opts.endpointPodNames && podName && podName.length < 64 ? podName : dashedIp(ip.text));
        addrs.push({ ip, hostname });
      }
    }
    const k = key(namespace, name);
    const entry: SliceEntry = { name, namespace, service, ports, addrs };
    this.slices.set(k, entry);
    const sk = key(namespace, service);
    addTo(this.slicesOf, sk, k);
    for (const a of addrs) addTo(this.sliceByIp, a.ip.text, k);
    this.views.delete(sk);
    this.touched();
  }

  deleteSlice(obj: ObjectLike): void {
    const { name, namespace } = meta(obj);
    const k = key(namespace, name);
    const old = this.slices.get(k);
    if (!old) return;
    this.slices.delete(k);
    const sk = key(old.namespace, old.service);
    removeFrom(this.slicesOf, sk, k);
    for (const a of old.addrs) removeFrom(this.sliceByIp, a.ip.text, k);
    this.views.delete(sk);
    this.touched();
  }

  /** The ready endpoints of a Service, from all its slices (computed once per change). */
  endpoints(namespace: string, service: string): EndpointView {
    const sk = key(namespace, service);
    let view = this.views.get(sk);
    if (view) return view;
    view = { all: [], byHost: new Map() };
    for (const k of [...(this.slicesOf.get(sk) ?? [])].sort()) {
      const s = this.slices.get(k)!;
      for (const a of s.addrs) {
        const addr: EndpointAddr = { ip: a.ip, hostname: a.hostname, ports: s.ports };
        view.all.push(addr);
        const h = a.hostname.toLowerCase();
        view.byHost.set(h, [...(view.byHost.get(h) ?? []), addr]);
      }
    }
    this.views.set(sk, view);
    return view;
  }

  /** Ready endpoint addresses equal to `ip`: their Service and hostname (PTR targets). */
  endpointsByIp(ip: string): { namespace: string; service: string; hostname: string }[] {
    const out: { namespace: string; service: string; hostname: string }[] = [];
    for (const k of [...(this.sliceByIp.get(ip) ?? [])].sort()) {
      const s = this.slices.get(k)!;
      for (const a of s.addrs)
        if (a.ip.text === ip) out.push({ namespace: s.namespace, service: s.service, hostname: a.hostname });
    }
    return out;
  }

  setPod(obj: ObjectLike): void {
    this.deletePod(obj);
    const { name, namespace } = meta(obj);
    // A terminating pod is gone for DNS (CoreDNS drops it at the informer).
    if (!name || !namespace || obj.metadata?.deletionTimestamp) return;
    const ips = [str(obj.status?.podIP), ...arr(obj.status?.podIPs).map((p) => str(p?.ip))]
      .map((s) => parseIp(s)?.text)
      .filter((s): s is string => !!s);
    const k = key(namespace, name);
    this.pods.set(k, { namespace: namespace.toLowerCase(), ips: [...new Set(ips)] });
    for (const ip of new Set(ips)) addTo(this.podByIp, ip, k);
    this.use(namespace.toLowerCase(), +1);
    this.touched();
  }

  deletePod(obj: ObjectLike): void {
    const { name, namespace } = meta(obj);
    const k = key(namespace, name);
    const old = this.pods.get(k);
    if (!old) return;
    this.pods.delete(k);
    for (const ip of old.ips) removeFrom(this.podByIp, ip, k);
    this.use(old.namespace, -1);
    this.touched();
  }

  /** Is there a pod in `namespace` with address `ip` (canonical text)? */
  podWithIp(namespace: string, ip: string): boolean {
    for (const k of this.podByIp.get(ip) ?? []) if (this.pods.get(k)!.namespace === namespace) return true;
    return false;
  }
}
