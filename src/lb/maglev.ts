/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
 * Software Network Load Balancer", NSDI 2016, §3.4), shaped like Cilium's
 * pkg/maglev: pure functions named after the paper.
 *
 *   permutation  each backend's preference list over the M table slots,
 *                kept as (offset, skip): slot j = (offset + j·skip) mod M
 *   populate     Algorithm 1: backends take turns claiming their next
 *                preferred free slot until the lookup table is full
 *
 * A new flow goes to table[flowHash mod M]. Every node must build the same
 * table from the same backend set, so buildMaglevTable sorts the backends
 * by their identity ("ip:port") before populating; input order never
 * matters. Table entries are indices into the caller's (unsorted) array.
 *
 * M is prime (so every skip is coprime with M and each preference list
 * visits every slot) and at least 100 × N, which keeps every backend's
 * share within 1% of M/N (the paper's recommendation).
 */

import { ipv4ToString } from '../packet/index.js';
import { hashString } from './flow-hash.js';

export const MAGLEV_DEFAULT_TABLE_SIZE = 65537;
/** M ≥ this × N: each backend's share is then within 1% of M/N (one slot in 100). */
export const MAGLEV_MIN_SLOTS_PER_BACKEND = 100;

/** h1 and h2 of the paper: two independent hashes of the backend's name. */
const OFFSET_SEED = 0x6a09e667;
const SKIP_SEED = 0xbb67ae85;

export class MaglevError extends Error {
  override readonly name = 'MaglevError';
  readonly code = 'ERR_MAGLEV_TABLE_SIZE';
}

/** slot → backend index. The narrowest type that holds N indices plus the "empty" marker (its all-ones value). */
export type MaglevTable = Uint8Array | Uint16Array | Uint32Array;

/** A backend's preference list over M slots: slot j = (offset + j·skip) mod M. */
export interface MaglevPermutation {
  readonly offset: number;
  readonly skip: number;
}

/** What the table builder needs of a Backend (types.ts's Backend fits). */
export interface MaglevBackend {
  readonly ip: number;
  readonly port: number;
  /** share relative to the others; 0 = no slots; all 0 = all equal. Default 1. */
  readonly weight?: number;
}

export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The smallest prime ≥ n. */
export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}

/**
 * The table size for N backends. Without `configured`: 65537 (Cilium's
 * default), unless 100 × N is larger, then the smallest prime ≥ 100 × N.
 * A configured size must be prime (a typo in configuration is an error:
 * MaglevError); if it is too small for today's N it grows the same way,
 * because a Service gaining endpoints must never make a rebuild fail.
 * Every node computes the same M from the same N and configuration.
 */
export function maglevTableSize(nBackends: number, configured?: number): number {
  if (configured !== undefined && !isPrime(configured)) {
    throw new MaglevError(`Maglev table size must be prime, got ${configured}`);
  }
  const size = configured ?? MAGLEV_DEFAULT_TABLE_SIZE;
  const least = MAGLEV_MIN_SLOTS_PER_BACKEND * nBackends;
  return size >= least ? size : nextPrime(least);
}

/** "10.244.1.5:8080": what a backend is called for sorting and hashing. */
export function backendIdentity(b: { readonly ip: number; readonly port: number }): string {
  return `${ipv4ToString(b.ip)}:${b.port}`;
}

/** offset = h1(name) mod M, skip = h2(name) mod (M − 1) + 1 (paper §3.4). */
export function permutation(name: string, m: number): MaglevPermutation {
  return {
    offset: hashString(name, OFFSET_SEED) % m,
    skip: (hashString(name, SKIP_SEED) % (m - 1)) + 1,
  };
}

function checkSize(m: number, n: number, minPerBackend: number): void {
  if (!isPrime(m)) throw new MaglevError(`Maglev table size must be prime, got ${m}`);
  if (m < minPerBackend * n) {
    throw new MaglevError(`Maglev table size ${m} is below ${minPerBackend} × ${n} backends`);
  }
}

function emptyTable(n: number, m: number): MaglevTable {
  // n < 0xff leaves 0xff free to mark empty slots, and so on.
  const table = n < 0xff ? new Uint8Array(m) : n < 0xffff ? new Uint16Array(m) : new Uint32Array(m);
  return table.fill(n < 0xff ? 0xff : n < 0xffff ? 0xffff : 0xffffffff);
}

/**
 * Algorithm 1 of the paper: each round, every backend in turn claims the
 * next slot of its permutation that is still free, until all M are taken.
 * Weights (as Cilium does): a backend earns `weight` credits per round and
 * claims one slot per `max weight` credits, so with equal weights this is
 * exactly the paper's loop and each backend ends with ⌊M/N⌋ or ⌈M/N⌉ slots;
 * otherwise slots split in proportion to weight. Entries are positions in
 * `perms`. M must be prime and ≥ N (the paper's own example uses M = 7, N = 3;
 * buildMaglevTable insists on the 100 × N that balance needs).
 */
export function populate(perms: readonly MaglevPermutation[], m: number, weights?: readonly number[]): MaglevTable {
  const n = perms.length;
  checkSize(m, n, 1);
  const table = emptyTable(n, m);
  if (n === 0) return table;
  const empty = table[0];
  const w = normalisedWeights(n, weights);
  let wMax = 0;
  for (let i = 0; i < n; i++) wMax = Math.max(wMax, w[i]);
  const next = new Float64Array(n); // each backend's next preferred slot
  const credit = new Float64Array(n);
  for (let i = 0; i < n; i++) next[i] = perms[i].offset;
  let filled = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      credit[i] += w[i];
      if (credit[i] < wMax) continue;
      credit[i] -= wMax;
      const skip = perms[i].skip;
      let c = next[i];
      while (table[c] !== empty) c = c + skip < m ? c + skip : c + skip - m;
      table[c] = i;
      next[i] = c + skip < m ? c + skip : c + skip - m;
      if (++filled === m) return table;
    }
  }
}

/** Non-negative integers (IPVS-style): fractions round, but never a positive one to 0; all zero = all equal. */
function normalisedWeights(n: number, weights?: readonly number[]): Float64Array {
  const w = new Float64Array(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    const x = weights === undefined ? 1 : weights[i];
    w[i] = Number.isFinite(x) && x > 0 ? Math.max(1, Math.round(x)) : 0;
    any ||= w[i] > 0;
  }
  if (!any) w.fill(1);
  return w;
}

/**
 * The lookup table for `backends`, identical on every node for the same
 * set whatever its order: sort by identity, populate, then translate sorted
 * positions back to indices into `backends`. Throws MaglevError unless M is
 * prime and ≥ 100 × N. Backends with the same identity are interchangeable;
 * between them input order decides.
 */
export function buildMaglevTable(
  backends: readonly MaglevBackend[],
  m: number = MAGLEV_DEFAULT_TABLE_SIZE,
): MaglevTable {
  checkSize(m, backends.length, MAGLEV_MIN_SLOTS_PER_BACKEND);
  const ids = backends.map(backendIdentity);
  // Code-unit comparison, not localeCompare: the order must not depend on the node's locale.
  const order = ids.map((_, i) => i).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : a - b));
  const table = populate(
    order.map((i) => permutation(ids[i], m)),
    m,
    order.map((i) => backends[i].weight ?? 1),
  );
  for (let s = 0; s < m; s++) table[s] = order[table[s]];
  return table;
}
