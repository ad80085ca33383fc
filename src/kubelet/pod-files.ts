import fs from 'node:fs';
import path from 'node:path';
import { podDnsConfig, parseResolvConf, formatResolvConf, type DnsWarning, type PodDnsSpec } from './dns-config.js';
import { podHostnameAndDomain, kernelHostname, managedHostsFile, type PodHostSpec } from './hosts-file.js';

/**
 * The files the kubelet writes per pod and every container of the pod sees
 * over its own /etc (bind mounts in the container's mount namespace; see
 * runtime.ts): resolv.conf as the sandbox's (dns-config.ts), the managed
 * hosts file, and hostname (containerd's /etc/hostname: the kernel hostname
 * and a newline).
 */
export const POD_ETC_FILES = ['resolv.conf', 'hosts', 'hostname'] as const;
export type PodEtcFile = (typeof POD_ETC_FILES)[number];

/** The agent's DNS settings: --cluster-dns, --cluster-domain, --resolv-conf ("": none). */
export interface KubeletDnsOptions {
  clusterDns: string[];
  clusterDomain: string;
  resolvConf: string;
}

export interface PodFiles {
  files: Record<PodEtcFile, string>;
  /** the container's UTS hostname: the FQDN with setHostnameAsFQDN and a subdomain */
  hostname: string;
  warnings: DnsWarning[];
}

export interface PodLike {
  metadata: { name: string; namespace?: string };
  spec: PodDnsSpec & PodHostSpec;
}

/** Pure: hostResolvConf is the text of --resolv-conf (null when it is ""). */
export function podFiles(
  pod: PodLike,
  podIps: string[],
  o: { clusterDns: string[]; clusterDomain: string; hostResolvConf: string | null },
): PodFiles {
  const ns = pod.metadata.namespace ?? 'default';
  const { hostname, domain } = podHostnameAndDomain(pod.metadata.name, ns, pod.spec, o.clusterDomain);
  const kernel = kernelHostname(hostname, domain, pod.spec.setHostnameAsFQDN);
  const host = o.hostResolvConf === null ? null : parseResolvConf(o.hostResolvConf);
  const { config, warnings } = podDnsConfig(ns, pod.spec, {
    clusterDns: o.clusterDns,
    clusterDomain: o.clusterDomain,
    host,
  });
  return {
    files: {
      'resolv.conf': formatResolvConf(config),
      hosts: managedHostsFile(podIps, hostname, domain, pod.spec.hostAliases),
      hostname: `${kernel}\n`,
    },
    hostname: kernel,
    warnings,
  };
}

/** Compose the pod's files from the agent's options, reading the node's resolver file (an unreadable one is an error, as for the kubelet). */
export function podFilesFor(pod: PodLike, podIps: string[], o: KubeletDnsOptions): PodFiles {
  const hostResolvConf = o.resolvConf === '' ? null : fs.readFileSync(o.resolvConf, 'utf8');
  return podFiles(pod, podIps, { clusterDns: o.clusterDns, clusterDomain: o.clusterDomain, hostResolvConf });
}

/**
 * Write the files into dir, each once: a file a running container has
 * bind-mounted must keep its inode (the kubelet, too, writes a pod's hosts
 * file once and never recreates it). Atomic, so a crash leaves none half-written.
 */
export function writePodFiles(dir: string, files: Record<PodEtcFile, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of POD_ETC_FILES) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) continue;
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, files[name], { mode: 0o644 });
    fs.renameSync(tmp, file);
  }
}

/** The hostname a pod's files were written with, once all of them are there (else null). */
export function readPodHostname(dir: string): string | null {
  if (!POD_ETC_FILES.every((name) => fs.existsSync(path.join(dir, name)))) return null;
  return fs.readFileSync(path.join(dir, 'hostname'), 'utf8').trim() || null;
}
