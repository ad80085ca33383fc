/**
 * The Service load balancer's schedulers: given a new flow, which backend.
 * One is built per frontend whenever its backend set changes (the agent's
 * watch), then `pick` runs once per new flow on the dataplane's hot path:
 * no allocation, no throwing. Building may throw (a bad configured Maglev
 * table size, an unknown name) — that is configuration, not traffic.
 *
 *   random  uniform, like kube-proxy's iptables chain of `statistic
 *           --probability 1/n, 1/(n−1), …, 1` rules (which is uniform)
 *   rr      round robin, one counter per scheduler (per node, as IPVS)
 *   wrr     nginx's smooth weighted round robin by Backend.weight, so a
 *           5:1:1 split goes a a b a c a a, not a a a a a b c
 *   lc      least Backend.active; ties take turns (round robin among the
 *           tied), so a burst of new flows to fresh backends is spread
 *           rather than all landing on the first one before conntrack
 *           counts it
 *   sh      IPVS-style source hashing on srcIp only, through a small
 *           Maglev table (not hash mod N): every node agrees, input order
 *           doesn't matter, and losing a backend moves only its clients
 *   maglev  table[flowHash mod M] from maglev.ts: every node agrees, and
 *           losing one of N backends moves little more than its 1/N
 *
 * Weights: wrr, sh and maglev honour Backend.weight (0 = no new flows,
 * all 0 = all equal); random, rr and lc ignore it. Explanations number
 * backends from 1 in the order the scheduler was built with.
 */

import { ipv4ToString } from '../packet/index.js';
import { hashIp } from './flow-hash.js';
import {
  buildMaglevTable,
  maglevTableSize,
  nextPrime,
  MAGLEV_MIN_SLOTS_PER_BACKEND,
  type MaglevTable,
} from './maglev.js';
import { SCHEDULERS, type Backend, type Scheduler, type SchedulerName } from './types.js';

export interface SchedulerOptions {
  /** Maglev's M (prime); default 65537, grown to ≥ 100 × N. See maglevTableSize. */
  maglevTableSize?: number;
  /** uniform in [0, 1) for `random`; inject a seeded one in tests. Default Math.random. */
  random?: () => number;
}

/**
 * sh's table size: a prime ≥ 100 × N keeps shares within 1% like maglev's,
 * but 4093 one-byte slots rather than 65537, since only client addresses
 * (not whole 5-tuples) are spread over it.
 */
export const SH_TABLE_SIZE = 4093;

export class SchedulerError extends Error {
  override readonly name = 'SchedulerError';
  readonly code = 'ERR_UNKNOWN_SCHEDULER';
}

/**
 * A scheduler for `backends` (kept by reference: lc reads `active`, which
 * conntrack updates). With no backends, pick returns −1 (callers drop
 * before asking). Throws SchedulerError for an unknown name and
 * MaglevError for a non-prime opts.maglevTableSize.
 */
export function createScheduler(
  name: SchedulerName,
  backends: readonly Backend[],
  opts: SchedulerOptions = {},
): Scheduler {
  switch (name) {
    case 'random':
      return randomScheduler(backends, opts.random ?? Math.random);
    case 'rr':
      return rrScheduler(backends);
    case 'wrr':
      return wrrScheduler(backends);
    case 'lc':
      return lcScheduler(backends);
    case 'sh':
      return shScheduler(backends);
    case 'maglev':
      return maglevScheduler(backends, opts.maglevTableSize);
    default:
      throw new SchedulerError(`unknown scheduler ${JSON.stringify(name)} (expected one of ${SCHEDULERS.join(', ')})`);
  }
}

/** "backend 2 of 3" — 1-based, for people. */
function which(index: number, n: number): string {
  return `backend ${index + 1} of ${n}`;
}

function randomScheduler(backends: readonly Backend[], random: () => number): Scheduler {
  const n = backends.length;
  return {
    name: 'random',
    // min() guards an injected random that returns 1.
    pick: () => (n === 0 ? -1 : Math.min(n - 1, Math.floor(random() * n))),
    explain: (_h, _s, index) => `random: ${which(index, n)}, uniformly (1/${n} each)`,
  };
}

function rrScheduler(backends: readonly Backend[]): Scheduler {
  const n = backends.length;
  let turn = 0;
  return {
    name: 'rr',
    pick() {
      if (n === 0) return -1;
      return turn++ % n;
    },
    explain: (_h, _s, index) => `rr: turn ${turn} → ${which(index, n)}`,
  };
}

/**
 * nginx's smooth WRR: each pick, every backend's `current` grows by its
 * weight, the largest (first on a tie) wins and pays back the total.
 * Over any W = Σweight consecutive picks each backend is chosen exactly
 * `weight` times, interleaved as evenly as the weights allow.
 */
function wrrScheduler(backends: readonly Backend[]): Scheduler {
  const n = backends.length;
  const weight = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = backends[i].weight;
    weight[i] = Number.isFinite(w) && w > 0 ? w : 0;
    total += weight[i];
  }
  if (total === 0) {
    weight.fill(1);
    total = n;
  }
  const current = new Float64Array(n);
  return {
    name: 'wrr',
    pick() {
      let best = -1;
      for (let i = 0; i < n; i++) {
        current[i] += weight[i];
        if (best < 0 || current[i] > current[best]) best = i;
      }
      if (best >= 0) current[best] -= total;
      return best;
    },
    explain: (_h, _s, index) => `wrr: ${which(index, n)}, weight ${weight[index]} of ${total} (smooth round robin)`,
  };
}

function lcScheduler(backends: readonly Backend[]): Scheduler {
  const n = backends.length;
  let last = n - 1; // so the first scan starts at 0
  let lastActive = 0;
  return {
    name: 'lc',
    pick() {
      if (n === 0) return -1;
      // Scan from the one after the previous pick; strict < keeps the first
      // minimum in that order, which rotates among ties.
      let best = (last + 1) % n;
      for (let k = 1, i = (best + 1) % n; k < n; k++, i = i + 1 === n ? 0 : i + 1) {
        if (backends[i].active < backends[best].active) best = i;
      }
      last = best;
      lastActive = backends[best].active;
      return best;
    },
    explain(_h, _s, index) {
      // conntrack may have counted the new flow since the pick: report what pick saw.
      const active = index === last ? lastActive : backends[index].active;
      return `lc: ${which(index, n)} had ${active} active connection${active === 1 ? '' : 's'} (least of ${n})`;
    },
  };
}

/** A Maglev table, or none when there is nothing to choose between (memory: many 1-backend Services). */
function tableFor(backends: readonly Backend[], m: number): MaglevTable | null {
  return backends.length > 1 ? buildMaglevTable(backends, m) : null;
}

function shScheduler(backends: readonly Backend[]): Scheduler {
  const n = backends.length;
  const m = Math.max(SH_TABLE_SIZE, nextPrime(MAGLEV_MIN_SLOTS_PER_BACKEND * n));
  const table = tableFor(backends, m);
  const slot = (srcIp: number) => hashIp(srcIp) % m;
  return {
    name: 'sh',
    pick: (_h, srcIp) => (n === 0 ? -1 : table === null ? 0 : table[slot(srcIp)]),
    explain: (_h, srcIp, index) =>
      `sh: source ${ipv4ToString(srcIp)} hashes to slot ${slot(srcIp)} of ${m} → ${which(index, n)}`,
  };
}

function maglevScheduler(backends: readonly Backend[], configured: number | undefined): Scheduler {
  const n = backends.length;
  const m = maglevTableSize(n, configured);
  const table = tableFor(backends, m);
  const slot = (flowHash: number) => (flowHash >>> 0) % m;
  return {
    name: 'maglev',
    pick: (flowHash) => (n === 0 ? -1 : table === null ? 0 : table[slot(flowHash)]),
    explain: (flowHash, _s, index) => `maglev: slot ${slot(flowHash)} of ${m} → ${which(index, n)}`,
  };
}
