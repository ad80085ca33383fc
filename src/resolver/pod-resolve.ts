import fs from 'node:fs';
import os from 'node:os';
import { lookupHosts, type HostsEntry } from './hosts.js';
import { parseResolverConf, type LibcFlavor, type ResolverConfig } from './resolv-conf.js';
import { resolveLikeLibc, type Resolution, type Try } from './search.js';
import { askServers } from './stub.js';

/**
 * Runs inside a pod (its mount and network namespaces: `podwire trace`
 * enters them as `podwire exec` does): resolve one name as the pod's C
 * library would — /etc/hosts first, then DNS with the pod's own
 * /etc/resolv.conf — sending every query from the pod itself.
 */
export interface PodResolveOptions {
  name: string;
  flavor?: LibcFlavor;
  /** per query and server; the pod's resolver would wait `timeout:` seconds (5), `attempts:` times (2) */
  timeoutMs?: number;
  attempts?: number;
  etc?: string;
  env?: Record<string, string | undefined>;
  onTry?: (name: string, t: Try) => void;
}

export interface PodResolveReport {
  name: string;
  resolvConf: string;
  conf: ResolverConfig;
  /** the name is in /etc/hosts: no DNS query is made */
  hosts?: HostsEntry;
  resolution?: Resolution;
  /** what podwire waited per query (the pod's resolver may wait longer) */
  timeoutMs: number;
  attempts: number;
}

const readOr = (file: string, fallback: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

export async function podResolve(o: PodResolveOptions): Promise<PodResolveReport> {
  const etc = o.etc ?? '/etc';
  const resolvConf = readOr(`${etc}/resolv.conf`, '');
  const conf = parseResolverConf(resolvConf, { flavor: o.flavor, env: o.env ?? process.env, hostname: os.hostname() });
  const timeoutMs = o.timeoutMs ?? conf.timeoutS * 1000;
  const attempts = o.attempts ?? conf.attempts;
  const report: PodResolveReport = { name: o.name, resolvConf, conf, timeoutMs, attempts };
  const hosts = lookupHosts(readOr(`${etc}/hosts`, ''), o.name.replace(/\.$/, ''));
  if (hosts) return { ...report, hosts };
  report.resolution = await resolveLikeLibc(o.name, conf, (n) =>
    askServers(n, { servers: conf.nameservers, timeoutMs, attempts, onTry: o.onTry }),
  );
  return report;
}
