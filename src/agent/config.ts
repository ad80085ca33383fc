import { parseIpv4 } from '../packet/index.js';
import { parseCidr, type Cidr } from '../dataplane/index.js';
import { checkName, checkPrefix } from '../host/index.js';
import { SCHEDULERS, type SchedulerName } from '../lb/index.js';

/** Everything an agent needs to run one node. */
export interface AgentConfig {
  node: string;
  prefix: string;
  /** null: the API server's node IPAM allocates it (agent with --apiserver) */
  podCidr: Cidr | null;
  /** the API server (http://host:port or unix:/path): pods and peers come from it; null: peers file and local pods only */
  apiserver: string | null;
  /** --kubeconfig: the agent's credentials (a node certificate) and, without --apiserver, the server */
  kubeconfig: string | null;
  /** --cluster-ca-file: the cluster CA pods get as serviceaccount/ca.crt (else the kubeconfig's); none: no tokens projected */
  clusterCaFile: string | null;
  /** the kubelet's --tls-cert-file, --tls-private-key-file, --client-ca-file: :10250 over TLS, the API server's client certificate required */
  kubeletTls: { certFile: string; keyFile: string; clientCaFile: string } | null;
  underlayIf: string;
  bridge: string;
  stateDir: string;
  peersFile: string;
  vni: number;
  vxlanPort: number;
  podMtu: number;
  /** Prometheus /metrics on the node IP (0: only on the control socket) */
  metricsPort: number;
  /** Services (only with an API server): the kube-proxy part */
  services: {
    serviceCidr: Cidr;
    clusterCidr: Cidr;
    scheduler: SchedulerName;
    proxyMode: 'hash' | 'linear';
    conntrackMax: number;
    maglevTableSize: number;
  };
  /**
   * drop pod frames whose source MAC/IP is not the pod's (spoofed-source); off
   * only to measure what it costs (`bench restart`): --anti-spoofing off, or
   * PODWIRE_ANTI_SPOOFING=off in the agent's environment
   */
  antiSpoofing: boolean;
  /** --takeover: start beside the node's running agent and take the node over from it without a gap (handover.ts) */
  takeover: boolean;
  /** the kubelet's DNS settings for the pods' resolv.conf */
  dns: {
    /** --cluster-dns (comma-separated; empty: ClusterFirst pods fall back to Default) */
    clusterDns: string[];
    clusterDomain: string;
    /** --resolv-conf: the node's resolver file, base of Default pods and of ClusterFirst's search list ("": none) */
    resolvConf: string;
  };
}

export const DEFAULTS = {
  underlayIf: 'eth0',
  bridge: 'cbr0',
  vni: 1,
  vxlanPort: 4789,
  podMtu: 1450,
  metricsPort: 9101,
  serviceCidr: '10.96.0.0/12',
  clusterCidr: '10.244.0.0/16',
  scheduler: 'random' as SchedulerName,
  conntrackMax: 131072,
  maglevTableSize: 65537,
  clusterDns: '10.96.0.10',
  clusterDomain: 'cluster.local',
  resolvConf: '/etc/resolv.conf',
};

/** A config whose pod CIDR is known (given, or allocated by the API server). */
export type NodeConfig = AgentConfig & { podCidr: Cidr };

export class AgentConfigError extends Error {
  readonly code = 'ERR_AGENT_CONFIG';
}

/** The three TLS flags go together: one without the others is a mistake, not a half-secured port. */
function kubeletTlsFlags(raw: Record<string, string | number | undefined>): AgentConfig['kubeletTls'] {
  const [cert, key, ca] = ['tls-cert-file', 'tls-private-key-file', 'client-ca-file'].map((k) =>
    raw[k] ? String(raw[k]) : null,
  );
  if (!cert && !key && !ca) return null;
  if (!cert || !key || !ca)
    throw new AgentConfigError('--tls-cert-file, --tls-private-key-file and --client-ca-file go together');
  return { certFile: cert, keyFile: key, clientCaFile: ca };
}

export function agentConfig(raw: Record<string, string | number | undefined>): AgentConfig {
  const need = (k: string): string => {
    const v = raw[k];
    if (v === undefined || v === '') throw new AgentConfigError(`--${k} is required`);
    return String(v);
  };
  const num = (k: string, def: number, min: number, max: number): number => {
    const v = raw[k] === undefined ? def : Number(raw[k]);
    if (!Number.isInteger(v) || v < min || v > max)
      throw new AgentConfigError(`--${k} must be an integer in ${min}..${max}`);
    return v;
  };
  const oneOf = <T extends string>(k: string, allowed: readonly T[], def: T): T => {
    const v = raw[k] === undefined ? def : String(raw[k]);
    if (!(allowed as readonly string[]).includes(v))
      throw new AgentConfigError(`--${k} must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  try {
    const node = checkName('node', need('node'));
    const prefix = checkPrefix(String(raw.prefix ?? 'pw'));
    const kubeconfig = raw.kubeconfig ? String(raw.kubeconfig) : null;
    const apiserver = raw.apiserver ? String(raw.apiserver) : null;
    const podCidr = (apiserver || kubeconfig) && !raw['pod-cidr'] ? null : parseCidr(need('pod-cidr'));
    if (podCidr && podCidr.prefixLen > 28) throw new AgentConfigError('--pod-cidr must be /28 or larger');
    const stateDir = String(raw['state-dir'] ?? `/var/lib/podwire/${node}`);
    return {
      node,
      prefix,
      podCidr,
      apiserver,
      kubeconfig,
      clusterCaFile: raw['cluster-ca-file'] ? String(raw['cluster-ca-file']) : null,
      kubeletTls: kubeletTlsFlags(raw),
      takeover: raw.takeover !== undefined && String(raw.takeover) !== 'false',
      antiSpoofing: oneOf('anti-spoofing', ['on', 'off'] as const, 'on') === 'on',
      underlayIf: String(raw['underlay-if'] ?? DEFAULTS.underlayIf),
      bridge: String(raw.bridge ?? DEFAULTS.bridge),
      stateDir,
      peersFile: String(raw.peers ?? `${stateDir}/peers.json`),
      vni: num('vni', DEFAULTS.vni, 0, 0xffffff),
      vxlanPort: num('vxlan-port', DEFAULTS.vxlanPort, 1, 65535),
      podMtu: num('pod-mtu', DEFAULTS.podMtu, 576, 9000),
      metricsPort: num('metrics-port', DEFAULTS.metricsPort, 0, 65535),
      services: {
        serviceCidr: parseCidr(String(raw['service-cidr'] ?? DEFAULTS.serviceCidr)),
        clusterCidr: parseCidr(String(raw['cluster-cidr'] ?? DEFAULTS.clusterCidr)),
        scheduler: oneOf('lb-scheduler', SCHEDULERS, DEFAULTS.scheduler),
        proxyMode: oneOf('proxy-mode', ['hash', 'linear'] as const, 'hash'),
        conntrackMax: num('conntrack-max', DEFAULTS.conntrackMax, 16, 1 << 24),
        maglevTableSize: num('maglev-table-size', DEFAULTS.maglevTableSize, 7, 1 << 22),
      },
      dns: {
        clusterDns: String(raw['cluster-dns'] ?? DEFAULTS.clusterDns)
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
          .map((ip) => {
            try {
              parseIpv4(ip);
            } catch {
              throw new AgentConfigError(`--cluster-dns: "${ip}" is not an IPv4 address`);
            }
            return ip;
          }),
        clusterDomain: String(raw['cluster-domain'] ?? DEFAULTS.clusterDomain).replace(/\.$/, ''),
        resolvConf: String(raw['resolv-conf'] ?? DEFAULTS.resolvConf),
      },
    };
  } catch (err) {
    if (err instanceof AgentConfigError) throw err;
    throw new AgentConfigError((err as Error).message);
  }
}

export { parseIpv4 };
