import { KubernetesStore, type ObjectLike, type PortEntry } from './kubernetes-store.js';
import {
  canonical,
  cidrToReverseZones,
  ipFromDashed,
  isReverseName,
  isValidName,
  matchZone,
  parseIp,
  relativeTo,
  reverseToIp,
  trimDot,
} from './names.js';
import * as rr from './records.js';
import type { DnsRecord, Rcode, ZoneAnswer } from './types.js';

/**
 * The `kubernetes` plugin's answers, per the Kubernetes DNS-Based Service
 * Discovery specification (schema 1.1.0) and CoreDNS's plugin/kubernetes:
 *
 *   <svc>.<ns>.svc.<zone>             A/AAAA: ClusterIP(s); headless: every ready endpoint
 *   <host>.<svc>.<ns>.svc.<zone>      A/AAAA of endpoints whose hostname is <host>
 *                                     (slice hostname, else the pod name with endpoint_pod_names, else a-b-c-d)
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone>  SRV (ClusterIP: one to the service name; headless: one per endpoint),
 *                                     addresses in additional
 *   ExternalName Services             CNAME to the external name, whatever the type asked (not chased here)
 *   <a-b-c-d>.<ns>.pod.<zone>         pods insecure: any address; verified: a pod with that IP in <ns>; disabled: none
 *   d.c.b.a.in-addr.arpa / ip6.arpa   PTR: the Service with that ClusterIP, else ready endpoints (<host>.<svc>.<ns>.svc.<zone>)
 *   dns-version.<zone>                TXT "1.1.0"
 *   <zone>                            SOA, NS (ns.dns.<zone>, or the Service that fronts localIps)
 *
 * A name that exists without records of the type is NODATA (NOERROR, no
 * answers), an unknown one NXDOMAIN; both carry the zone's SOA. NXDOMAIN in
 * a fallthrough zone is `null`, as is a name outside the zones: the next
 * plugin answers. Wildcard names are not served (CoreDNS removed them in 1.9).
 */
export type PodsMode = 'disabled' | 'insecure' | 'verified';

export interface KubernetesZoneOptions {
  /** zones served: names ("cluster.local", "in-addr.arpa"; a trailing dot is fine) or CIDRs (→ reverse zones) */
  zones: string[];
  /** default disabled, as CoreDNS */
  pods?: PodsMode;
  /** seconds, 0..3600; default 5 */
  ttl?: number;
  /** zones whose NXDOMAIN falls through to the next plugin; ["."] = all, none by default */
  fallthrough?: string[];
  endpointPodNames?: boolean;
  /** no endpoint records at all (CoreDNS `noendpoints`) */
  noEndpoints?: boolean;
  /** a ClusterIP Service without ready endpoints is NXDOMAIN (CoreDNS `ignore empty_service`) */
  ignoreEmptyService?: boolean;
  /** expose only these namespaces (CoreDNS `namespaces`) */
  namespaces?: string[];
  /** this server's own addresses: the NS records name the Service whose endpoints they are */
  localIps?: string[];
  /** false until the informers have listed everything: NXDOMAIN becomes SERVFAIL meanwhile (default true) */
  synced?: boolean;
  /** clock (ms) for the SOA serial: the time of the last change */
  now?: () => number;
}

export class ZoneConfigError extends Error {
  readonly code = 'ERR_DNS_ZONE_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ZoneConfigError';
  }
}

export const DNS_SCHEMA_VERSION = '1.1.0';
export const DNS_VERSION_TTL = 28800;
export const DEFAULT_TTL = 5;

/** One thing a name resolves to (CoreDNS's msg.Service): an address or a domain (family 0), a port (-1: none), the name it is known by. */
interface Hit {
  host: string;
  family: 0 | 4 | 6;
  port: number;
  target: string;
}

interface Query {
  asked: string;
  name: string;
  zone: string;
  zoneAsAsked: string;
  qtype: string;
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const matchPort = (port: string, proto: string, p: PortEntry) =>
  (port === '' || sameName(port, p.name)) && (proto === '' || sameName(proto, p.protocol));
const unscore = (s: string) => (s.startsWith('_') ? s.slice(1) : s);

export class KubernetesZone {
  readonly zones: string[];
  readonly ttl: number;
  readonly pods: PodsMode;
  private readonly fall: string[];
  private readonly namespaceFilter: Set<string>;
  private readonly localIps: string[];
  private readonly primaryZone: string;
  private readonly ignoreEmptyService: boolean;
  private readonly store: KubernetesStore;
  private synced: boolean;

  constructor(opts: KubernetesZoneOptions) {
    const zone = (z: string) => (z.includes('/') ? (cidrToReverseZones(z) ?? bad(`not a CIDR: ${z}`)) : [canonical(z)]);
    this.zones = opts.zones.flatMap(zone);
    const primary = this.zones.find((z) => !isReverseName(z));
    if (primary === undefined) throw new ZoneConfigError('non-reverse zone name must be used');
    this.primaryZone = primary;
    this.ttl = opts.ttl ?? DEFAULT_TTL;
    if (!Number.isInteger(this.ttl) || this.ttl < 0 || this.ttl > 3600)
      throw new ZoneConfigError(`ttl must be in range [0, 3600]: ${opts.ttl}`);
    this.pods = opts.pods ?? 'disabled';
    if (!['disabled', 'insecure', 'verified'].includes(this.pods))
      throw new ZoneConfigError(`wrong value for pods: ${this.pods}`);
    this.fall = (opts.fallthrough ?? []).flatMap(zone);
    this.namespaceFilter = new Set((opts.namespaces ?? []).map((n) => n.toLowerCase()));
    this.localIps = (opts.localIps ?? []).map((ip) => parseIp(ip)?.text ?? bad(`not an IP address: ${ip}`));
    this.synced = opts.synced ?? true;
    this.ignoreEmptyService = !!opts.ignoreEmptyService;
    this.store = new KubernetesStore({
      endpointPodNames: !!opts.endpointPodNames,
      noEndpoints: !!opts.noEndpoints,
      now: opts.now ?? Date.now,
    });
  }

  // ---- informer feed ----
  setService = (obj: ObjectLike) => this.store.setService(obj);
  deleteService = (obj: ObjectLike) => this.store.deleteService(obj);
  /** EndpointSlices labelled kubernetes.io/service-name; only ready endpoints answer. */
  setSlice = (obj: ObjectLike) => this.store.setSlice(obj);
  deleteSlice = (obj: ObjectLike) => this.store.deleteSlice(obj);
  setPod = (obj: ObjectLike) => this.store.setPod(obj);
  deletePod = (obj: ObjectLike) => this.store.deletePod(obj);
  /** Namespaces: a namespace exists once its Namespace object or any Service/Pod in it has been seen. */
  setNamespace = (obj: ObjectLike) => this.store.setNamespace(obj);
  deleteNamespace = (obj: ObjectLike) => this.store.deleteNamespace(obj);
  markSynced(): void {
    this.synced = true;
  }

  /** The SOA serial: the Unix time (s) of the last change, as CoreDNS. */
  get serial(): number {
    return Math.floor(this.store.modifiedMs / 1000) >>> 0;
  }

  /** What this zone says about (qname, qtype); null when not ours or falling through. Never throws. */
  resolve(qname: string, qtype: string): ZoneAnswer | null {
    try {
      return this.answer(String(qname), String(qtype).toUpperCase());
    } catch {
      return { rcode: 'SERVFAIL', authoritative: false, answers: [], authority: [], additional: [] };
    }
  }

  private answer(qname: string, qtype: string): ZoneAnswer | null {
    const asked = trimDot(qname);
    const name = asked.toLowerCase();
    if (!isValidName(name)) return null;
    const zone = matchZone(name, this.zones);
    if (zone === null) return null;
    const q: Query = {
      asked,
      name,
      zone,
      zoneAsAsked: zone === '' ? '' : asked.slice(asked.length - zone.length),
      qtype,
    };
    if (qtype === 'AXFR' || qtype === 'IXFR')
      return { rcode: 'REFUSED', authoritative: false, answers: [], authority: [], additional: [] };

    const ip = reverseToIp(name);
    const ptrs = ip ? this.ptrTargets(ip) : [];
    let hits = isReverseName(zone) ? (name === zone || ptrs.length ? [] : null) : this.records(q);
    if (hits === null && ptrs.length) hits = [];
    if (hits === null) return this.negative(q, 'NXDOMAIN');

    const apex = name === zone;
    const answers: DnsRecord[] = [];
    const additional: DnsRecord[] = [];
    const external = hits.find((h) => h.family === 0);
    if (external && !sameName(external.host, asked)) {
      answers.push(rr.cname(asked, external.host, this.ttl));
    } else if (qtype === 'A' || qtype === 'AAAA') {
      const family = qtype === 'A' ? 4 : 6;
      for (const host of new Set(hits.filter((h) => h.family === family).map((h) => h.host)))
        answers.push(rr.address(asked, host, this.ttl));
    } else if (qtype === 'SRV') {
      this.srv(q, hits, answers, additional);
    } else if (qtype === 'PTR') {
      for (const t of ptrs) answers.push(rr.ptr(asked, t, this.ttl));
    } else if (qtype === 'TXT' && relativeTo(name, zone) === 'dns-version' && !isReverseName(zone)) {
      answers.push(rr.txt(asked, DNS_SCHEMA_VERSION, DNS_VERSION_TTL));
    } else if (qtype === 'SOA' && apex) {
      answers.push(rr.soa(q.zoneAsAsked, this.serial, this.ttl));
    } else if (qtype === 'NS' && apex) {
      const zoneForNames = isReverseName(zone) ? this.primaryZone : q.zoneAsAsked;
      const seen = new Set<string>();
      for (const n of this.nameservers(zoneForNames)) {
        if (!seen.has(n.name)) answers.push(rr.ns(asked, n.name, this.ttl));
        seen.add(n.name);
        additional.push(rr.address(n.name, n.ip, this.ttl));
      }
    }
    if (!answers.length) return this.negative(q, 'NOERROR');
    return { rcode: 'NOERROR', authoritative: true, answers, authority: [], additional };
  }

  /** NXDOMAIN or NODATA with the SOA; NXDOMAIN falls through (null) where configured, and is SERVFAIL before sync. */
  private negative(q: Query, rcode: Rcode): ZoneAnswer | null {
    if (rcode === 'NXDOMAIN' && matchZone(q.name, this.fall) !== null) return null;
    const authority = [rr.soa(q.zoneAsAsked, this.serial, this.ttl)];
    return {
      rcode: rcode === 'NXDOMAIN' && !this.synced ? 'SERVFAIL' : rcode,
      authoritative: true,
      answers: [],
      authority,
      additional: [],
    };
  }

  /** CoreDNS plugin.SRV: weight 100/n over all hits, one SRV per (target, port), the addresses in additional. */
  private srv(q: Query, hits: Hit[], answers: DnsRecord[], additional: DnsRecord[]): void {
    const weight = Math.max(1, Math.floor(100 / hits.length));
    const seen = new Set<string>();
    for (const h of hits) {
      if (h.port < 0 || h.family === 0) continue;
      if (!seen.has(`${h.target}|${h.port}`))
        answers.push(rr.srv(q.asked, { priority: 0, weight, port: h.port, target: h.target }, this.ttl));
      if (!seen.has(`${h.target}|${h.host}`)) additional.push(rr.address(h.target, h.host, this.ttl));
      seen.add(`${h.target}|${h.port}`).add(`${h.target}|${h.host}`);
    }
  }

  private exposed(ns: string): boolean {
    return (this.namespaceFilter.size === 0 || this.namespaceFilter.has(ns)) && this.store.namespaceExists(ns);
  }

  /** CoreDNS's Records: what a name in a forward zone resolves to, [] when it exists with nothing to give, null for NXDOMAIN. */
  private records(q: Query): Hit[] | null {
    const base = relativeTo(q.name, q.zone);
    if (base === '' || base === 'svc' || base === 'pod' || base === 'dns-version') return [];
    if (base === 'ns.dns' || base === 'dns') {
      const ns = this.nameservers(q.zoneAsAsked);
      if (!ns.length) return null;
      return base === 'dns'
        ? []
        : ns.map((n) => ({ host: n.ip, family: n.ip.includes(':') ? 6 : 4, port: -1, target: q.asked }));
    }
    const segs = base.split('.');
    const kind = segs.pop();
    const namespace = segs.pop() ?? '';
    const name = segs.pop() ?? '';
    if ((kind !== 'svc' && kind !== 'pod') || segs.length > 2 || !this.exposed(namespace)) return null;
    if (kind === 'pod') {
      if (this.pods === 'disabled' || segs.length) return null;
      if (name === '') return [];
      const ip = ipFromDashed(name);
      if (!ip || (this.pods === 'verified' && !this.store.podWithIp(namespace, ip.text))) return null;
      return [{ host: ip.text, family: ip.family, port: -1, target: `${name}.${namespace}.pod.${q.zoneAsAsked}` }];
    }
    if (name === '') return [];
    const svc = this.store.service(namespace, name);
    if (!svc) return null;
    if (
      this.ignoreEmptyService &&
      svc.kind === 'cluster-ip' &&
      !this.store.endpoints(svc.namespace, svc.name).all.length
    )
      return null;
    const endpoint = segs.length === 1 ? segs[0] : '';
    const [port, proto] = segs.length === 2 ? [unscore(segs[0]), unscore(segs[1])] : ['', ''];
    const svcName = `${svc.name}.${svc.namespace}.svc.${q.zoneAsAsked}`;
    const hits: Hit[] = [];
    if (svc.kind === 'external-name') {
      const target = trimDot(svc.externalName);
      if (segs.length || !target || parseIp(target) || !isValidName(target)) return null;
      return [{ host: target, family: 0, port: -1, target: svcName }];
    }
    if (svc.kind === 'headless' || endpoint) {
      const view = this.store.endpoints(svc.namespace, svc.name);
      for (const addr of endpoint ? (view.byHost.get(endpoint) ?? []) : view.all)
        for (const p of addr.ports)
          if (matchPort(port, proto, p))
            hits.push({
              host: addr.ip.text,
              family: addr.ip.family,
              port: p.port,
              target: `${addr.hostname}.${svcName}`,
            });
    } else {
      for (const p of svc.ports)
        if (matchPort(port, proto, p))
          for (const ip of svc.clusterIps)
            hits.push({ host: ip.text, family: ip.family, port: p.port, target: svcName });
    }
    return hits.length ? hits : null;
  }

  /** PTR targets for an address: the Service with that ClusterIP, else the ready endpoints with it. */
  private ptrTargets(ip: string): string[] {
    const allowed = (ns: string) => this.namespaceFilter.size === 0 || this.namespaceFilter.has(ns.toLowerCase());
    const svc = this.store.servicesByIp(ip).find((s) => allowed(s.namespace));
    if (svc) return [`${svc.name}.${svc.namespace}.svc.${this.primaryZone}`];
    const eps = this.store.endpointsByIp(ip).filter((e) => allowed(e.namespace));
    return [...new Set(eps.map((e) => `${e.hostname}.${e.service}.${e.namespace}.svc.${this.primaryZone}`))];
  }

  /** CoreDNS nsAddrs: the Services whose endpoints are this server's addresses, else ns.dns.<zone> at those addresses. */
  private nameservers(zone: string): { name: string; ip: string }[] {
    const out: { name: string; ip: string }[] = [];
    let found = false;
    for (const local of this.localIps) {
      for (const ep of this.store.endpointsByIp(local)) {
        found = true;
        const svc = this.store.service(ep.namespace, ep.service);
        if (!svc) continue;
        const svcName = `${svc.name}.${svc.namespace}.svc.${zone}`;
        if (svc.kind === 'headless')
          for (const a of this.store.endpoints(svc.namespace, svc.name).all)
            out.push({ name: `${a.hostname}.${svcName}`, ip: a.ip.text });
        else for (const c of svc.clusterIps) out.push({ name: svcName, ip: c.text });
      }
    }
    if (!found) for (const ip of this.localIps) out.push({ name: zone === '' ? 'ns.dns' : `ns.dns.${zone}`, ip });
    const seen = new Set<string>();
    return out.filter((n) => !seen.has(`${n.name}|${n.ip}`) && !!seen.add(`${n.name}|${n.ip}`));
  }
}

function bad(message: string): never {
  throw new ZoneConfigError(message);
}
