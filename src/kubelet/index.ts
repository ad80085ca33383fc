/** The kubelet's public entry. */
export { launchFor, parseImage, MAX_WORKLOAD_PORTS } from './images.js';
export type { ContainerSpecLite, ContainerPortLite, ContainerLaunch, WorkloadTools, ImageRef } from './images.js';
export {
  podDnsConfig,
  podDnsType,
  parseResolvConf,
  formatResolvConf,
  mergeDnsOptions,
  MAX_DNS_NAMESERVERS,
  MAX_DNS_SEARCH_PATHS,
  MAX_DNS_SEARCH_LIST_CHARS,
} from './dns-config.js';
export type { DnsConfig, DnsSettings, DnsWarning, PodDnsSpec, PodDnsType } from './dns-config.js';
export {
  podHostnameAndDomain,
  kernelHostname,
  managedHostsFile,
  PodHostnameError,
  MANAGED_HOSTS_HEADER,
} from './hosts-file.js';
export { podFiles, POD_ETC_FILES, type PodFiles, type KubeletDnsOptions } from './pod-files.js';
export { execProbeArgv } from './probes.js';
export { apiPodKey, type PodRecord, type PodSandboxes } from './sandbox.js';
export { WORKLOAD_BIN } from './tools.js';
// the kubelet itself and what the agent serves of it (:10250 logs, stats, exec/attach/port-forward streams)
export { Kubelet } from './kubelet.js';
export { startLogServer } from './log-server.js';
export { runningContainers, statsSummary } from './metrics-stats.js';
export { kubeletStreams, streamHooks } from './streams/kubelet-streams.js';
export { portForwardUpgrade } from './streams/portforward-upgrade.js';
export { workloadTools } from './tools.js';
