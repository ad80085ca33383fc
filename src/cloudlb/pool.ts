import { parseIpv4, ipv4ToString } from '../packet/index.js';
import { CloudLbError } from './errors.js';

/**
 * EXTERNAL-IP allocation, as a cloud's service controller does it for
 * Services of type LoadBalancer — pure: a snapshot of Services in, the
 * assignment of every one of them out (Flannel style: the runner diffs it
 * against what the Services' status says and writes the difference).
 *
 * Rules, in this order:
 *  1. keep: a Service whose status already holds a pool address keeps it
 *     (so assignments survive a restart of the load balancer: they are read
 *     back from the API), unless spec.loadBalancerIP asks for another;
 *  2. requested: spec.loadBalancerIP is honoured when it is in the pool and
 *     free, else the Service stays <pending> with a reason;
 *  3. the rest get the lowest free address, oldest Service first.
 */
export interface IpRange {
  first: number;
  last: number;
}

/** "172.28.0.240-172.28.0.254", or one address, or a CIDR "172.28.0.240/28" (network and broadcast left out). */
export function parsePool(spec: string): IpRange {
  try {
    const dash = spec.indexOf('-');
    if (dash > 0) {
      const first = parseIpv4(spec.slice(0, dash).trim());
      const last = parseIpv4(spec.slice(dash + 1).trim());
      if (last < first) throw new CloudLbError('ERR_BAD_POOL', 'the range ends before it starts');
      return { first, last };
    }
    const slash = spec.indexOf('/');
    if (slash > 0) {
      const len = Number(spec.slice(slash + 1));
      if (!Number.isInteger(len) || len < 8 || len > 32)
        throw new CloudLbError('ERR_BAD_POOL', 'prefix length must be 8..32');
      const base = parseIpv4(spec.slice(0, slash));
      const size = 2 ** (32 - len);
      const net = base - (base % size);
      return len >= 31 ? { first: net, last: net + size - 1 } : { first: net + 1, last: net + size - 2 };
    }
    const one = parseIpv4(spec.trim());
    return { first: one, last: one };
  } catch (cause) {
    throw new CloudLbError(
      'ERR_BAD_POOL',
      `--pool must be first-last, an address or a CIDR (got "${spec}"): ${(cause as Error).message}`,
      { cause },
    );
  }
}

export const poolSize = (p: IpRange) => p.last - p.first + 1;
export const formatPool = (p: IpRange) =>
  p.first === p.last ? ipv4ToString(p.first) : `${ipv4ToString(p.first)}-${ipv4ToString(p.last)}`;

export function inPool(p: IpRange, ip: string): boolean {
  let n: number;
  try {
    n = parseIpv4(ip);
  } catch {
    return false;
  }
  return n >= p.first && n <= p.last;
}

/** What the allocator needs to know of one Service. */
export interface LbServiceView {
  /** namespace/name */
  key: string;
  /** metadata.creationTimestamp: older Services choose first */
  created: string;
  /** type LoadBalancer and ours to serve (no other loadBalancerClass) */
  wantsLb: boolean;
  /** spec.loadBalancerIP */
  requestedIp?: string;
  /** the IPs status.loadBalancer.ingress holds now */
  currentIps: string[];
}

export interface AssignmentProblem {
  reason: 'LoadBalancerIPNotInPool' | 'LoadBalancerIPInUse' | 'PoolExhausted';
  message: string;
}

export interface Assignment {
  ip: string | null;
  problem?: AssignmentProblem;
}

/** The assignment of every Service that wants a load balancer (others are absent: they hold nothing). */
export function planAssignments(services: readonly LbServiceView[], pool: IpRange): Map<string, Assignment> {
  const wanting = services
    .filter((s) => s.wantsLb)
    .sort((a, b) =>
      a.created < b.created ? -1 : a.created > b.created ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
    );
  const out = new Map<string, Assignment>();
  const holder = new Map<string, string>();
  const take = (s: LbServiceView, ip: string) => {
    holder.set(ip, s.key);
    out.set(s.key, { ip });
  };
  // 1. keep
  for (const s of wanting) {
    const kept = s.currentIps.find(
      (ip) => inPool(pool, ip) && !holder.has(ip) && (!s.requestedIp || s.requestedIp === ip),
    );
    if (kept) take(s, kept);
  }
  // 2. requested
  for (const s of wanting) {
    if (out.has(s.key) || !s.requestedIp) continue;
    const ip = s.requestedIp;
    if (!inPool(pool, ip)) {
      out.set(s.key, {
        ip: null,
        problem: {
          reason: 'LoadBalancerIPNotInPool',
          message: `spec.loadBalancerIP ${ip} is not in the pool ${formatPool(pool)}`,
        },
      });
    } else if (holder.has(ip)) {
      out.set(s.key, {
        ip: null,
        problem: {
          reason: 'LoadBalancerIPInUse',
          message: `spec.loadBalancerIP ${ip} is in use by Service ${holder.get(ip)}`,
        },
      });
    } else take(s, ip);
  }
  // 3. the lowest free address
  let next = pool.first;
  for (const s of wanting) {
    if (out.has(s.key)) continue;
    while (next <= pool.last && holder.has(ipv4ToString(next))) next++;
    if (next > pool.last) {
      out.set(s.key, {
        ip: null,
        problem: {
          reason: 'PoolExhausted',
          message: `all ${poolSize(pool)} addresses of ${formatPool(pool)} are in use`,
        },
      });
      continue;
    }
    take(s, ipv4ToString(next));
  }
  return out;
}
