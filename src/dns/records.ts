import type { DnsRecord } from './types.js';

/**
 * Resource records as dns-packet writes them (names without the trailing
 * dot, class IN). Pure builders, so answers read like zone-file lines.
 */

export const a = (name: string, ip: string, ttl: number): DnsRecord => ({
  name,
  type: 'A',
  class: 'IN',
  ttl,
  data: ip,
});
export const aaaa = (name: string, ip: string, ttl: number): DnsRecord => ({
  name,
  type: 'AAAA',
  class: 'IN',
  ttl,
  data: ip,
});
/** A or AAAA by the address' family. */
export const address = (name: string, ip: string, ttl: number): DnsRecord =>
  ip.includes(':') ? aaaa(name, ip, ttl) : a(name, ip, ttl);
export const cname = (name: string, target: string, ttl: number): DnsRecord => ({
  name,
  type: 'CNAME',
  class: 'IN',
  ttl,
  data: target,
});
export const ptr = (name: string, target: string, ttl: number): DnsRecord => ({
  name,
  type: 'PTR',
  class: 'IN',
  ttl,
  data: target,
});
export const ns = (name: string, target: string, ttl: number): DnsRecord => ({
  name,
  type: 'NS',
  class: 'IN',
  ttl,
  data: target,
});
export const txt = (name: string, text: string, ttl: number): DnsRecord => ({
  name,
  type: 'TXT',
  class: 'IN',
  ttl,
  data: [text],
});

export const srv = (
  name: string,
  v: { priority: number; weight: number; port: number; target: string },
  ttl: number,
): DnsRecord => ({
  name,
  type: 'SRV',
  class: 'IN',
  ttl,
  data: { priority: v.priority, weight: v.weight, port: v.port, target: v.target },
});

/** SOA timers as CoreDNS's kubernetes plugin sets them. */
export const SOA_REFRESH = 7200;
export const SOA_RETRY = 1800;
export const SOA_EXPIRE = 86400;
/** The SOA's own TTL is the zone TTL capped at 300 (CoreDNS plugin.SOA); its minimum is the zone TTL. */
export const SOA_MAX_TTL = 300;

/** `<zone> SOA ns.dns.<zone> hostmaster.<zone> <serial> 7200 1800 86400 <ttl>` */
export function soa(zone: string, serial: number, ttl: number): DnsRecord {
  const join = (label: string) => (zone === '' ? label : `${label}.${zone}`);
  return {
    name: zone,
    type: 'SOA',
    class: 'IN',
    ttl: Math.min(ttl, SOA_MAX_TTL),
    data: {
      mname: join('ns.dns'),
      rname: join('hostmaster'),
      serial,
      refresh: SOA_REFRESH,
      retry: SOA_RETRY,
      expire: SOA_EXPIRE,
      minimum: ttl,
    },
  };
}

/** One line per record, zone-file style (tests and `podwire` printers compare these). */
export function formatRecord(r: DnsRecord): string {
  const d = (r as { data: unknown }).data;
  let data: string;
  switch (r.type) {
    case 'SRV': {
      const s = d as { priority?: number; weight?: number; port: number; target: string };
      data = `${s.priority ?? 0} ${s.weight ?? 0} ${s.port} ${s.target}.`;
      break;
    }
    case 'SOA': {
      const s = d as {
        mname: string;
        rname: string;
        serial?: number;
        refresh?: number;
        retry?: number;
        expire?: number;
        minimum?: number;
      };
      data = `${s.mname}. ${s.rname}. ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
      break;
    }
    case 'TXT':
      data = (Array.isArray(d) ? d : [d]).map((t) => JSON.stringify(String(t))).join(' ');
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      data = `${d}.`;
      break;
    default:
      data = String(d);
  }
  return `${r.name}.\t${'ttl' in r ? r.ttl : ''}\tIN\t${r.type}\t${data}`;
}
