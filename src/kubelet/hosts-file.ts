/**
 * A pod's name for itself, as the kubelet gives it: the hostname
 * (spec.hostname or the pod's name, cut to 63 characters), the domain when
 * the pod has a subdomain (<subdomain>.<ns>.svc.<cluster domain>, what a
 * headless Service of that name answers for), the kernel hostname (the FQDN
 * with setHostnameAsFQDN), and the managed /etc/hosts
 * (pkg/kubelet/kubelet_pods.go, managedHostsFileContent). Pure.
 */
export class PodHostnameError extends Error {
  readonly code = 'ERR_POD_HOSTNAME';
}

export interface PodHostSpec {
  hostname?: string;
  subdomain?: string;
  setHostnameAsFQDN?: boolean;
  hostAliases?: { ip: string; hostnames?: string[] }[];
}

export const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
const HOSTNAME_MAX_LENGTH = 63;
/** the kernel's nodename: 64 characters (65 bytes with the NUL) */
const FQDN_MAX_LENGTH = 64;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkLabel(what: string, v: string): void {
  if (v.length > 63 || !DNS1123_LABEL.test(v))
    throw new PodHostnameError(
      `pod ${what} "${v}" is not a valid DNS label: a lowercase RFC 1123 label of at most 63 characters`,
    );
}

/** GeneratePodHostNameAndDomain: hostname and (with a subdomain) domain. */
export function podHostnameAndDomain(
  name: string,
  namespace: string,
  spec: PodHostSpec,
  clusterDomain: string,
): { hostname: string; domain: string } {
  let hostname = name;
  if (spec.hostname) {
    checkLabel('Hostname', spec.hostname);
    hostname = spec.hostname;
  }
  if (hostname.length > HOSTNAME_MAX_LENGTH) {
    // a pod's name may be a 253-character subdomain; a hostname may not, nor end in - or .
    hostname = hostname.slice(0, HOSTNAME_MAX_LENGTH).replace(/[-.]+$/, '');
    if (!hostname) throw new PodHostnameError(`hostname for pod "${name}" was invalid`);
  }
  let domain = '';
  if (spec.subdomain) {
    checkLabel('Subdomain', spec.subdomain);
    domain = `${spec.subdomain}.${namespace}.svc.${clusterDomain}`;
  }
  return { hostname, domain };
}

/** GetNodenameForKernel: the FQDN when asked for and there is a domain, else the hostname. */
export function kernelHostname(hostname: string, domain: string, setHostnameAsFQDN: boolean | undefined): string {
  if (!domain || !setHostnameAsFQDN) return hostname;
  const fqdn = `${hostname}.${domain}`;
  if (fqdn.length > FQDN_MAX_LENGTH) {
    throw new PodHostnameError(
      `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (${FQDN_MAX_LENGTH} characters is the max, ${fqdn.length} characters requested)`,
    );
  }
  return fqdn;
}

/** The kubelet's managed /etc/hosts of a pod (not on the host network). */
export function managedHostsFile(
  podIps: string[],
  hostname: string,
  domain: string,
  hostAliases: PodHostSpec['hostAliases'] = [],
): string {
  let out = MANAGED_HOSTS_HEADER;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIps) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  if (hostAliases.length) {
    out += '\n# Entries added by HostAliases.\n';
    for (const a of hostAliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  }
  return out;
}
