import fs from 'node:fs';
import path from 'node:path';
import { parseResolverConf } from '../resolver/index.js';
import type { PodRecord } from './pods.js';

/**
 * For `observe`'s DNS events: a local pod's search list, read from the
 * resolv.conf the kubelet wrote for it (what its resolver really uses:
 * dnsPolicy and dnsConfig included). Pods without one (made with `podwire
 * pod add`) have none. Cached a few seconds: asked once per DNS query
 * while someone observes.
 */
export function podSearchLists(
  pods: () => PodRecord[],
  etcDir: ((uid: string) => string) | null,
  ttlMs = 5000,
  clock: () => number = Date.now,
): (ip: string) => string[] | undefined {
  const cache = new Map<string, { search: string[] | undefined; atMs: number }>();
  return (ip) => {
    const now = clock();
    const hit = cache.get(ip);
    if (hit && now - hit.atMs < ttlMs) return hit.search;
    const pod = pods().find((p) => p.ip === ip);
    let search: string[] | undefined;
    if (pod?.uid && etcDir) {
      try {
        search = parseResolverConf(fs.readFileSync(path.join(etcDir(pod.uid), 'resolv.conf'), 'utf8'), {
          env: {},
        }).search;
      } catch {
        search = undefined;
      }
    }
    if (cache.size > 1024) cache.clear();
    cache.set(ip, { search, atMs: now });
    return search;
  };
}
