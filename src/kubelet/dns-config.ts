/**
 * A pod's resolver configuration, composed as the kubelet composes it
 * (pkg/kubelet/network/dns/dns.go, GetPodDNS) and written as containerd
 * writes a sandbox's resolv.conf: `search`, then one `nameserver` line per
 * server, then `options`.
 *
 *   ClusterFirst (the default)   nameserver: the cluster DNS (--cluster-dns);
 *                                search: <ns>.svc.<domain> svc.<domain> <domain>,
 *                                then the node's own search list; options ndots:5
 *   ClusterFirstWithHostNet      the same (ClusterFirst on a hostNetwork pod is Default)
 *   Default                      the node's resolver file (--resolv-conf) as it is
 *   None                         nothing but the pod's dnsConfig
 *
 * then the pod's `dnsConfig` is appended (nameservers and searches without
 * duplicates, options merged by name, the pod's winning), and the result cut
 * to what resolvers accept: 3 nameservers, 32 search domains, 2048
 * characters of search line, no domain over 253 characters.
 *
 * Pure: the node's resolver file arrives parsed (parseResolvConf).
 */
export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodDnsSpec {
  dnsPolicy?: string;
  hostNetwork?: boolean;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
}

export interface DnsSettings {
  /** --cluster-dns; empty: ClusterFirst pods fall back to Default (MissingClusterDNS) */
  clusterDns: string[];
  /** --cluster-domain; empty: no cluster search domains */
  clusterDomain: string;
  /** the node's resolver file (--resolv-conf), parsed; null when --resolv-conf is "" */
  host: DnsConfig | null;
}

/** What the kubelet tells the pod about as Warning events. */
export interface DnsWarning {
  reason: 'MissingClusterDNS' | 'DNSConfigForming';
  message: string;
}

export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const DEFAULT_DNS_OPTIONS = ['ndots:5'];

/** The three ways a pod's resolver is based (getPodDNSType). */
export type PodDnsType = 'cluster' | 'host' | 'none';

export function podDnsType(spec: PodDnsSpec): PodDnsType {
  switch (spec.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'ClusterFirst':
      return spec.hostNetwork ? 'host' : 'cluster';
    case 'Default':
      return 'host';
  }
  return 'cluster'; // the API server rejects any other policy; the kubelet falls back to ClusterFirst
}

/**
 * A resolv.conf as the kubelet reads the node's: nameservers accumulate, the
 * last `search` line wins (a trailing dot dropped), the last `options` line wins.
 */
export function parseResolvConf(text: string): DnsConfig {
  const out: DnsConfig = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/).filter(Boolean);
    if (fields[0] === 'nameserver' && fields.length >= 2) out.servers.push(fields[1]);
    if (fields[0] === 'search') out.searches = fields.slice(1).map((s) => (s.endsWith('.') ? s.slice(0, -1) : s));
    if (fields[0] === 'options') out.options = fields.slice(1);
  }
  return out;
}

export function podDnsConfig(
  namespace: string,
  spec: PodDnsSpec,
  s: DnsSettings,
): { config: DnsConfig; warnings: DnsWarning[] } {
  const warnings: DnsWarning[] = [];
  const host: DnsConfig = {
    servers: [...(s.host?.servers ?? [])],
    searches: [...(s.host?.searches ?? [])],
    options: [...(s.host?.options ?? [])],
  };
  let config: DnsConfig;
  let type = podDnsType(spec);
  if (type === 'cluster' && !s.clusterDns.length) {
    warnings.push({
      reason: 'MissingClusterDNS',
      message:
        'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
    });
    type = 'host';
  }
  if (type === 'none') config = { servers: [], searches: [], options: [] };
  else if (type === 'cluster') {
    const d = s.clusterDomain;
    const searches = d ? unique([`${namespace}.svc.${d}`, `svc.${d}`, d, ...host.searches]) : host.searches;
    config = { servers: [...s.clusterDns], searches, options: [...DEFAULT_DNS_OPTIONS] };
  } else if (s.host) config = host;
  else config = { servers: ['127.0.0.1'], searches: ['.'], options: [] }; // --resolv-conf "": the local machine's resolver
  const pod = spec.dnsConfig;
  if (pod) {
    config = {
      servers: unique([...config.servers, ...(pod.nameservers ?? [])]),
      searches: unique([...config.searches, ...(pod.searches ?? [])]),
      options: mergeDnsOptions(config.options, pod.options ?? []),
    };
  }
  return { config: fitLimits(config, warnings), warnings };
}

/**
 * Options by name, the pod's replacing the base's. (The kubelet goes
 * through a Go map, so its order varies from run to run; here an option
 * keeps the place where its name first appeared.)
 */
export function mergeDnsOptions(base: string[], pod: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const op of base) {
    const i = op.indexOf(':');
    byName.set(i === -1 ? op : op.slice(0, i), i === -1 ? '' : op.slice(i + 1));
  }
  for (const op of pod) byName.set(op.name, op.value ?? '');
  return [...byName].map(([name, value]) => (value ? `${name}:${value}` : name));
}

function fitLimits(c: DnsConfig, warnings: DnsWarning[]): DnsConfig {
  let servers = c.servers;
  if (servers.length > MAX_DNS_NAMESERVERS) {
    servers = servers.slice(0, MAX_DNS_NAMESERVERS);
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${servers.join(' ')}`,
    });
  }
  let searches = c.searches;
  let exceeded = false;
  if (searches.length > MAX_DNS_SEARCH_PATHS) {
    searches = searches.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  // some resolvers (glibc 2.28) abort() on a search domain over 255 characters
  const fit = searches.filter((d) => d.length <= DNS1123_SUBDOMAIN_MAX_LENGTH);
  if (fit.length !== searches.length) exceeded = true;
  searches = fit;
  let lineLength = searches.join(' ').length;
  if (lineLength > MAX_DNS_SEARCH_LIST_CHARS) {
    while (searches.length && lineLength > MAX_DNS_SEARCH_LIST_CHARS) {
      lineLength -= searches[searches.length - 1].length + 1;
      searches = searches.slice(0, -1);
    }
    exceeded = true;
  }
  if (exceeded)
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`,
    });
  return { servers, searches, options: c.options };
}

/** The file, as containerd writes a sandbox's resolv.conf. */
export function formatResolvConf(c: DnsConfig): string {
  let out = '';
  if (c.searches.length) out += `search ${c.searches.join(' ')}\n`;
  for (const s of c.servers) out += `nameserver ${s}\n`;
  if (c.options.length) out += `options ${c.options.join(' ')}\n`;
  return out;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
