import { CidrError, cidrSize, ipv4ToString, parseCidr, parseIpv4, type Cidr } from '../../packet/index.js';
import { ApiError, errors, type Cause } from './status.js';

/**
 * What the Kubernetes API server does to a Service on create: defaults
 * (type ClusterIP, sessionAffinity None, port protocol TCP, targetPort =
 * port, internalTrafficPolicy Cluster, externalTrafficPolicy Cluster for
 * NodePort/LoadBalancer, allocateLoadBalancerNodePorts true), a cluster IP
 * (clusterIP, clusterIPs, ipFamilies [IPv4], ipFamilyPolicy SingleStack)
 * unless the Service is headless (clusterIP "None") or ExternalName, and a
 * node port per port for NodePort and LoadBalancer Services (plus a
 * healthCheckNodePort for LoadBalancer with externalTrafficPolicy Local).
 * Requested values are checked — inside the range and free — with
 * upstream's Invalid messages.
 *
 * Allocation is deterministic (upstream picks at random): the lowest free
 * value above a reserved band, as Kubernetes' KEP-3070 (IPs) and KEP-3668
 * (node ports) split each range. The low band — for 10.96.0.0/12 the first
 * 256 addresses, 10.96.0.1 to 10.96.1.0; for 30000-32767 the first 86
 * ports, 30000 to 30085 — is taken by automatic allocation only when the
 * rest is full, so explicit requests there (10.96.0.1 for `kubernetes`,
 * 10.96.0.10 for kube-dns, nodePort: 30080 from a tutorial) keep working
 * whatever was created before. The first automatic address is 10.96.1.1,
 * the first automatic node port 30086.
 *
 * Pure: `existing` is every other Service (the one being written, found by
 * namespace and name, is ignored), or a ServiceAllocations index of what
 * they hold (the API server keeps one, so that a create at 10,000 Services
 * does not walk 10,000 Services). On update, call
 * `allocateServiceAddresses(keepServiceAllocations(newSvc, oldSvc), others, cfg)`:
 * the first carries the old allocations over (clusterIP is immutable), the
 * second defaults and allocates what is new (ports added, type changed).
 */
export interface ServiceAllocConfig {
  /** e.g. '10.96.0.0/12' */
  serviceCidr: string;
  /** inclusive, e.g. [30000, 32767] */
  nodePortRange: [number, number];
}

type Service = Record<string, any> & { metadata?: { name?: string; namespace?: string; [k: string]: any } };

const invalid = (field: string, value: unknown, why: string): Cause => ({
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
  reason: 'FieldValueInvalid',
});
const forbidden = (field: string, why: string): Cause => ({
  field,
  message: `Forbidden: ${why}`,
  reason: 'FieldValueForbidden',
});
const duplicate = (field: string, value: unknown): Cause => ({
  field,
  message: `Duplicate value: ${JSON.stringify(value)}`,
  reason: 'FieldValueDuplicate',
});

const typeOf = (s: Service): string => s.spec?.type ?? 'ClusterIP';
const needsNodePorts = (s: Service) =>
  typeOf(s) === 'NodePort' || (typeOf(s) === 'LoadBalancer' && s.spec?.allocateLoadBalancerNodePorts !== false);
const needsHealthCheck = (s: Service) => typeOf(s) === 'LoadBalancer' && s.spec?.externalTrafficPolicy === 'Local';
const hasExternalPolicy = (s: Service) => typeOf(s) === 'NodePort' || typeOf(s) === 'LoadBalancer';

/** min(max(min, size/step), max), 0 for tiny ranges: the reserved low band of a range (KEP-3070, KEP-3668). */
function reservedBand(size: number, min: number, max: number, step: number): number {
  if (size <= min) return 0;
  return Math.min(Math.max(Math.floor(size / step), min), max);
}

interface Ipv4Range {
  network: number;
  size: number;
  text: string;
}

function parseRange(cidr: string): Ipv4Range {
  const message = `service CIDR ${cidr} is not an IPv4 CIDR of /30 or larger`;
  let c: Cidr;
  try {
    c = parseCidr(cidr, { maskHostBits: true });
  } catch (err) {
    throw new CidrError(message, { cause: err });
  }
  if (c.prefixLen > 30) throw new CidrError(message);
  return { network: c.network, size: cidrSize(c), text: cidr };
}

function tryIp(s: unknown): number | null {
  try {
    return typeof s === 'string' ? parseIpv4(s) : null;
  } catch {
    return null;
  }
}

/** "namespace/name": whose an allocation is. */
const ownerOf = (s: Service) => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`;

/**
 * Which Service holds each cluster IP and node port (healthCheckNodePort
 * included), kept up to date with add/remove as Services are written.
 * A value held by two Services (only a store edited behind the API
 * server's back could do that) stays taken until both let go.
 */
export class ServiceAllocations {
  private readonly ips = new Map<number, Set<string>>();
  private readonly ports = new Map<number, Set<string>>();

  static of(services: Iterable<Service>): ServiceAllocations {
    const a = new ServiceAllocations();
    for (const s of services) a.add(s);
    return a;
  }

  add(s: Service): void {
    this.each(s, (map, n, owner) => {
      let owners = map.get(n);
      if (!owners) map.set(n, (owners = new Set()));
      owners.add(owner);
    });
  }

  remove(s: Service): void {
    this.each(s, (map, n, owner) => {
      const owners = map.get(n);
      owners?.delete(owner);
      if (owners?.size === 0) map.delete(n);
    });
  }

  /** Is the cluster IP (uint32) held by a Service other than `owner` ("ns/name")? */
  ipTaken(ip: number, owner: string): boolean {
    return takenByOther(this.ips.get(ip), owner);
  }

  portTaken(port: number, owner: string): boolean {
    return takenByOther(this.ports.get(port), owner);
  }

  private each(s: Service, fn: (map: Map<number, Set<string>>, n: number, owner: string) => void): void {
    const owner = ownerOf(s);
    for (const ip of new Set([s.spec?.clusterIP, ...(s.spec?.clusterIPs ?? [])])) {
      const n = tryIp(ip);
      if (n !== null) fn(this.ips, n, owner);
    }
    const ports = new Set<number>();
    for (const p of s.spec?.ports ?? []) if (Number.isInteger(p?.nodePort)) ports.add(p.nodePort);
    if (Number.isInteger(s.spec?.healthCheckNodePort)) ports.add(s.spec.healthCheckNodePort);
    for (const n of ports) fn(this.ports, n, owner);
  }
}

function takenByOther(owners: Set<string> | undefined, owner: string): boolean {
  return owners !== undefined && (owners.size > 1 || !owners.has(owner));
}

/** What allocation asks of the other Services: is this value someone else's? */
interface Taken {
  ip(n: number): boolean;
  port(n: number): boolean;
}

export function allocateServiceAddresses(
  svc: Service,
  existing: Service[] | ServiceAllocations,
  cfg: ServiceAllocConfig,
): Service {
  const s: Service = structuredClone(svc);
  const spec = (s.spec ??= {});
  const name = s.metadata?.name ?? s.metadata?.generateName ?? '';
  const index = existing instanceof ServiceAllocations ? existing : ServiceAllocations.of(existing);
  const owner = ownerOf(s);
  const others: Taken = { ip: (n) => index.ipTaken(n, owner), port: (n) => index.portTaken(n, owner) };
  const causes: Cause[] = [];

  // Defaults every Service gets.
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }

  if (spec.type === 'ExternalName') {
    if (spec.clusterIP || (spec.clusterIPs ?? []).length)
      causes.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (causes.length) throw errors.invalid('Service', name, causes);
    return s;
  }
  spec.internalTrafficPolicy ??= 'Cluster';
  if (hasExternalPolicy(s)) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;

  allocateClusterIP(s, others, cfg, causes);
  allocateNodePorts(s, others, cfg, causes);
  if (causes.length) throw errors.invalid('Service', name, causes);
  return s;
}

function allocateClusterIP(s: Service, others: Taken, cfg: ServiceAllocConfig, causes: Cause[]): void {
  const spec = s.spec;
  if (spec.clusterIP && spec.clusterIPs?.length && spec.clusterIPs[0] !== spec.clusterIP) {
    causes.push(invalid('spec.clusterIPs', spec.clusterIPs, 'element [0] must match clusterIP'));
    return;
  }
  const requested: string = spec.clusterIP || spec.clusterIPs?.[0] || '';
  for (const f of spec.ipFamilies ?? [])
    if (f !== 'IPv4')
      causes.push(invalid(`spec.ipFamilies[${spec.ipFamilies.indexOf(f)}]`, f, 'not configured on this cluster'));
  if (spec.ipFamilyPolicy === 'RequireDualStack')
    causes.push(
      invalid('spec.ipFamilyPolicy', 'RequireDualStack', 'this cluster is not configured for dual-stack services'),
    );
  if ((spec.clusterIPs ?? []).length > 1)
    causes.push(invalid('spec.clusterIPs', spec.clusterIPs, 'this cluster is single-stack IPv4: at most one IP'));
  spec.ipFamilies = ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  if (requested === 'None') {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer')
      causes.push(invalid('spec.clusterIP', 'None', `may not be set to 'None' for ${spec.type} services`));
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
    return;
  }
  const range = parseRange(cfg.serviceCidr);
  const used = (n: number) => others.ip(n);
  let ip: number;
  if (requested) {
    const n = tryIp(requested);
    if (n === null) {
      causes.push(
        invalid('spec.clusterIPs[0]', requested, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'),
      );
      return;
    }
    // The network and broadcast addresses are never handed out.
    if (n <= range.network || n >= range.network + range.size - 1) {
      causes.push(
        invalid(
          'spec.clusterIPs',
          [requested],
          `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${range.text}`,
        ),
      );
      return;
    }
    if (used(n)) {
      causes.push(
        invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`),
      );
      return;
    }
    ip = n;
  } else {
    const first = range.network + 1;
    const count = range.size - 2;
    const band = reservedBand(range.size, 16, 256, 16);
    const found = lowestFree(first + band, first + count - 1, used) ?? lowestFree(first, first + band - 1, used);
    if (found === null)
      throw new ApiError('InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
    ip = found;
  }
  spec.clusterIP = ipv4ToString(ip);
  spec.clusterIPs = [spec.clusterIP];
}

function lowestFree(from: number, to: number, used: (n: number) => boolean): number | null {
  for (let x = from; x <= to; x++) if (!used(x)) return x;
  return null;
}

function allocateNodePorts(s: Service, others: Taken, cfg: ServiceAllocConfig, causes: Cause[]): void {
  const spec = s.spec;
  const [lo, hi] = cfg.nodePortRange;
  const ours = new Set<number>(); // taken by this Service during this call
  const used = { has: (n: number) => ours.has(n) || others.port(n), add: (n: number) => ours.add(n) };
  const mine = new Map<string, number>(); // "port/protocol" → nodePort, within this Service
  const check = (field: string, port: number): boolean => {
    if (port < lo || port > hi) {
      causes.push(
        invalid(field, port, `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`),
      );
      return false;
    }
    if (used.has(port)) {
      causes.push(invalid(field, port, 'provided port is already allocated'));
      return false;
    }
    return true;
  };
  const band = reservedBand(hi - lo + 1, 16, 128, 32);
  const take = (): number => {
    const n = lowestFree(lo + band, hi, used.has) ?? lowestFree(lo, lo + band - 1, used.has);
    if (n === null)
      throw new ApiError('InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
    return n;
  };
  const ports: any[] = spec.ports ?? [];
  // Requested node ports first, so automatic ones never take them.
  const requested = new Set<number>();
  ports.forEach((p, i) => {
    if (p.nodePort === undefined || p.nodePort === 0) return;
    const key = `${p.nodePort}/${p.protocol}`;
    if (mine.has(key)) causes.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    else if (requested.has(p.nodePort) || check(`spec.ports[${i}].nodePort`, p.nodePort)) mine.set(key, p.nodePort);
    requested.add(p.nodePort);
  });
  for (const n of requested) used.add(n);
  if (needsNodePorts(s)) {
    for (const p of ports) {
      if (p.nodePort) continue;
      // A port number served over two protocols shares one node port, as upstream.
      const sibling = ports.find((q) => q !== p && q.port === p.port && q.protocol !== p.protocol && q.nodePort);
      p.nodePort = sibling ? sibling.nodePort : take();
      used.add(p.nodePort);
    }
  }
  if (needsHealthCheck(s)) {
    if (spec.healthCheckNodePort) {
      if (check('spec.healthCheckNodePort', spec.healthCheckNodePort)) used.add(spec.healthCheckNodePort);
    } else spec.healthCheckNodePort = take();
  }
}

/**
 * An update keeps what was allocated: a missing clusterIP (kubectl apply of
 * a manifest without one) is the old one — a different one is Invalid,
 * "field is immutable" — and missing node ports are the old ones (matched
 * by port name, as upstream). What the new type no longer uses is dropped
 * if it was left as it was: the cluster IP when the Service becomes
 * ExternalName, node ports when it becomes ClusterIP.
 */
export function keepServiceAllocations(newSvc: Service, oldSvc: Service): Service {
  const s: Service = structuredClone(newSvc);
  const spec = (s.spec ??= {});
  const old = oldSvc.spec ?? {};
  const name = s.metadata?.name ?? '';
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const causes: Cause[] = [];
  const oldHasIP = typeOf(oldSvc) !== 'ExternalName' && !!old.clusterIP;

  if (typeOf(s) === 'ExternalName') {
    for (const f of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy', 'internalTrafficPolicy'])
      if (same(spec[f], old[f])) delete spec[f];
  } else if (oldHasIP) {
    if (!spec.clusterIP && !(spec.clusterIPs ?? []).length) {
      spec.clusterIP = old.clusterIP;
      if (old.clusterIPs) spec.clusterIPs = old.clusterIPs;
      if (old.ipFamilies && !spec.ipFamilies) spec.ipFamilies = old.ipFamilies;
      if (old.ipFamilyPolicy && !spec.ipFamilyPolicy) spec.ipFamilyPolicy = old.ipFamilyPolicy;
    } else if (spec.clusterIP && spec.clusterIP !== old.clusterIP) {
      causes.push(invalid('spec.clusterIP', spec.clusterIP, 'field is immutable'));
    } else if (!spec.clusterIP && spec.clusterIPs[0] !== old.clusterIP) {
      causes.push(invalid('spec.clusterIPs[0]', spec.clusterIPs[0], 'may not change once set'));
    } else {
      spec.clusterIP ??= spec.clusterIPs[0];
    }
  }

  const ports: any[] = spec.ports ?? [];
  const oldPorts: any[] = old.ports ?? [];
  if (needsNodePorts(s) && needsNodePorts(oldSvc)) {
    const inUse = new Set(ports.map((p) => p.nodePort).filter(Boolean));
    const byName = new Map(oldPorts.map((p) => [p.name ?? '', p.nodePort]));
    for (const p of ports) {
      const was = byName.get(p.name ?? '');
      if (!p.nodePort && was && !inUse.has(was)) {
        p.nodePort = was;
        inUse.add(was);
      }
    }
  } else if (!needsNodePorts(s)) {
    const oldValues = new Set(oldPorts.map((p) => p.nodePort).filter(Boolean));
    for (const p of ports) if (p.nodePort && oldValues.has(p.nodePort)) delete p.nodePort;
  }
  if (needsHealthCheck(s) && needsHealthCheck(oldSvc)) {
    if (!spec.healthCheckNodePort && old.healthCheckNodePort) spec.healthCheckNodePort = old.healthCheckNodePort;
  } else if (!needsHealthCheck(s) && spec.healthCheckNodePort === old.healthCheckNodePort)
    delete spec.healthCheckNodePort;
  if (!hasExternalPolicy(s) && spec.externalTrafficPolicy === old.externalTrafficPolicy)
    delete spec.externalTrafficPolicy;
  if (typeOf(s) !== 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts)
    delete spec.allocateLoadBalancerNodePorts;

  if (causes.length) throw errors.invalid('Service', name, causes);
  return s;
}
