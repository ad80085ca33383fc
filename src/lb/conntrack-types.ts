/**
 * The connection-tracking table's vocabulary (conntrack.ts): its options
 * (with their defaults and checks), counters, display rows and its one
 * error class.
 */
import { DEFAULT_TIMEOUTS, type ConntrackTimeouts } from './tcp-state.js';

export type ConntrackErrorCode =
  'ERR_BAD_OPTIONS' | 'ERR_BAD_TUPLE' | 'ERR_TUPLE_EXISTS' | 'ERR_NO_ENTRY' | 'ERR_BAD_SNAPSHOT';

export class ConntrackError extends Error {
  override readonly name = 'ConntrackError';
  constructor(
    readonly code: ConntrackErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ConntrackOptions {
  /** default 131072, kube-proxy's --conntrack-min */
  maxEntries?: number;
  /** records allocated up front (default 256); doubles up to maxEntries */
  initialEntries?: number;
  /** ms, monotonic; default performance.now */
  clock?: () => number;
  timeouts?: Partial<ConntrackTimeouts>;
  onRemoved?: (owner: number, flags: number) => void;
  /** default random per table, as Linux's nf_conntrack_hash_rnd: clients choose ports, so a fixed hash could be flooded with collisions */
  hashSeed?: number;
  /** slots create() examines for expired entries when the table is full (default 1024) */
  reclaimBudget?: number;
}

export interface ConntrackStats {
  created: number; // incl. restored
  removed: number; // remove() and removeWhere()
  expired: number; // timed out (lookup, sweep, reclaim)
  insertFailed: number; // create() on a full table
  lookups: number;
  found: number;
  /** index slots probed by lookups (searched / lookups = mean probe length) */
  searched: number;
}

export interface ConntrackTuple {
  src: number;
  sport: number;
  dst: number;
  dport: number;
}
export interface ConntrackRow {
  entry: number;
  proto: number;
  orig: ConntrackTuple;
  reply: ConntrackTuple;
  state: string;
  secondsLeft: number;
  ageSeconds: number;
  origPackets: number;
  origBytes: number;
  replyPackets: number;
  replyBytes: number;
  owner: number;
  flags: number;
}

export const DEFAULT_MAX_ENTRIES = 131072;
/** a 1 Hz sweep covers a full default table in 8 s, ~100 µs per call */
export const DEFAULT_SWEEP_BUDGET = 16384;
const MAX_ENTRIES_LIMIT = 1 << 24; // entry << 4 (record word offsets) must stay within int32

export type ResolvedOptions = Required<Omit<ConntrackOptions, 'onRemoved' | 'timeouts'>> &
  Pick<ConntrackOptions, 'onRemoved'> & { timeouts: ConntrackTimeouts };

/** Options with defaults filled in; throws ERR_BAD_OPTIONS. initialEntries is capped at maxEntries. */
export function resolveOptions(opts: ConntrackOptions): ResolvedOptions {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!isInt(maxEntries, 1, MAX_ENTRIES_LIMIT))
    throw new ConntrackError('ERR_BAD_OPTIONS', `maxEntries must be 1..${MAX_ENTRIES_LIMIT}`);
  const initialEntries = Math.min(opts.initialEntries ?? 256, maxEntries);
  if (!isInt(initialEntries, 1, maxEntries)) throw new ConntrackError('ERR_BAD_OPTIONS', 'initialEntries must be ≥ 1');
  const reclaimBudget = opts.reclaimBudget ?? 1024;
  if (!isInt(reclaimBudget, 1, Infinity)) throw new ConntrackError('ERR_BAD_OPTIONS', 'reclaimBudget must be ≥ 1');
  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  for (const [k, v] of Object.entries(timeouts)) {
    if (!(typeof v === 'number' && v > 0 && Number.isFinite(v)))
      throw new ConntrackError('ERR_BAD_OPTIONS', `timeouts.${k} must be > 0 ms`);
  }
  return {
    maxEntries,
    initialEntries,
    reclaimBudget,
    timeouts,
    clock: opts.clock ?? (() => performance.now()),
    onRemoved: opts.onRemoved,
    hashSeed: (opts.hashSeed ?? Math.random() * 0x1_0000_0000) | 0,
  };
}

export function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
